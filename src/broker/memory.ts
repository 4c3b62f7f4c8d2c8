// The in-process broker: a publish is a direct, synchronous call, so deliveries keep the engine's order.
// Several engines may share one (engines side by side in a process, each with its own users and sequence):
// a publish reaches the devices of every attached engine, each delivering to the sessions it holds.
import type { ClientEvent } from '../events';
import type { Broker, LocalDelivery } from './types';

export class MemoryBroker implements Broker {
  readonly kind = 'memory';
  private locals: readonly LocalDelivery[] = [];

  publish(userID: string, event: ClientEvent, seq: number, deviceId?: string): void {
    const locals = this.locals;
    for (let i = 0; i < locals.length; i++) (locals[i] as LocalDelivery).one(userID, event, seq, deviceId);
  }
  publishMany(userIDs: readonly string[], event: ClientEvent, seq: number): void {
    const locals = this.locals;
    for (let i = 0; i < locals.length; i++) (locals[i] as LocalDelivery).many(userIDs, event, seq);
  }
  attach(local: LocalDelivery): () => void {
    this.locals = [...this.locals, local];
    return () => {
      this.locals = this.locals.filter((l) => l !== local);
    };
  }
  async close(): Promise<void> {}
}
