// Graceful handoff (SIGTERM → service.stop()) inside one process, memory backend, simulated clock: the
// peers own every shard of the stopping node and answer its users' calls without any simulated time
// passing (no lease waited out), also when a peer's rebalance hint reaches the stopping node mid-handoff,
// and every node's view routes the users to the new owners at once.
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, type Cluster } from './harness';

const LEASE_MS = 10_000;
let c: Cluster;
afterEach(async () => c?.close());

async function setup() {
  const mem = memoryBackends(LEASE_MS);
  c = await startCluster(3, mem.make, { autoTick: true });
  const users = Array.from({ length: 60 }, (_, i) => `u${i}`);
  await c.nodes[0]!.admin.registerUsers(users);
  const victim = c.nodes[1]!;
  const mine = users.filter((u) => c.ownerNode(u) === victim);
  return { mem, users, victim, mine };
}

describe('graceful handoff (memory backend, 3 nodes)', () => {
  it('a round asked of the stopping node mid-handoff (a peer\'s rebalance hint) takes nothing back and does not rejoin', async () => {
    const { victim, mine } = await setup();
    const ca = new ClusterClient(c.portOf, 'web');
    await ca.login({ userID: mine[0]! });
    await ca.setSelfStatus({ customStatus: 'before' });
    // What a peer that took a shard does: it asks every node it sees alive for a round, the stopping one included.
    let hinted = 0;
    victim.onShardLost(() => {
      if (hinted++ === 0) void victim.runtime.node.tick();
    });
    const t0 = c.clock.now();
    await victim.stop();
    await c.settle();
    expect(hinted).toBeGreaterThan(0);
    expect(c.clock.now()).toBe(t0);
    expect(victim.runtime.node.view().shards).toEqual([]);
    expect(await c.backends[0]!.membership.live()).not.toContain(victim.nodeId);
    const peers = c.nodes.filter((s) => s !== victim);
    expect(peers.flatMap((s) => s.health().shards).sort((x, y) => x - y)).toEqual([...Array(16).keys()]);
    // The new owner answers the user's call with the clock where it was.
    await ca.setSelfStatus({ customStatus: 'after' });
    expect(c.clock.now()).toBe(t0);
    expect((await peers[0]!.admin.queryStatus([mine[0]!], undefined))[0]!.customStatus).toBe('after');
  });

  it('every remaining node routes the stopping node\'s users to their new owners at once, not at its next round', async () => {
    const { victim, mine } = await setup();
    const t0 = c.clock.now();
    await victim.stop();
    await c.settle();
    expect(c.clock.now()).toBe(t0);
    const peers = c.nodes.filter((s) => s !== victim);
    for (const u of mine) {
      const owner = peers.find((s) => s.runtime.engines.has(s.shardOf(u)))!;
      expect(owner).toBeDefined();
      // Both peers (the one told of this shard, and the other) name the node that serves it now.
      for (const p of peers) expect(p.ownerOf(u)).toBe(owner.nodeId);
    }
  });
});
