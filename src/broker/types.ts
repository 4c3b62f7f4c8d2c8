// How a delivery reaches a user's devices. The engine decides who gets what, in what order (NTF-2, NTF-6);
// the broker only carries it to wherever the devices are connected: this process (memory) or any node
// that shares the broker (e.g. Redis pub/sub). One broker preserves the order of publishes per user.
import type { ClientEvent } from '../events';

/** How the engine reaches the devices of this process: one user (or one device), or many users at once. */
export interface LocalDelivery {
  one(userID: string, event: ClientEvent, seq: number, deviceId?: string): void;
  many(userIDs: readonly string[], event: ClientEvent, seq: number): void;
  /** The users this engine owns (its `owns` option; absent: all): only it holds their devices and records. */
  owns?(userID: string): boolean;
  /** A message from another engine about a user this one owns (src/engine/shard.ts: edges and reads). */
  peer?(message: PeerMessage): unknown;
}

/**
 * What one engine asks of the owner of a user (src/engine/shard.ts). `mirror` is a command: the owner records
 * the edges another engine's user made to its users (subscriptions, friend lists); the others are reads.
 */
export type PeerMessage =
  | { type: 'mirror'; edge: 'subscription' | 'friend'; userID: string; target: string; added: boolean }
  | { type: 'hasUser'; userID: string }
  | { type: 'statusOf'; userID: string; viewer: string }
  | { type: 'mayHear'; userID: string; viewer: string };

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
  /**
   * Hands a message to the engine that owns `userID` and returns its answer (engines side by side, each owning
   * part of the users). In one process it is a call; across processes it is the cluster's forwarded call (not
   * wired yet: docs/cluster.md). A broker without it serves engines that each own every user.
   */
  toOwner?(userID: string, message: PeerMessage): unknown;
  close(): Promise<void>;
}
