// Pure ownership decisions for one node: from the live nodes, the leases it holds and the time, which
// leases to take, renew, give up (handoff to the intended owner) or drop (run out). No I/O: node.ts performs.
import { ownerOf } from './shardMap';
import type { LeaseGrant } from './types';

export interface OwnershipView {
  me: string;
  shards: number;
  /** Nodes with a current heartbeat (sorted or not). */
  live: readonly string[];
  now: number;
  held: ReadonlyMap<number, LeaseGrant>;
  /** Renew a lease once it has this little left. */
  renewBeforeMs: number;
}

export type OwnershipAction =
  | { type: 'acquire'; shard: number }
  | { type: 'renew'; grant: LeaseGrant }
  /** Graceful handoff: another live node is the intended owner. `to` is told at once over the bus. */
  | { type: 'release'; grant: LeaseGrant; to: string | undefined }
  /** The lease ran out on our clock: stop writing now (the storage would refuse us anyway once taken). */
  | { type: 'drop'; grant: LeaseGrant };

export function planOwnership(v: OwnershipView): OwnershipAction[] {
  const actions: OwnershipAction[] = [];
  const alive = v.live.includes(v.me);
  for (const [shard, grant] of v.held) {
    if (grant.expiresAt <= v.now) {
      actions.push({ type: 'drop', grant });
      continue;
    }
    const intended = ownerOf(shard, v.live);
    // Not in the live set (our heartbeat ran out): the others are about to take our shards; hand them over.
    if (!alive || (intended !== undefined && intended !== v.me)) {
      actions.push({ type: 'release', grant, to: intended });
    } else if (grant.expiresAt - v.now <= v.renewBeforeMs) {
      actions.push({ type: 'renew', grant });
    }
  }
  if (alive) {
    for (let shard = 0; shard < v.shards; shard++) {
      if (!v.held.has(shard) && ownerOf(shard, v.live) === v.me) actions.push({ type: 'acquire', shard });
    }
  }
  return actions;
}

/** For a stopping node: every lease goes, to the owner the others will pick without it. */
export function planLeave(me: string, live: readonly string[], held: ReadonlyMap<number, LeaseGrant>): OwnershipAction[] {
  const rest = live.filter((n) => n !== me);
  return [...held].map(([shard, grant]) => ({ type: 'release', grant, to: ownerOf(shard, rest) }) as const);
}
