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
  /**
   * An engine says how to reach the devices it holds. Several engines may attach to one broker; an engine
   * that closes calls the returned function (when there is one) to stop hearing.
   */
  attach(deliverLocal: LocalDelivery): void | (() => void);
  close(): Promise<void>;
}
