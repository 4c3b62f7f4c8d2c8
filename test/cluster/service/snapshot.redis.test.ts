// One snapshot form over a real redis-server (its own port and data directory): a node killed after one of
// its users used most of its rate window; the new owner, rebuilt from the shard's snapshot in Redis plus
// the stream after it, refuses that user's next call past the limit (LIM-1). And old-form shard snapshots
// (the store dump of 7ab8287) written into Redis through the log's own interface are read.
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { DEFAULT_LIMITS } from '../../../machines/spec';
import { createRedisCluster } from '../../../src/cluster/redis/backend';
import type { StatusError } from '../../../src/errors';
import { RedisServer } from '../redis';
import { ClusterClient } from './client';
import fixture from './fixtures/shard-dump-v1.json';
import { startCluster, type Cluster } from './harness';

let c: Cluster | undefined;
let server: RedisServer | undefined;
afterEach(async () => {
  await c?.close();
  await server?.stop();
  c = server = undefined;
});

const LEASE_MS = 1000;
const { requests, windowMs } = DEFAULT_LIMITS.rateLimit;
const code = (p: Promise<unknown>) => p.then(() => 0, (e: StatusError) => e.code);

describe('one snapshot form (redis)', () => {
  it('LIM-1 a kill -9 of the owner: the new owner keeps the user\'s rate window (snapshot in Redis + stream tail)', async () => {
    const srv = (server = await RedisServer.start());
    const cluster = (c = await startCluster(3, (clock) => createRedisCluster({ url: srv.url, clock, leaseTtlMs: LEASE_MS, heartbeatTtlMs: LEASE_MS, prefix: 'snap' }), {
      autoTick: true,
      snapshot: { everyCommands: 4, retain: 100 },
    }));
    const users = Array.from({ length: 60 }, (_, i) => `u${i}`);
    await cluster.nodes[0]!.admin.registerUsers(users);
    const victim = cluster.nodes[1]!;
    const a = users.find((u) => cluster.ownerNode(u) === victim)!;
    const b = users.find((u) => cluster.ownerNode(u) === cluster.nodes[2])!;
    let port = victim.port;
    const ca = new ClusterClient(() => port, 'web');
    await ca.login({ userID: a });
    const t0 = cluster.clock.now();
    for (let i = 0; i < requests - 3; i++) expect(await code(ca.getUserStatus({ userIDList: [b] }))).toBe(0);
    await cluster.settle();
    victim.runtime.halt();
    // Rounds on a real Redis take real time: each step waits for the live nodes' rounds to finish.
    const live = cluster.nodes.filter((n) => n !== victim);
    for (let i = 0; i < 40 && !live.some((n) => n.runtime.engines.has(victim.shardOf(a))); i++) {
      await cluster.advance(LEASE_MS / 4);
      await Promise.all(live.map((n) => n.runtime.node.settled()));
      await new Promise((r) => setTimeout(r, 10));
    }
    const owner = cluster.nodes.find((n) => n !== victim && n.runtime.engines.has(victim.shardOf(a)))!;
    expect(owner).toBeDefined();
    expect((await cluster.backends[0]!.log.load(victim.shardOf(a)))!.snapshot).not.toBeNull(); // rebuilt from a snapshot + tail
    port = owner.port;
    await ca.reconnect();
    expect(cluster.clock.now() - t0).toBeLessThan(windowMs);
    for (let i = 0; i < 3; i++) expect(await code(ca.getUserStatus({ userIDList: [b] }))).toBe(0);
    expect(await code(ca.getUserStatus({ userIDList: [b] }))).toBe(2996);
  }, 60_000);

  it('EXT-3 old-form shard snapshots in Redis are read: each shard rebuilds what its old owner had', async () => {
    const srv = (server = await RedisServer.start());
    const clock = new SimulatedClock();
    clock.set(fixture.at);
    // Written through the log's interface, as a node of 7ab8287 wrote them: commands, then the snapshot.
    const writer = await createRedisCluster({ url: srv.url, clock, leaseTtlMs: 60_000, heartbeatTtlMs: 60_000, prefix: 'old' });
    for (const s of fixture.shards) {
      const r = await writer.lease.acquire(s.shard, 'old-node');
      if (!r.ok) throw new Error('lease');
      const { epoch } = await writer.log.open(s.shard, s.meta.epoch);
      const fence = { token: r.grant.token, epoch };
      // Offsets the old owner's snapshot trimmed away stand in as '{}' (never replayed: they are before it).
      const commands = Array.from({ length: s.meta.head }, (_, i) => s.log.find((e) => e.offset === i + 1)?.command ?? '{}');
      await writer.log.append(s.shard, fence, 0, 'fixture', commands);
      if (s.snap !== null) await writer.log.snapshot(s.shard, fence, s.snap.offset, s.snap.data, 3);
      await writer.lease.release(r.grant);
    }
    await writer.close();
    const cluster = (c = await startCluster(3, (ck) => createRedisCluster({ url: srv.url, clock: ck, leaseTtlMs: 60_000, heartbeatTtlMs: 60_000, prefix: 'old' }), { autoTick: true }, clock));
    const engines = new Map(cluster.nodes.flatMap((n) => [...n.runtime.engines]));
    expect(engines.size).toBe(16);
    for (const [s, e] of engines) expect(e.core.exportState()).toEqual((fixture.expected as Record<string, unknown>)[s]);
  }, 60_000);
});
