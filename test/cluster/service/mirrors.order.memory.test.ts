// Mirrors of one edge in the source's order (3 in-process nodes, memory backend, simulated clock): a user
// subscribes to a user of another node's shard and unsubscribes again; the subscription's mirror does not get
// through at first (the target's owner unreachable for a moment) and is retried after the unsubscription's
// mirror landed. The target must end as the source is (no subscription), not with the edge the retried, older
// mirror adds: it would hand the target's changes to a device that unsubscribed.
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterError, ClusterErrorCode } from '../../../src/cluster/errors';
import type { Request } from '../../../src/cluster/runtime';
import { ClusterClient } from './client';
import { memoryBackends, startCluster, type Cluster } from './harness';

let c: Cluster;
afterEach(async () => c?.close());

async function setup() {
  c = await startCluster(3, memoryBackends(3_600_000).make, { mirrorRetryMs: 500 });
  const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
  await c.nodes[0]!.admin.registerUsers(users);
  const a = users[0]!;
  const b = users.find((u) => c.ownerNode(u) !== c.ownerNode(a))!;
  const target = c.ownerNode(b);
  const ca = new ClusterClient(c.portOf, 'web');
  const cb = new ClusterClient(c.portOf, 'web');
  await ca.login({ userID: a });
  await cb.login({ userID: b });
  const heard: string[] = [];
  ca.on('onUserStatusUpdated', (e) => heard.push(...e.data.filter((s) => s.userID === b).map((s) => s.customStatus)));
  // The target's owner refuses the next `n` mirrors (unreachable for a moment: the source retries them).
  let refuse = 0;
  const rt = target.runtime as unknown as { serve(r: Request): Promise<unknown> };
  const serve = rt.serve.bind(rt);
  rt.serve = async (r) => {
    if (r.op === 'mirror' && refuse > 0) {
      refuse -= 1;
      throw new ClusterError(ClusterErrorCode.NOT_OWNER, 'unreachable for a moment (test)');
    }
    return serve(r);
  };
  const subscribersOfB = () => [...(target.runtime.engineOf(b)!.store.subscribersOf(b) ?? [])];
  return { a, b, ca, cb, heard, refuseNext: (n: number) => (refuse = n), subscribersOfB };
}

describe('mirrors of one edge in the source order (memory backend, 3 nodes)', () => {
  it('UNSUB-1: a subscription retried after its unsubscription landed does not come back at the target', async () => {
    const { a, b, ca, cb, heard, refuseNext, subscribersOfB } = await setup();
    refuseNext(1);
    await ca.subscribeUserStatus({ userIDList: [b] });
    await c.settle();
    expect(subscribersOfB()).toEqual([]); // its mirror did not get through yet
    await ca.unsubscribeUserStatus({ userIDList: [b] });
    await c.settle();
    await c.advance(10_000, 250); // the retries run
    expect(subscribersOfB()).toEqual([]);
    await cb.setSelfStatus({ customStatus: 'after' });
    await c.settle();
    expect(heard).toEqual([]);
    // The edge still works both ways afterwards.
    await ca.subscribeUserStatus({ userIDList: [b] });
    await c.settle();
    expect(subscribersOfB()).toEqual([a]);
  });

  it('SUB-1: an unsubscription retried after a new subscription landed does not remove it', async () => {
    const { a, b, ca, cb, heard, refuseNext, subscribersOfB } = await setup();
    await ca.subscribeUserStatus({ userIDList: [b] });
    await c.settle();
    expect(subscribersOfB()).toEqual([a]);
    refuseNext(1);
    await ca.unsubscribeUserStatus({ userIDList: [b] });
    await c.settle();
    await ca.subscribeUserStatus({ userIDList: [b] });
    await c.settle();
    await c.advance(10_000, 250);
    expect(subscribersOfB()).toEqual([a]);
    await cb.setSelfStatus({ customStatus: 'heard' });
    await c.settle();
    expect(heard).toEqual(['heard']);
  });

  it('UNSUB-1: a node frozen past its lease sends none of its retried mirrors when it wakes (the new owner\'s are newer)', async () => {
    const LEASE_MS = 10_000;
    c = await startCluster(3, memoryBackends(LEASE_MS).make, { autoTick: true, mirrorRetryMs: 500 });
    const users = Array.from({ length: 40 }, (_, i) => `u${i}`);
    await c.nodes[0]!.admin.registerUsers(users);
    const victim = c.nodes[1]!;
    const a = users.find((u) => c.ownerNode(u) === victim)!;
    const b = users.find((u) => c.ownerNode(u) !== victim)!;
    const target = c.ownerNode(b);
    const subscribersOfB = () => [...(target.runtime.engineOf(b)!.store.subscribersOf(b) ?? [])];
    // The victim cannot reach the target's owner: a's subscription is durable in a's log, its mirror waits.
    let cut = true;
    const request = victim.runtime.forwarder.request.bind(victim.runtime.forwarder);
    victim.runtime.forwarder.request = (to, shard, body) => (cut && (body as Request).op === 'mirror' ? Promise.reject(new Error('cut (test)')) : request(to, shard, body));
    const ca = new ClusterClient(() => victim.port, 'web');
    await ca.login({ userID: a });
    await ca.subscribeUserStatus({ userIDList: [b] });
    await c.settle();
    expect(subscribersOfB()).toEqual([]);
    // It freezes; another node takes a's shard after the lease, sends the log's mirror again, then a unsubscribes there.
    victim.runtime.node.freeze();
    await c.advance(3 * LEASE_MS, 1000);
    const owner = c.nodes.find((s) => s !== victim && s.runtime.engines.has(victim.shardOf(a)))!;
    expect(owner).toBeDefined();
    expect(subscribersOfB()).toEqual([a]);
    const ca2 = new ClusterClient(() => owner.port, 'web');
    await ca2.login({ userID: a });
    await ca2.unsubscribeUserStatus({ userIDList: [b] });
    await c.settle();
    expect(subscribersOfB()).toEqual([]);
    // The frozen node's retry timers come due with the target reachable again: its stale mirror stays home.
    cut = false;
    await c.advance(40_000, 1000);
    expect(subscribersOfB()).toEqual([]);
    victim.runtime.node.thaw();
    await c.advance(5000, 1000);
    expect(subscribersOfB()).toEqual([]);
    expect(victim.runtime.engines.has(victim.shardOf(a))).toBe(false);
  });
});
