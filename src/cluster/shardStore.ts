// One shard engine's store on a cluster node: MemoryStore's maps are the read path (a cache of the shard's
// durable log), and every command a transaction journals is appended to the shard's Redis log through its
// group-commit writer. `durable()` resolves once everything so far landed; a failed append is final for this
// engine instance (its memory is ahead of the log): the node drops it and rebuilds the shard from Redis.
import type { AccessContext } from '../../machines/access';
import type { JournalEntry } from '../records';
import { MemoryStore } from '../store/memory';
import type { Notice, PendingTimer, StatusRecord, SubscriptionsRecord } from '../store/types';

/** What a snapshot holds: the store's records and its seq (indexes are rebuilt from the records). */
export interface StoreDump {
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

  /** The records, as a snapshot stores them (call only between transactions). */
  dump(): StoreDump {
    return {
      v: 1,
      seq: this.seq,
      users: [...this.users],
      status: [...this.status],
      subs: [...this.subs],
      friends: [...this.friends].map(([u, set]) => [u, [...set]]),
      notices: [...this.notices],
      timers: [...this.pending.values()],
      settings: this.settings ?? null,
    };
  }

  /** A store holding a snapshot's records, its indexes rebuilt. */
  static load(d: StoreDump | null, options: { journalMaxEntries?: number } = {}): ShardStore {
    const s = new ShardStore(options);
    if (d === null) return s;
    if (d.v !== 1) throw new Error(`unknown snapshot version ${String(d.v)}`);
    s.seq = d.seq;
    s.logStart = d.seq + 1;
    for (const u of d.users) s.users.add(u);
    for (const [u, r] of d.status) s.status.set(u, r);
    for (const [u, r] of d.subs) s.putSubscriptions(u, r, { added: r.context.list, removed: [] });
    for (const [u, fs] of d.friends) s.addFriends(u, fs);
    for (const [u, n] of d.notices) s.notices.set(u, n);
    for (const t of d.timers) s.pending.set(t.key, t);
    if (d.settings !== null) s.settings = d.settings;
    return s;
  }
}
