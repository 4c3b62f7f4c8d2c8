// How a delivery reaches a user's devices. The engine decides who gets what, in what order (NTF-2, NTF-6);
// the broker only carries it to wherever the devices are connected: this process (memory) or any node
// that shares the broker (e.g. Redis pub/sub). One broker preserves the order of publishes per user.
import type { ClientEvent } from '../events';

/** How the engine reaches the devices of this process: one user (or one device), or many users at once. */
export interface LocalDelivery {
  one(userID: string, event: ClientEvent, seq: number, deviceId?: string): void;
  many(userIDs: readonly string[], event: ClientEvent, seq: number): void;
}

export interface Broker {
  readonly kind: string;
  /** Deliver to every connected device of `userID`, or only to `deviceId`; `seq` orders it (EXT-2). */
  publish(userID: string, event: ClientEvent, seq: number, deviceId?: string): void;
  /** The same event to every connected device of each user, in this order (one change's fan-out). */
  publishMany(userIDs: readonly string[], event: ClientEvent, seq: number): void;
  /** The engine says how to reach the devices connected to this process. */
  attach(deliverLocal: LocalDelivery): void;
  close(): Promise<void>;
}
