// One shard engine's store on a cluster node: MemoryStore's maps are the read path (a cache of the shard's
// durable log), and every command a transaction journals is appended to the shard's Redis log through its
// group-commit writer. `durable()` resolves once everything so far landed; a failed append is final for this
// engine instance (its memory is ahead of the log): the node drops it and rebuilds the shard from Redis.
// A shard's snapshot is src/store/snapshot.ts's Snapshot; the store dump older nodes wrote is still read.
import type { AccessContext } from '../../machines/access';
import type { JournalEntry } from '../records';
import { statusToStored, subsToStored } from '../store/format';
import { MemoryStore } from '../store/memory';
import { emptyEngineMemory, readSnapshot, recordsOf, SNAPSHOT_FORMAT, SNAPSHOT_KIND, SnapshotError, type Snapshot } from '../store/snapshot';
import type { Notice, PendingTimer, StatusRecord, SubscriptionsRecord } from '../store/types';

/**
 * The shard snapshot nodes of 7ab8287 and before wrote (the store's records in memory form, and its seq).
 * Frozen as released: read, never written. It lacks the engine's memory (rate windows, silent links), which
 * those nodes lost at every takeover anyway.
 */
export interface StoreDumpV1 {
  v: 1;
  seq: number;
  users: string[];
  status: Array<[string, StatusRecord]>;
  subs: Array<[string, SubscriptionsRecord]>;
  friends: Array<[string, string[]]>;
  notices: Array<[string, Notice]>;
  timers: PendingTimer[];
  settings: AccessContext | null;
}

/** A shard snapshot this build cannot read: which shard, which field, why (the node serves the shard no more). */
export class ShardSnapshotError extends Error {
  constructor(
    readonly shard: number,
    readonly field: string,
    why: string,
  ) {
    super(`shard ${shard}: its snapshot cannot be read (snapshot.${field}: ${why}); the shard is not served until it is (see docs/cluster.md, "Shard snapshots")`);
    this.name = 'ShardSnapshotError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The old form as a Snapshot of format 1 (engine memory empty: the old form never held it). */
function fromDumpV1(d: Record<string, unknown>): Record<string, unknown> {
  const list = (field: string) => {
    if (!Array.isArray(d[field])) throw new SnapshotError(field, 'expected an array');
    return d[field] as unknown[];
  };
  const stored = (field: string, to: (r: never) => Record<string, unknown>) =>
    list(field).map((p, i) => {
      try {
        const [id, r] = p as [string, never];
        return [id, to(r)];
      } catch (e) {
        throw new SnapshotError(`${field}[${i}]`, (e as Error).message);
      }
    });
  if (!isObject(d.settings)) throw new SnapshotError('settings', 'the old form holds no settings (no engine had opened the shard)');
  return {
    kind: SNAPSHOT_KIND,
    format: SNAPSHOT_FORMAT,
    seq: d.seq,
    at: 0, // not in the old form; a shard rebuild reads the time of each entry after it, never this
    settings: d.settings,
    users: d.users,
    status: stored('status', statusToStored),
    subscriptions: stored('subs', (r) => ({ ...subsToStored(r) })),
    friends: d.friends,
    notices: d.notices,
    timers: d.timers,
    engine: emptyEngineMemory(),
  };
}

/**
 * A shard snapshot's data as stored in the shard log: a Snapshot (checked and migrated by readSnapshot), or
 * the old store dump (`{v: 1}`) brought to one. Anything else is refused with a ShardSnapshotError.
 */
export function readShardSnapshot(shard: number, data: string): Snapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch (e) {
    throw new ShardSnapshotError(shard, 'data', `not JSON (${(e as Error).message})`);
  }
  try {
    if (isObject(raw) && raw.kind === undefined && 'v' in raw) {
      if (raw.v !== 1) throw new SnapshotError('v', `an old-form dump of version ${JSON.stringify(raw.v)}; this build reads version 1 and snapshots of kind '${SNAPSHOT_KIND}'`);
      return readSnapshot(fromDumpV1(raw));
    }
    return readSnapshot(raw);
  } catch (e) {
    if (e instanceof SnapshotError) throw new ShardSnapshotError(shard, e.field, e.message.slice(e.field.length + 2));
    throw e;
  }
}

/** Where the commands go: the shard's ShardWriter (append resolves with the offset once durable). */
export interface CommandSink {
  append(command: string): Promise<number>;
}

const noop = () => {};

export class ShardStore extends MemoryStore {
  override readonly kind = 'cluster';
  private sink: CommandSink | null = null;
  /** The commands journaled by the open transaction (outermost and nested), in order. */
  private captured: string[] = [];
  private tail: Promise<void> = Promise.resolve();
  /** The appends alone (no tracked mirrors): what a mirror applied here waits for. */
  private appended: Promise<void> = Promise.resolve();
  /** The first append failure: every later durable() rejects with it. */
  failure: unknown = undefined;
  /** Commands sent and not yet durable. */
  inFlight = 0;
  /** Called once, with the first failure. */
  onFailure: (e: unknown) => void = noop;
  /** Called after each command became durable, with its offset (the snapshot policy hooks here). */
  onDurable: (offset: number) => void = noop;

  /** From here on, journaled commands go to `sink` (not during a rebuild's replay). */
  capture(sink: CommandSink | null): void {
    this.sink = sink;
  }

  override append(entry: JournalEntry): void {
    super.append(entry);
    if (this.sink !== null && entry.kind === 'command' && this.txDepth > 0) this.captured.push(JSON.stringify(entry));
  }

  override transaction<T>(fn: () => T): T {
    const mark = this.captured.length;
    let result: T;
    try {
      result = super.transaction(fn);
    } catch (e) {
      // Rolled back: what it journaled never happened (a nested savepoint drops only its own part).
      this.captured.length = mark;
      throw e;
    }
    if (this.txDepth === 0 && this.captured.length > 0) {
      const commands = this.captured;
      this.captured = [];
      for (const c of commands) this.send(c);
    }
    return result;
  }

  private send(command: string): void {
    const sink = this.sink!;
    if (this.failure !== undefined) return; // the engine is being dropped; its calls get the failure
    this.inFlight += 1;
    const p = sink.append(command).then(
      (offset) => {
        this.inFlight -= 1;
        this.onDurable(offset);
      },
      (e: unknown) => {
        this.inFlight -= 1;
        if (this.failure === undefined) {
          this.failure = e;
          this.onFailure(e);
        }
        throw e;
      },
    );
    p.catch(noop);
    // The writer resolves in order, so the chain's first rejection is the first failure.
    const tail = this.tail.then(() => p);
    tail.catch(noop);
    this.tail = tail;
    const appended = this.appended.then(() => p);
    appended.catch(noop);
    this.appended = appended;
  }

  /** Resolves once every command journaled so far is in the log, without waiting for the mirrors this shard
   * sent (durable() does): a mirror applied here waits only for this, so that mirrors crossing between two
   * shards (A follows B while B follows A) never wait for each other. Rejects with the first failure. */
  landed(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.appended;
  }

  /** Resolves once every command journaled so far is durable; rejects with the first failure. */
  durable(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.tail;
  }

  /** Runs `fn` once everything so far is durable (deliveries, mirrors); never if that failed. Keeps order. */
  afterDurable(fn: () => void): void {
    this.tail.then(fn, noop);
  }

  /** Makes later durable() calls wait for `p` too (a mirror's first attempt); its failure is not ours. */
  track(p: Promise<unknown>): void {
    const tail = this.tail.then(() => p.then(noop, noop));
    tail.catch(noop);
    this.tail = tail;
  }

  /**
   * A store holding a snapshot's records, its indexes rebuilt: MemoryStore.restore without its transaction,
   * undo log and kept copy of the snapshot (a shard's replay start is in the shard log, not in memory).
   */
  static load(snapshot: Snapshot | null, options: { journalMaxEntries?: number } = {}): ShardStore {
    const s = new ShardStore(options);
    if (snapshot === null) return s;
    const records = recordsOf(snapshot);
    s.seq = snapshot.seq;
    s.logStart = snapshot.seq + 1;
    for (const u of snapshot.users) s.users.add(u);
    for (const [u, r] of records.status) s.status.set(u, r);
    for (const [u, r] of records.subscriptions) s.putSubscriptions(u, r, { added: r.context.list, removed: [] });
    for (const [u, fs] of snapshot.friends) s.addFriends(u, fs);
    for (const [u, n] of snapshot.notices) s.notices.set(u, n);
    for (const t of snapshot.timers) s.pending.set(t.key, t);
    s.settings = snapshot.settings;
    return s;
  }
}
