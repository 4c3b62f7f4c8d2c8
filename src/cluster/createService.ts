// createClusterService: what `serve --redis` builds on one node (src/cluster/service.ts is the contract):
// an engine per shard this node owns, acknowledged only once durable in the shard's Redis log, with its
// deliveries, reads, mirrors and admin calls reaching the other nodes. Works on either ClusterBackend (the
// in-memory one for tests, or Redis); lease and heartbeat times are the backend's.
import type { Clock } from '../clock';
import { ClusterAdminImpl } from './admin';
import { ClusterPortImpl } from './port';
import { ClusterRuntime } from './runtime';
import type { ClusterHealth, ClusterService } from './service';
import type { ShardEngineConfig, SnapshotPolicy } from './shardEngine';
import { DEFAULT_SHARDS, checkShardCount } from './shardMap';
import type { ClusterBackend } from './types';

export type { ShardEngineConfig, SnapshotPolicy } from './shardEngine';

export interface ClusterServiceOptions {
  /** createMemoryCluster(...) or createRedisCluster(...): its lease and heartbeat ttls are the cluster's. */
  backend: ClusterBackend;
  /** This node's name (`--node-id`): unique in the cluster. */
  nodeId: string;
  /** Fixed for the life of the cluster's data. Default 64. */
  shards?: number;
  /** Every timer reads it (tests: a SimulatedClock). */
  clock: Clock;
  /** The options of each shard engine (edition, switches, limits, machines, inspect...). */
  engine?: ShardEngineConfig;
  snapshot?: SnapshotPolicy;
  /** Journal entries each shard engine keeps in memory for admin reads. Default 1000. */
  journalMaxEntries?: number;
  /** A forwarded call with no reply after this long fails 75007. Default 2000. */
  forwardTimeoutMs?: number;
  /** How long facts fetched by prepare() stay usable. Default 5000. */
  readTtlMs?: number;
  /** First retry of a mirror that was not acknowledged (doubling, up to 30 s). Default 500. */
  mirrorRetryMs?: number;
  /** false: the node ticks only when told (tests drive membership rounds). Default true (every lease/3). */
  autoTick?: boolean;
  tickMs?: number;
  /** Names this process in the leases (default a fresh UUID). */
  incarnation?: string;
  /** Redis' state for /healthz; default: the backend's own `ready()` when it has one (Redis), else 'ready'. */
  redisState?: () => ClusterHealth['redis'];
}

/** The service, plus what tests and the bench look at. */
export interface ClusterServiceInternals extends ClusterService {
  readonly runtime: ClusterRuntime;
}

export function createClusterService(options: ClusterServiceOptions): ClusterServiceInternals {
  const shards = checkShardCount(options.shards ?? DEFAULT_SHARDS);
  if (typeof options.nodeId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(options.nodeId)) {
    throw new RangeError(`invalid parameter nodeId: 1 to 64 letters, digits, '_' or '-' (no '.': it separates a relay token's fields), got ${JSON.stringify(options.nodeId)}`);
  }
  const rt = new ClusterRuntime({
    backend: options.backend,
    nodeId: options.nodeId,
    shards,
    clock: options.clock,
    engine: options.engine ?? {},
    ...(options.snapshot === undefined ? {} : { snapshot: options.snapshot }),
    ...(options.journalMaxEntries === undefined ? {} : { journalMaxEntries: options.journalMaxEntries }),
    forwardTimeoutMs: options.forwardTimeoutMs ?? 2000,
    readTtlMs: options.readTtlMs ?? 5000,
    mirrorRetryMs: options.mirrorRetryMs ?? 500,
    autoTick: options.autoTick ?? true,
    ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
    ...(options.incarnation === undefined ? {} : { incarnation: options.incarnation }),
  });
  const own = (options.backend as { ready?: unknown }).ready;
  const redisState =
    options.redisState ?? (typeof own === 'function' ? () => ((own as () => boolean).call(options.backend) ? 'ready' : 'down') : () => 'ready' as const);
  const port = new ClusterPortImpl(rt);
  const admin = new ClusterAdminImpl(rt);
  return {
    nodeId: options.nodeId,
    port,
    admin,
    runtime: rt,
    shardOf: (userID) => rt.shardOf(userID),
    ownerOf: (userID) => rt.ownerOfShard(rt.shardOf(userID)),
    onShardLost: (l) => rt.onShardLost(l),
    onShardTaken: (l) => {
      const f = (e: { shard: number; core: { inspector: Parameters<typeof l>[1] } }) => l(e.shard, e.core.inspector);
      rt.engineListeners.add(f);
      return () => rt.engineListeners.delete(f);
    },
    health: () => {
      const v = rt.node.view();
      return { node: options.nodeId, shards: [...rt.engines.keys()].sort((a, b) => a - b), shardCount: shards, live: v.live, redis: redisState(), lastError: rt.node.lastError ?? null, pushes: rt.traffic() };
    },
    start: () => rt.start(),
    stop: () => rt.stop(),
  };
}
