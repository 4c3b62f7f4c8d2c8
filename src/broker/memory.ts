// The in-process broker: a publish is a direct, synchronous call, so deliveries keep the engine's order.
import type { ClientEvent } from '../events';
import type { Broker, LocalDelivery } from './types';

export class MemoryBroker implements Broker {
  readonly kind = 'memory';
  private local: LocalDelivery = { one() {}, many() {} };

  publish(userID: string, event: ClientEvent, seq: number, deviceId?: string): void {
    this.local.one(userID, event, seq, deviceId);
  }
  publishMany(userIDs: readonly string[], event: ClientEvent, seq: number): void {
    this.local.many(userIDs, event, seq);
  }
  attach(local: LocalDelivery): void {
    this.local = local;
  }
  async close(): Promise<void> {}
}
