// Claims (src/cluster/node.ts): a node that takes a shard tells the others at once ('took'), and they route the
// shard there until their next round reads the member set; one that gives a shard up says so ('gave'), and a
// claim of it on that shard ends (its next owner's claim, or the member set, says where the shard is then).
import { SimulatedClock } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryCluster, MemoryStore } from '../../../src/cluster/memory';
import { ClusterNode } from '../../../src/cluster/node';
import { ownerOf } from '../../../src/cluster/shardMap';
import type { ClusterBackend } from '../../../src/cluster/types';
import { turn } from './harness';

const SHARDS = 8;
const nodes: ClusterNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop().catch(() => undefined);
});

async function world() {
  const clock = new SimulatedClock();
  const store = new MemoryStore();
  const backends: ClusterBackend[] = [];
  const start = async (id: string) => {
    const backend = createMemoryCluster(store, { clock, leaseTtlMs: 3_600_000, heartbeatTtlMs: 3_600_000 });
    backends.push(backend);
    const n = new ClusterNode({ id, backend, clock, shards: SHARDS, autoTick: false });
    nodes.push(n);
    await n.start();
    return n;
  };
  const say = async (to: string, m: object) => {
    await backends[0]!.bus.publish(to, JSON.stringify(m));
    for (let i = 0; i < 5; i++) await turn();
  };
  return { start, say };
}

describe('claims on shards between rounds (memory backend)', () => {
  it('a took claim routes the shard to its claimer until the next round; a gave from the claimer ends it', async () => {
    const { start, say } = await world();
    const a = await start('a');
    const b = await start('b');
    await a.tick();
    await b.tick();
    const shard = [...Array(SHARDS).keys()].find((s) => ownerOf(s, ['a', 'b']) === 'a')!;
    expect(b.ownerOf(shard)).toBe('a');
    await say('b', { t: 'took', shard, from: 'c' });
    expect(b.ownerOf(shard)).toBe('c');
    await say('b', { t: 'gave', shard, from: 'x' }); // not the claimer's: changes nothing
    expect(b.ownerOf(shard)).toBe('c');
    await say('b', { t: 'gave', shard, from: 'c' });
    expect(b.ownerOf(shard)).toBe('a');
    // A claim lasts until a round begun after it: that round's member set says where the shard is.
    await say('b', { t: 'took', shard, from: 'c' });
    await b.tick();
    expect(b.ownerOf(shard)).toBe('a');
    // A shard the node holds itself is its own, whatever is claimed.
    const mine = b.view().shards[0]!;
    await say('b', { t: 'took', shard: mine, from: 'c' });
    expect(b.ownerOf(mine)).toBe('b');
  });

  it('a node that takes shards from another tells the third at once, which routes them to it before its own round', async () => {
    const { start } = await world();
    const byId = new Map<string, ClusterNode>();
    for (const id of ['a', 'c']) byId.set(id, await start(id));
    for (const n of byId.values()) await n.tick();
    // b joins; only the nodes giving it shards round: the other keeps its view {a, c}.
    const moving = [...Array(SHARDS).keys()].filter((s) => ownerOf(s, ['a', 'c']) !== ownerOf(s, ['a', 'b', 'c']));
    expect(moving.length).toBeGreaterThan(0);
    const b = await start('b');
    const givers = new Set(moving.map((s) => ownerOf(s, ['a', 'c'])!));
    for (const g of givers) await byId.get(g)!.tick();
    for (let i = 0; i < 10; i++) await turn();
    await b.settled();
    for (let i = 0; i < 10; i++) await turn();
    expect(b.view().shards).toEqual(expect.arrayContaining(moving));
    for (const [id, n] of byId) for (const s of moving) if (!givers.has(id) || ownerOf(s, ['a', 'c']) !== id) expect(n.ownerOf(s)).toBe('b');
    // Without the notice, a node that did not round would still name the giver (its member set is {a, c}).
    const third = [...byId.keys()].find((id) => !givers.has(id));
    expect(third).toBeDefined();
  });
});
