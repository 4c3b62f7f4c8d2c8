// The in-process broker: a publish is a direct, synchronous call, so deliveries keep the engine's order.
// Several engines may share one (engines side by side in a process, each with its own users and sequence):
// a publish reaches the devices of every attached engine that owns the user, each delivering to the sessions
// it holds, and a peer message reaches the user's owner.
import { ErrorCode, StatusError } from '../errors';
import type { ClientEvent } from '../events';
import type { Broker, LocalDelivery, PeerMessage } from './types';

export class MemoryBroker implements Broker {
  readonly kind = 'memory';
  private locals: readonly LocalDelivery[] = [];

  publish(userID: string, event: ClientEvent, seq: number, deviceId?: string): void {
    const locals = this.locals;
    for (let i = 0; i < locals.length; i++) {
      const l = locals[i] as LocalDelivery;
      if (l.owns === undefined || l.owns(userID)) l.one(userID, event, seq, deviceId);
    }
  }
  publishMany(userIDs: readonly string[], event: ClientEvent, seq: number): void {
    const locals = this.locals;
    for (let i = 0; i < locals.length; i++) {
      const l = locals[i] as LocalDelivery;
      // An engine that owns part of the users hears only its part (it holds no devices of the others).
      l.many(l.owns === undefined ? userIDs : userIDs.filter((u) => (l.owns as (u: string) => boolean)(u)), event, seq);
    }
  }
  toOwner(userID: string, message: PeerMessage): unknown {
    for (const l of this.locals) if (l.peer !== undefined && l.owns?.(userID) === true) return l.peer(message);
    throw new StatusError(ErrorCode.NOT_OWNER, `no engine on this broker owns user '${userID}'`, { param: 'userID' });
  }
  attach(local: LocalDelivery): () => void {
    this.locals = [...this.locals, local];
    return () => {
      this.locals = this.locals.filter((l) => l !== local);
    };
  }
  async close(): Promise<void> {}
}
