// The node's user count, online list and exported state on 3 in-process nodes (memory backend): each shard
// engine keeps mirror records of other shards' users (their subscriptions to and friendships with its users,
// src/engine/shard.ts applyMirror); those are edges, not registrations, and must not be counted as users,
// neither live nor in a shard rebuilt from snapshot + log by another node.
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, type Cluster } from './harness';

const LEASE_MS = 10_000;
let c: Cluster;
afterEach(async () => c?.close());

const total = () => c.nodes.reduce((n, s) => n + s.port.userCount(), 0);
const exported = () => c.nodes.flatMap((s) => Object.keys(s.port.exportState().users)).sort();

describe('userCount on a sharded cluster (memory backend, 3 nodes)', () => {
  it('counts each registered user once, not the mirror records other shards keep of it, before and after a takeover', async () => {
    c = await startCluster(3, memoryBackends(LEASE_MS).make, { autoTick: true, snapshot: { everyCommands: 3, retain: 100_000 } });
    const users = Array.from({ length: 30 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    expect(total()).toBe(30);
    // Edges across shards: every user subscribes to, and is friends (both ways) with, users of other shards.
    const clients = users.slice(0, 10).map(() => new ClusterClient(c.portOf, 'web'));
    for (const [i, cl] of clients.entries()) {
      const me = users[i]!;
      const others = users.filter((u) => c.nodes[0]!.shardOf(u) !== c.nodes[0]!.shardOf(me)).slice(0, 4);
      await cl.login({ userID: me });
      await cl.subscribeUserStatus({ userIDList: others });
      await c.nodes[i % 3]!.admin.changeFriends(me, others.slice(0, 2), true, true);
    }
    await c.settle();
    // The edges are there: some engine keeps a record of a user it does not own.
    const mirrored = c.nodes.some((s) => [...s.runtime.engines.values()].some((e) => users.some((u) => s.shardOf(u) !== e.shard && e.store.getSubscriptions(u) !== undefined)));
    expect(mirrored).toBe(true);
    expect(total()).toBe(30);
    expect(exported()).toEqual([...users].sort());
    expect(c.nodes.flatMap((s) => s.port.onlineUserIDs()).sort()).toEqual(users.slice(0, 10).sort());

    // A node freezes; its shards are rebuilt elsewhere from snapshot + log: still each user once.
    const victim = c.nodes[1]!;
    victim.runtime.node.freeze();
    await c.advance(3 * LEASE_MS, 1000);
    const live = c.nodes.filter((s) => s !== victim);
    expect(live.reduce((n, s) => n + s.runtime.engines.size, 0)).toBe(16);
    expect(live.reduce((n, s) => n + s.port.userCount(), 0)).toBe(30);
    expect(live.flatMap((s) => Object.keys(s.port.exportState().users)).sort()).toEqual([...users].sort());
  });
});
