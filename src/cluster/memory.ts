// The in-memory cluster backend: one process's Maps standing in for Redis, with the same decisions
// (checks.ts) and the same clock-based expiry, so the contract suite and the node tests run without I/O.
import type { Clock } from '../clock';
import { checkBatch, checkWrite, refusal } from './checks';
import type { AcquireResult, Bus, ClusterBackend, Fence, LeaseGrant, LeaseHolder, LogEntry, ReadAfter, ShardHead, ShardState, Snapshot } from './types';

interface ShardData {
  fence: number;
  lease?: LeaseHolder;
  meta?: ShardHead;
  log: LogEntry[];
  snap?: Snapshot;
}

export interface MemoryClusterOptions {
  clock: Clock;
  leaseTtlMs: number;
  heartbeatTtlMs: number;
}

/** One shared "Redis": several backends made from it see the same data, as several nodes see one Redis. */
export class MemoryStore {
  readonly shards = new Map<number, ShardData>();
  readonly nodes = new Map<string, number>();
  readonly channels = new Map<string, Set<(m: string) => void>>();
  /** Counts the atomic steps (what a Redis script call is), for the group-commit tests. */
  appendCalls = 0;

  shard(s: number): ShardData {
    let d = this.shards.get(s);
    if (d === undefined) this.shards.set(s, (d = { fence: 0, log: [] }));
    return d;
  }
  /** Loses everything a shard had (a Redis that lost its data), for the epoch tests. */
  lose(s: number): void {
    this.shards.delete(s);
  }
}

export function createMemoryCluster(store: MemoryStore, o: MemoryClusterOptions): ClusterBackend {
  const { clock } = o;
  const live = (l: LeaseHolder | undefined): l is LeaseHolder => l !== undefined && l.expiresAt > clock.now();

  const lease = {
    ttlMs: o.leaseTtlMs,
    async acquire(shard: number, node: string): Promise<AcquireResult> {
      const d = store.shard(shard);
      const now = clock.now();
      if (live(d.lease)) {
        if (d.lease.node !== node) return { ok: false, holder: { ...d.lease } };
        d.lease.expiresAt = now + o.leaseTtlMs;
        return { ok: true, grant: { shard, ...d.lease } };
      }
      d.fence += 1;
      d.lease = { node, token: d.fence, expiresAt: now + o.leaseTtlMs };
      return { ok: true, grant: { shard, ...d.lease } };
    },
    async renew(g: LeaseGrant): Promise<LeaseGrant | null> {
      const d = store.shard(g.shard);
      if (!live(d.lease) || d.lease.node !== g.node || d.lease.token !== g.token) return null;
      d.lease.expiresAt = clock.now() + o.leaseTtlMs;
      return { ...g, expiresAt: d.lease.expiresAt };
    },
    async release(g: LeaseGrant): Promise<boolean> {
      const d = store.shard(g.shard);
      if (d.lease === undefined || d.lease.node !== g.node || d.lease.token !== g.token) return false;
      delete d.lease;
      return true;
    },
    async holder(shard: number): Promise<LeaseHolder | null> {
      const l = store.shards.get(shard)?.lease;
      return l === undefined ? null : { ...l };
    },
  };

  const log = {
    async open(shard: number, newEpoch: string): Promise<ShardHead> {
      const d = store.shard(shard);
      if (d.meta === undefined) {
        d.meta = { epoch: newEpoch, head: 0, lastBatch: '' };
        d.log = [];
        delete d.snap;
      }
      return { ...d.meta };
    },
    async append(shard: number, fence: Fence, after: number, batchId: string, commands: readonly string[]): Promise<number> {
      checkBatch(shard, after, commands);
      store.appendCalls += 1;
      const d = store.shard(shard);
      const v = checkWrite(fence, after, d.lease?.token, d.meta);
      if (!v.ok) throw refusal(shard, fence, after, v);
      const meta = d.meta!;
      for (const command of commands) d.log.push({ offset: ++meta.head, command });
      meta.lastBatch = batchId;
      return meta.head;
    },
    async snapshot(shard: number, fence: Fence, offset: number, data: string, retain: number): Promise<void> {
      const d = store.shard(shard);
      const head = d.meta?.head ?? 0;
      const v = checkWrite(fence, head, d.lease?.token, d.meta);
      if (!v.ok) throw refusal(shard, fence, head, v);
      if (!Number.isInteger(offset) || offset < 0 || offset > head) throw new RangeError(`invalid parameter offset: 0..${head}, got ${offset}`);
      if (d.snap !== undefined && d.snap.offset >= offset) return;
      d.snap = { offset, data };
      const minKept = offset - retain + 1;
      d.log = d.log.filter((e) => e.offset >= minKept);
    },
    async load(shard: number): Promise<ShardState | null> {
      const d = store.shards.get(shard);
      if (d?.meta === undefined) return null;
      const from = d.snap?.offset ?? 0;
      return { ...d.meta, snapshot: d.snap ? { ...d.snap } : null, entries: d.log.filter((e) => e.offset > from).map((e) => ({ ...e })) };
    },
    async readAfter(shard: number, after: number, limit: number): Promise<ReadAfter | null> {
      const d = store.shards.get(shard);
      if (d?.meta === undefined) return null;
      return {
        epoch: d.meta.epoch,
        head: d.meta.head,
        entries: d.log.filter((e) => e.offset > after).slice(0, limit).map((e) => ({ ...e })),
        firstKept: d.log[0]?.offset ?? d.meta.head + 1,
      };
    },
  };

  const membership = {
    ttlMs: o.heartbeatTtlMs,
    async heartbeat(node: string): Promise<void> {
      store.nodes.set(node, clock.now() + o.heartbeatTtlMs);
    },
    async leave(node: string): Promise<void> {
      store.nodes.delete(node);
    },
    async live(): Promise<string[]> {
      const now = clock.now();
      return [...store.nodes].filter(([, until]) => until > now).map(([n]) => n).sort();
    },
  };

  const mine = new Set<{ node: string; handler: (m: string) => void }>();
  const bus: Bus = {
    async subscribe(node, handler) {
      const h = (m: string) => handler(m);
      let set = store.channels.get(node);
      if (set === undefined) store.channels.set(node, (set = new Set()));
      set.add(h);
      const entry = { node, handler: h };
      mine.add(entry);
      return async () => {
        set.delete(h);
        mine.delete(entry);
      };
    },
    async publish(node, message) {
      const set = store.channels.get(node);
      const targets = set ? [...set] : [];
      // Delivered later, in order, as over a socket.
      for (const h of targets) queueMicrotask(() => h(message));
      return targets.length;
    },
  };

  return {
    log,
    lease,
    membership,
    bus,
    async close() {
      for (const { node, handler } of mine) store.channels.get(node)?.delete(handler);
      mine.clear();
    },
  };
}
