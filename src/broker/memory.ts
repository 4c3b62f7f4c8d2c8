// The in-process broker: a publish is a direct, synchronous call, so deliveries keep the engine's order.
import type { ClientEvent } from '../events';
import type { Broker, LocalDelivery } from './types';

export class MemoryBroker implements Broker {
  readonly kind = 'memory';
  private deliver: LocalDelivery = () => {};

  publish(userID: string, event: ClientEvent, seq: number, deviceId?: string): void {
    this.deliver(userID, event, seq, deviceId);
  }
  attach(deliverLocal: LocalDelivery): void {
    this.deliver = deliverLocal;
  }
  async close(): Promise<void> {}
}
