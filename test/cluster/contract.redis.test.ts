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

describe('redis backend: the bus', () => {
  it("a turn's publishes to several nodes leave in one socket write, in order, and nothing stays held after it", async () => {
    const b = await createRedisCluster({ url: server.url, clock: new SimulatedClock(), leaseTtlMs: LEASE_MS, heartbeatTtlMs: HEARTBEAT_MS, prefix: `bus${++n}` });
    try {
      const got: string[] = [];
      const all = new Promise<void>((ok) => {
        for (const node of ['a', 'b', 'c'])
          void b.bus.subscribe(node, (m) => {
            got.push(`${node}:${m}`);
            if (got.length === 4) ok();
          });
      });
      await new Promise((r) => setTimeout(r, 50)); // the subscriptions are in place
      // What reaches the command socket: one _write per chunk written alone, one _writev for chunks held together.
      const stream = b.connection.redis.stream as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
      const writes: string[] = [];
      const w = stream._write.bind(stream);
      const wv = stream._writev.bind(stream);
      stream._write = (...a) => (writes.push('write'), w(...a));
      stream._writev = (...a) => (writes.push(`writev ${(a[0] as unknown[]).length}`), wv(...a));
      const sent = [b.bus.publish('a', 'm1'), b.bus.publish('b', 'm2'), b.bus.publish('c', 'm3')];
      expect(writes).toEqual([]); // held until the turn's synchronous run ends
      expect(await Promise.all(sent)).toEqual([1, 1, 1]);
      expect(writes).toEqual(['writev 3']);
      expect(await b.bus.publish('a', 'm4')).toBe(1); // a later turn's publish is not held back
      await all;
      expect(got).toEqual(['a:m1', 'b:m2', 'c:m3', 'a:m4']);
    } finally {
      await b.close();
    }
  });
});
