// The cluster contract on a real redis-server (its own port and data directory, appendfsync always).
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { createRedisCluster } from '../../src/cluster/redis/backend';
import { shardKeys } from '../../src/cluster/shardMap';
import { clusterContract, HEARTBEAT_MS, LEASE_MS } from './contract';
import { RedisServer } from './redis';
import { scriptCalls } from './stats';

let server: RedisServer;
let admin: Redis;
let n = 0;
beforeAll(async () => {
  server = await RedisServer.start();
  admin = new Redis(server.url);
});
afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

clusterContract('redis', async () => {
  const prefix = `t${++n}`; // each test its own keys
  return {
    backend: (clock) => createRedisCluster({ url: server.url, clock, leaseTtlMs: LEASE_MS, heartbeatTtlMs: HEARTBEAT_MS, prefix }),
    lose: async (shard) => {
      await admin.del(...Object.values(shardKeys(shard, prefix)));
    },
    scriptCalls: () => scriptCalls(admin),
    close: async () => undefined,
  };
});
