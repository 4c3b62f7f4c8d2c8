// What `serve` opens before the server starts (program.ts parses and checks the flags): the SQLite store
// under --data, or in cluster mode (--redis) the Redis backend, this node's ClusterService and the address book.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Edition } from '../../machines/spec';
import type { Store } from '../store/types';
import type { ConfigChange } from '../types';
import type { LOG_LEVELS } from './defaults';
import { inspectFromFlags } from './inspectFlags';
import { DATABASE_FILE } from './secret';

/** Cluster mode: lease and membership time; takeover of a dead node's shards takes about twice this plus a tick. */
export const DEFAULT_LEASE_MS = 2000;

/** serve's flags once commander, the environment and --config have set them. */
export interface ServeFlags {
  host: string;
  port: number;
  data: string;
  store: 'sqlite' | 'memory';
  edition?: Edition;
  switch?: Record<string, boolean>;
  limit?: Record<string, unknown>;
  sdkappid: number;
  secretKey?: string;
  newSecretKey?: boolean;
  webhook?: string;
  webhookSecret?: string;
  heartbeatMs: number;
  requestRate?: number;
  requestBurst?: number;
  pendingPerAddress?: number;
  pendingLoopback?: boolean;
  pendingTotal?: number;
  trustProxy?: string[];
  healthzDetail: 'admin' | 'public';
  bodyLimit: number;
  journalKeep?: number;
  journalKeepMs?: number;
  drainMs: number;
  clock: 'system' | 'simulated';
  logLevel: (typeof LOG_LEVELS)[number];
  tlsCert?: string;
  tlsKey?: string;
  allowedOrigins?: string[];
  config?: string;
  init?: boolean;
  redis?: string;
  nodeId?: string;
  shards?: number;
  advertise?: string;
  leaseMs?: number;
}

export async function openStore(flags: ServeFlags, log: Logger): Promise<Store | undefined> {
  if (flags.store === 'memory') {
    log.warn('store: memory (nothing survives a restart)');
    if (flags.journalKeep !== undefined || flags.journalKeepMs !== undefined) log.warn('--journal-keep/--journal-keep-ms apply to --data (sqlite): the memory store keeps its newest 100,000 entries');
    return undefined;
  }
  mkdirSync(flags.data, { recursive: true, mode: 0o700 });
  const file = path.resolve(flags.data, DATABASE_FILE);
  const [{ SqliteStore }, { checkStoreAtOpen }] = await Promise.all([import('../store/sqlite'), import('../store/integrity')]);
  checkStoreAtOpen(file, { init: flags.init, log });
  // Compaction (issue 9): the journal on disk bounded; the replay start is kept with it.
  const journalRetention = flags.journalKeep === undefined && flags.journalKeepMs === undefined ? undefined : { maxEntries: flags.journalKeep, maxAgeMs: flags.journalKeepMs };
  const store = new SqliteStore(file, journalRetention ? { journalRetention: JSON.parse(JSON.stringify(journalRetention)) } : {});
  log.info({ file, journalRetention }, 'store: sqlite');
  return store;
}

/** Cluster mode: the Redis backend, this node's ClusterService (started by the server once it listens) and the address registry. */
export async function joinCluster(flags: ServeFlags, settings: ConfigChange, log: Logger) {
  const [{ createRedisCluster }, { createClusterService }, { RedisAddressBook }, { systemClock }] = await Promise.all([
    import('../cluster/redis/backend'),
    import('../cluster/createService'),
    import('../cluster/addresses'),
    import('../clock'),
  ]);
  const leaseMs = flags.leaseMs ?? DEFAULT_LEASE_MS;
  const backend = await createRedisCluster({ url: flags.redis!, clock: systemClock, leaseTtlMs: leaseMs, heartbeatTtlMs: leaseMs });
  const status = () => backend.connection.redis.status;
  // --inspect: one link for every shard engine this node runs (each its own bridge; a released shard's actors stop).
  const inspect = inspectFromFlags(flags);
  const link = inspect ? (await import('./inspect')).createInspectLink({ url: inspect.url, logger: log.child({ part: 'inspect' }) }) : null;
  const service = createClusterService({
    backend,
    nodeId: flags.nodeId!,
    clock: systemClock,
    ...(flags.shards !== undefined ? { shards: flags.shards } : {}),
    engine: { ...settings, ...(link ? { inspect: link.inspect, ...(inspect!.users !== undefined ? { inspectUsers: inspect!.users } : {}) } : {}) },
    redisState: () => (backend.ready() ? 'ready' : status() === 'connecting' || status() === 'reconnecting' || status() === 'connect' ? 'connecting' : 'down'),
  });
  const addresses = await RedisAddressBook.connect(flags.redis!);
  log.info({ redis: flags.redis, nodeId: flags.nodeId, shards: flags.shards ?? 64, leaseMs }, 'cluster mode');
  if (link) (await import('./inspect')).followShards(link, service);
  const close = () => {
    link?.close();
    return backend.close();
  };
  return { service, addresses, close, ...(flags.advertise ? { advertise: flags.advertise } : {}) };
}
