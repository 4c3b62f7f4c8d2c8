// NTF-1 across a failover (memory backend, simulated clock, 3 nodes, 48 shards): the node that takes a dead node's
// shards starts a new chain of each at every other node (ChainStart), and each new chain makes a receiver resync
// the devices that hear of that shard. A device that hears of many of the moved shards resumed once per shard, its
// whole scope fetched each time; the shards asked for while a pass of resyncs runs now share the next pass.
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, type Cluster } from './harness';

const LEASE = 10_000;
let c: Cluster;
afterEach(async () => c?.close());

describe('resyncs after a failover, many shards moved at once (memory backend, 3 nodes)', () => {
  it('NTF-1: a device that hears of every moved shard resumes at most twice, and holds the last status of each user', async () => {
    c = await startCluster(3, memoryBackends(LEASE).make, { autoTick: false, shards: 48 });
    const users = Array.from({ length: 400 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const [x, y] = c.nodes as [Cluster['nodes'][number], Cluster['nodes'][number]];
    // One user of each of x's shards; the follower lives on y.
    const byShard = new Map<number, string>();
    for (const u of users) if (c.ownerNode(u) === x && !byShard.has(x.shardOf(u))) byShard.set(x.shardOf(u), u);
    const targets = [...byShard.values()];
    expect(targets.length).toBeGreaterThan(8);
    const followerID = users.find((u) => c.ownerNode(u) === y)!;
    const sub = new ClusterClient(c.portOf, 'web');
    const last = new Map<string, string>();
    sub.on('onUserStatusUpdated', (e) => {
      for (const st of e.data as Array<{ userID: string; customStatus: string }>) last.set(st.userID, st.customStatus);
    });
    await sub.login({ userID: followerID });
    await sub.subscribeUserStatus({ userIDList: targets });
    // Each target changes once, so that y follows the chain of each of x's shards.
    const setters = await Promise.all(
      targets.map(async (u) => {
        const cl = new ClusterClient(c.portOf, 'web');
        await cl.login({ userID: u });
        await cl.setSelfStatus({ customStatus: `${u}-1` });
        return cl;
      }),
    );
    await c.settle();
    expect(targets.every((u) => last.get(u) === `${u}-1`)).toBe(true);

    // Then x's pushes to y are lost (a freeze before its PUBLISHes), and each target changes again: only a
    // resync can bring these to y.
    const bus = c.backends[c.nodes.indexOf(x)]!.bus;
    const publish = bus.publish.bind(bus);
    const toY = y.runtime.o.nodeId;
    bus.publish = async (channel, message) => (channel === toY && message.startsWith('["P"') ? 0 : publish(channel, message));
    for (const [i, cl] of setters.entries()) await cl.setSelfStatus({ customStatus: `${targets[i]}-2` });
    await c.settle();
    expect(targets.every((u) => last.get(u) === `${u}-1`)).toBe(true);

    const before = y.runtime.counts.resumes;
    await x.runtime.node.stop();
    await c.advance(LEASE, LEASE / 10);
    await c.settle();
    const movedToOthers = targets.filter((u) => c.ownerNode(u) !== y && c.ownerNode(u) !== x).length;
    expect(movedToOthers).toBeGreaterThan(2);
    expect(y.runtime.counts.resumes - before).toBeGreaterThan(0);
    expect(y.runtime.counts.resumes - before).toBeLessThanOrEqual(2);
    // And the follower's view is the truth, user by user.
    const truth = await sub.getUserStatus({ userIDList: targets });
    const now = new Map((truth.data.successUserList as Array<{ userID: string; customStatus: string }>).map((s) => [s.userID, s.customStatus]));
    expect(now.size).toBe(targets.length);
    for (const u of targets) expect([u, last.get(u)]).toEqual([u, now.get(u)]);
    expect(targets.every((u) => now.get(u) === `${u}-2`)).toBe(true);
  });
});
