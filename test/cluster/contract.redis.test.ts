// The cluster contract on a real redis-server (its own port and data directory, appendfsync always).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { ClusterErrorCode } from '../../src/cluster/errors';
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

describe('redis backend: connecting', () => {
  it('a Redis that cannot be reached fails the start with STORE_UNAVAILABLE and leaves no client behind', async () => {
    const probe = await RedisServer.start();
    const url = probe.url;
    await probe.stop(); // a port that was just free: nobody listens on it now
    const made = createRedisCluster({ url, clock: new SimulatedClock(), leaseTtlMs: 1_000, heartbeatTtlMs: 1_000, connectTimeoutMs: 500 });
    await expect(made).rejects.toMatchObject({ code: ClusterErrorCode.STORE_UNAVAILABLE, message: expect.stringContaining(url) });
  });
});
