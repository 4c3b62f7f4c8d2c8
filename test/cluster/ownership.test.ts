// The pure ownership plan: take what is ours, renew in time, hand over what another live node should own,
// drop what ran out, and take nothing while our own heartbeat is not current.
import { describe, expect, it } from 'vitest';
import { planLeave, planOwnership, type OwnershipView } from '../../src/cluster/ownership';
import { ownerOf } from '../../src/cluster/shardMap';
import type { LeaseGrant } from '../../src/cluster/types';

const g = (shard: number, expiresAt: number, node = 'a'): LeaseGrant => ({ shard, node, token: 1, expiresAt });
const view = (o: Partial<OwnershipView>): OwnershipView => ({ me: 'a', shards: 8, live: ['a'], now: 0, held: new Map(), renewBeforeMs: 2_000, ...o });
const shardOwnedBy = (node: string, live: string[], not = -1) => {
  for (let s = 0; s < 8; s++) if (s !== not && ownerOf(s, live) === node) return s;
  throw new Error(`no shard for ${node}`);
};

describe('ownership plan', () => {
  it('alone, a node acquires every shard', () => {
    expect(planOwnership(view({}))).toEqual(Array.from({ length: 8 }, (_, shard) => ({ type: 'acquire', shard })));
  });

  it('acquires only the shards whose intended owner it is', () => {
    const live = ['a', 'b', 'c'];
    const acquired = planOwnership(view({ live })).map((x) => (x.type === 'acquire' ? x.shard : -1));
    expect(acquired).toEqual([...Array(8).keys()].filter((s) => ownerOf(s, live) === 'a'));
  });

  it('renews a lease only once it has renewBeforeMs or less left', () => {
    const s = shardOwnedBy('a', ['a', 'b']);
    const held = new Map([[s, g(s, 3_000)]]);
    const renews = (now: number) => planOwnership(view({ live: ['a', 'b'], held, now })).filter((x) => x.type === 'renew');
    expect(renews(999)).toEqual([]);
    expect(renews(1_000)).toEqual([{ type: 'renew', grant: g(s, 3_000) }]);
  });

  it('drops a lease that ran out on its clock, whoever should own it', () => {
    const held = new Map([[0, g(0, 3_000)]]);
    expect(planOwnership(view({ held, now: 3_000 })).filter((x) => x.type !== 'acquire')).toEqual([{ type: 'drop', grant: g(0, 3_000) }]);
  });

  it("hands a shard to the live node that should own it (a node joined), naming it for the wake-up", () => {
    const s = shardOwnedBy('b', ['a', 'b']);
    const held = new Map([[s, g(s, 3_000)]]);
    expect(planOwnership(view({ live: ['a', 'b'], held })).filter((x) => x.type === 'release')).toEqual([{ type: 'release', grant: g(s, 3_000), to: 'b' }]);
  });

  it('not in the live set (its heartbeat ran out): takes nothing and gives everything up', () => {
    const held = new Map([[0, g(0, 3_000)]]);
    const plan = planOwnership(view({ live: ['b'], held }));
    expect(plan).toEqual([{ type: 'release', grant: g(0, 3_000), to: 'b' }]);
  });

  it('on leave, every lease goes to the owner the others will choose', () => {
    const held = new Map([[1, g(1, 9)], [2, g(2, 9)]]);
    expect(planLeave('a', ['a', 'b', 'c'], held)).toEqual([
      { type: 'release', grant: g(1, 9), to: ownerOf(1, ['b', 'c']) },
      { type: 'release', grant: g(2, 9), to: ownerOf(2, ['b', 'c']) },
    ]);
    expect(planLeave('a', ['a'], held).map((x) => x.type === 'release' && x.to)).toEqual([undefined, undefined]);
  });
});
