// How a delivery reaches a user's devices. The engine decides who gets what, in what order (NTF-2, NTF-6);
// the broker only carries it to wherever the devices are connected: this process (memory) or any node
// that shares the broker (e.g. Redis pub/sub). One broker preserves the order of publishes per user.
import type { ClientEvent } from '../events';

export type LocalDelivery = (userID: string, event: ClientEvent, seq: number, deviceId?: string) => void;

export interface Broker {
  readonly kind: string;
  /** Deliver to every connected device of `userID`, or only to `deviceId`; `seq` orders it (EXT-2). */
  publish(userID: string, event: ClientEvent, seq: number, deviceId?: string): void;
  /** The engine says how to reach the devices connected to this process. */
  attach(deliverLocal: LocalDelivery): void;
  close(): Promise<void>;
}
