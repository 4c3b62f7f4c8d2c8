// The four seams of the cluster layer. Each has an in-memory implementation (memory.ts) and a Redis one
// (redis/*.ts), and both pass one contract suite (test/cluster/contract.ts). Times are the injected clock's.

/** The right to write a shard, and the fencing token every write carries. */
export interface LeaseGrant {
  shard: number;
  node: string;
  /** Strictly increasing per shard for as long as the shard's data lives (a Redis INCR). */
  token: number;
  expiresAt: number;
}
export interface LeaseHolder {
  node: string;
  token: number;
  expiresAt: number;
}
export type AcquireResult = { ok: true; grant: LeaseGrant } | { ok: false; holder: LeaseHolder };

export interface Lease {
  readonly ttlMs: number;
  /** Takes the shard if nobody holds it or the holder's lease ran out (new token); the holder itself gets
   * its lease extended with the same token. */
  acquire(shard: number, node: string): Promise<AcquireResult>;
  /** Extends a lease that is still current and not run out; null when it was lost. */
  renew(grant: LeaseGrant): Promise<LeaseGrant | null>;
  /** Gives the shard up at once (graceful handoff); false when the grant was no longer current. */
  release(grant: LeaseGrant): Promise<boolean>;
  holder(shard: number): Promise<LeaseHolder | null>;
}

/** What a writer must show to write: its token and the epoch its state is built on. */
export interface Fence {
  token: number;
  epoch: string;
}
export interface ShardHead {
  /** Changes when the shard's stream is lost (a new epoch starts at offset 0). */
  epoch: string;
  /** The offset of the last command (0 for none). Offsets are 1, 2, 3, ... within an epoch. */
  head: number;
  /** The id of the batch that wrote `head` ('' for none): how a writer learns whether an in-doubt batch landed. */
  lastBatch: string;
}
export interface LogEntry {
  offset: number;
  command: string;
}
export interface Snapshot {
  offset: number;
  data: string;
}
export interface ShardState extends ShardHead {
  snapshot: Snapshot | null;
  /** The commands after the snapshot (after offset 0 when there is none), in order. */
  entries: LogEntry[];
}
export interface ReadAfter {
  epoch: string;
  head: number;
  entries: LogEntry[];
  /** The offset of the oldest command still kept (head + 1 when none is). */
  firstKept: number;
}

export interface ShardLog {
  /** The shard's head; starts an epoch (named `newEpoch`) when the shard has no history (never had one, or lost it). */
  open(shard: number, newEpoch: string): Promise<ShardHead>;
  /** Appends commands at offsets after+1.. in ONE atomic step, only if `fence.token` is the shard's current
   * lease token, `fence.epoch` its epoch and `after` its head. Throws ClusterError FENCED / EPOCH_CHANGED /
   * LOG_CONFLICT (and nothing is written). Returns the new head. */
  append(shard: number, fence: Fence, after: number, batchId: string, commands: readonly string[]): Promise<number>;
  /** Stores a snapshot covering offsets 1..offset (same fence checks), and trims the log to keep `retain`
   * commands before it for resuming readers. An older snapshot than the stored one is ignored. */
  snapshot(shard: number, fence: Fence, offset: number, data: string, retain: number): Promise<void>;
  /** Snapshot + the log after it: what a new owner rebuilds the shard from. */
  load(shard: number): Promise<ShardState | null>;
  /** Up to `limit` commands after `after`: what a resuming reader fills a gap with. */
  readAfter(shard: number, after: number, limit: number): Promise<ReadAfter | null>;
}

export interface Membership {
  readonly ttlMs: number;
  /** Says the node is alive until now + ttl. */
  heartbeat(node: string): Promise<void>;
  /** Leaves at once (graceful stop). */
  leave(node: string): Promise<void>;
  /** The nodes whose last heartbeat has not run out, sorted. */
  live(): Promise<string[]>;
}

/** A channel per node. At most once: a message published while a subscriber is disconnected is lost, so
 * nothing that must arrive relies on it alone (see gaps.ts and forward.ts). */
export interface Bus {
  subscribe(node: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  /** Resolves with the number of subscribers that got it (0: nobody listens). */
  publish(node: string, message: string): Promise<number>;
}

export interface ClusterBackend {
  log: ShardLog;
  lease: Lease;
  membership: Membership;
  bus: Bus;
  close(): Promise<void>;
}
