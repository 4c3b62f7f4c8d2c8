// Three ClusterServices over the in-memory backend: the basics of the node side, before the whole suite.
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, type Cluster } from './harness';

let c: Cluster;
afterEach(async () => c?.close());

describe('cluster service (memory backend, 3 nodes)', () => {
  it('spreads the shards over the nodes, one owner each', async () => {
    c = await startCluster(3, memoryBackends(3_600_000).make);
    const owned = c.nodes.map((s) => s.health().shards);
    expect(owned.every((o) => o.length > 0)).toBe(true);
    expect(owned.flat().sort((a, b) => a - b)).toEqual([...Array(16).keys()]);
  });

  it('a change reaches a subscriber whose shard is on another node, once, after it is durable', async () => {
    c = await startCluster(3, memoryBackends(3_600_000).make);
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const a = users[0]!;
    const b = users.find((u) => c.ownerNode(u) !== c.ownerNode(a))!;
    const ca = new ClusterClient(c.portOf, 'web');
    const cb = new ClusterClient(c.portOf, 'web');
    await ca.login({ userID: a });
    await cb.login({ userID: b });
    const heard: unknown[] = [];
    cb.on('onUserStatusUpdated', (e) => heard.push(...e.data));
    await cb.subscribeUserStatus({ userIDList: [a] });
    await ca.setSelfStatus({ customStatus: 'hello' });
    await c.settle();
    expect(heard).toMatchObject([{ userID: a, customStatus: 'hello' }]);
    const r = await cb.getUserStatus({ userIDList: [a] });
    expect(r.data.successUserList).toMatchObject([{ userID: a, customStatus: 'hello' }]);
  });
});
