// The Redis cluster backend: lease, shard log, membership and bus over two ioredis connections (commands,
// and one in subscriber mode). Decisions are in the scripts; this file only sends and parses.
import type { Clock } from '../../clock';
import { checkBatch, refusal, type WriteVerdict } from '../checks';
import { DEFAULT_PREFIX, nodeChannel, nodesKey, shardKeys } from '../shardMap';
import type { AcquireResult, Bus, ClusterBackend, Fence, LeaseGrant, LeaseHolder, LogEntry, ReadAfter, ShardHead, ShardState } from '../types';
import { RedisConnection, type ConnectionOptions } from './connection';

export interface RedisClusterOptions extends ConnectionOptions {
  url: string;
  clock: Clock;
  leaseTtlMs: number;
  heartbeatTtlMs: number;
  /** Key prefix (and hash-tag prefix), so several clusters or tests can share one Redis. */
  prefix?: string;
}

export interface RedisClusterBackend extends ClusterBackend {
  /** The command connection (its scriptCalls counts EVALSHAs). */
  connection: RedisConnection;
  ready(): boolean;
  /** Resolves once both connections are ready again (after Redis came back). */
  whenReady(): Promise<void>;
}

type Reply = (string | null)[];
const offsetOf = (id: string): number => Number(id.slice(0, id.indexOf('-')));
function entriesFrom(r: Reply, start: number): LogEntry[] {
  const out: LogEntry[] = [];
  for (let i = start; i + 1 < r.length; i += 2) out.push({ offset: offsetOf(r[i]!), command: r[i + 1]! });
  return out;
}
function verdict(r: Reply): WriteVerdict {
  if (r[0] === 'OK') return { ok: true };
  return { ok: false, reason: r[0] as 'FENCED' | 'EPOCH' | 'CONFLICT', current: r[1] ?? '' };
}

export async function createRedisCluster(o: RedisClusterOptions): Promise<RedisClusterBackend> {
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  const { clock } = o;
  const conn = await RedisConnection.connect(o.url, o);
  const sub = await RedisConnection.connect(o.url, o).catch(async (e: unknown) => {
    await conn.close();
    throw e;
  });
  const keys = (s: number) => shardKeys(s, prefix);

  const lease = {
    ttlMs: o.leaseTtlMs,
    async acquire(shard: number, node: string): Promise<AcquireResult> {
      const k = keys(shard);
      const r = (await conn.script('leaseAcquire', [k.lease, k.fence], [node, clock.now(), o.leaseTtlMs])) as (number | string)[];
      if (Number(r[0]) === 1) return { ok: true, grant: { shard, node, token: Number(r[1]), expiresAt: Number(r[2]) } };
      return { ok: false, holder: { node: String(r[1]), token: Number(r[2]), expiresAt: Number(r[3]) } };
    },
    async renew(g: LeaseGrant): Promise<LeaseGrant | null> {
      const r = await conn.script('leaseRenew', [keys(g.shard).lease], [g.node, g.token, clock.now(), o.leaseTtlMs]);
      return r === null ? null : { ...g, expiresAt: Number(r) };
    },
    async release(g: LeaseGrant): Promise<boolean> {
      return Number(await conn.script('leaseRelease', [keys(g.shard).lease], [g.node, g.token])) === 1;
    },
    async holder(shard: number): Promise<LeaseHolder | null> {
      const h = await conn.call(() => conn.redis.hmget(keys(shard).lease, 'node', 'token', 'expires'));
      return h[0] == null ? null : { node: h[0], token: Number(h[1]), expiresAt: Number(h[2]) };
    },
  };

  const log = {
    async open(shard: number, newEpoch: string): Promise<ShardHead> {
      const k = keys(shard);
      const r = (await conn.script('logOpen', [k.meta, k.log, k.snap], [newEpoch])) as Reply;
      return { epoch: r[0]!, head: Number(r[1]), lastBatch: r[2] ?? '' };
    },
    async append(shard: number, fence: Fence, after: number, batchId: string, commands: readonly string[]): Promise<number> {
      checkBatch(shard, after, commands);
      const k = keys(shard);
      const r = (await conn.script('logAppend', [k.lease, k.meta, k.log], [fence.token, fence.epoch, after, batchId, ...commands])) as Reply;
      const v = verdict(r);
      if (!v.ok) throw refusal(shard, fence, after, v);
      return Number(r[1]);
    },
    async snapshot(shard: number, fence: Fence, offset: number, data: string, retain: number): Promise<void> {
      const k = keys(shard);
      const r = (await conn.script('logSnapshot', [k.lease, k.meta, k.log, k.snap], [fence.token, fence.epoch, offset, data, retain])) as Reply;
      if (r[0] === 'AHEAD') throw new RangeError(`invalid parameter offset: 0..${r[1]}, got ${offset}`);
      const v = verdict(r);
      if (!v.ok) throw refusal(shard, fence, Number(r[1]), v);
    },
    async load(shard: number): Promise<ShardState | null> {
      const k = keys(shard);
      const r = (await conn.script('logLoad', [k.meta, k.log, k.snap], [])) as Reply | null;
      if (r === null) return null;
      return {
        epoch: r[0]!,
        head: Number(r[1]),
        lastBatch: r[2] ?? '',
        snapshot: r[3] == null ? null : { offset: Number(r[3]), data: r[4] ?? '' },
        entries: entriesFrom(r, 5),
      };
    },
    async readAfter(shard: number, after: number, limit: number): Promise<ReadAfter | null> {
      const k = keys(shard);
      const r = (await conn.script('logReadAfter', [k.meta, k.log], [after, limit])) as Reply | null;
      if (r === null) return null;
      const head = Number(r[1]);
      return { epoch: r[0]!, head, firstKept: r[2] == null ? head + 1 : offsetOf(r[2]), entries: entriesFrom(r, 3) };
    },
  };

  const zkey = nodesKey(prefix);
  const membership = {
    ttlMs: o.heartbeatTtlMs,
    async heartbeat(node: string): Promise<void> {
      const now = clock.now();
      // The score is the time the node is alive until; run-out members are swept by whoever beats.
      await conn.call(() => conn.redis.multi().zadd(zkey, now + o.heartbeatTtlMs, node).zremrangebyscore(zkey, '-inf', now).exec());
    },
    async leave(node: string): Promise<void> {
      await conn.call(() => conn.redis.zrem(zkey, node));
    },
    async live(): Promise<string[]> {
      const now = clock.now();
      const nodes = await conn.call(() => conn.redis.zrangebyscore(zkey, `(${now}`, '+inf'));
      return nodes.sort();
    },
  };

  const handlers = new Map<string, Set<(m: string) => void>>();
  sub.redis.on('message', (channel: string, message: string) => {
    for (const h of handlers.get(channel) ?? []) h(message);
  });
  const bus: Bus = {
    async subscribe(node, handler) {
      const ch = nodeChannel(node, prefix);
      let set = handlers.get(ch);
      if (set === undefined) {
        handlers.set(ch, (set = new Set()));
        await sub.call(() => sub.redis.subscribe(ch));
      }
      const mine = set;
      mine.add(handler);
      return async () => {
        mine.delete(handler);
        if (mine.size === 0 && handlers.get(ch) === mine) {
          handlers.delete(ch);
          if (sub.ready) await sub.call(() => sub.redis.unsubscribe(ch));
        }
      };
    },
    async publish(node, message) {
      return conn.call(() => {
        conn.corkTurn();
        return conn.redis.publish(nodeChannel(node, prefix), message);
      });
    },
  };

  return {
    log,
    lease,
    membership,
    bus,
    connection: conn,
    ready: () => conn.ready && sub.ready,
    whenReady: () => Promise.all([conn, sub].map((c) => (c.ready ? undefined : new Promise((ok) => c.redis.once('ready', ok))))).then(() => undefined),
    async close() {
      handlers.clear();
      await Promise.all([conn.close(), sub.close()]);
    },
  };
}

