// What a test across processes waits for before it reads what devices heard (memory backend, simulated clock, 3
// nodes): health().pushes. An answered call whose push to another node has not arrived yet shows as a push sent and
// not taken; a node about to resume a taken shard's devices shows busy. The multi-node suite's settle()
// (test/cluster/multi/target.ts, drain.ts) waits for neither; it used to wait for "150 ms with no event", counted
// from the last event, which let ST-8 read bob's events before alice's logout reached him.
import { afterEach, describe, expect, it } from 'vitest';
import { follower } from './client';
import { aliceAndBobApart, memoryBackends, startCluster, turn, type Cluster } from './harness';

const LEASE = 10_000;
let c: Cluster;
afterEach(async () => c?.close());

/** notDrained() of drain.ts over one look at every node, in one process. */
function drained(): boolean {
  const ts = c.nodes.map((n) => n.health().pushes!);
  if (ts.some((t) => t.busy)) return false;
  return ts.reduce((s, t) => s + t.sent - t.lost, 0) === ts.reduce((s, t) => s + t.received, 0);
}

describe('health().pushes: what is still on its way between nodes (memory backend, 3 nodes)', () => {
  it('an acknowledged change whose push has not reached the subscriber\'s node is a push sent and not taken', async () => {
    c = await startCluster(3, memoryBackends(LEASE).make, { autoTick: false });
    const { alice, node, bob } = await aliceAndBobApart(c);
    const { cb, heard } = await follower(c.portOf, alice, bob);
    await c.settle();
    expect(drained()).toBe(true);
    const before = node.health().pushes!;

    await cb.setSelfStatus({ customStatus: 'a1' }); // answered: durable, its push made but not yet published
    expect(heard).toEqual([]);
    expect(node.health().pushes!.sent).toBe(before.sent + 1);
    expect(drained()).toBe(false);

    for (let i = 0; i < 3; i++) await turn(); // published, arrived, delivered
    expect(heard).toEqual(['a1']);
    expect(drained()).toBe(true);
  });

  it('a node that took shards is busy until it resumed their devices (two rounds later)', async () => {
    c = await startCluster(3, memoryBackends(LEASE).make, { autoTick: false });
    await aliceAndBobApart(c);
    const [x, ...others] = c.nodes;
    await x!.stop(); // SIGTERM: hands its shards over at once
    await Promise.all(others.map((n) => n.runtime.node.tick()));
    await c.settle();
    expect(others.some((n) => n.health().pushes!.busy)).toBe(true);
    await c.advance(2 * others[0]!.runtime.node.tickMs);
    expect(others.every((n) => !n.health().pushes!.busy)).toBe(true);
  });
});
