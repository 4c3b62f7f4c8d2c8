// DEV-1 / EXT-2 over 3 in-process nodes (memory backend, simulated clock): a comeback (the hub's adopt of a
// device it does not hold) whose resume fails after the device came back: the resume reads a user of another
// node's shard whose fetched facts are gone (NOT_PREPARED: in the chaos bench a shard handed over between the
// prepare and the call). The session used to be left logged in as 'null': the hub then refused the client's
// resume as kicked out and its login with 6017 "this device is logged in as 'null'", for good.
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterErrorCode } from '../../../src/cluster/errors';
import { TYPES } from '../../../src/index';
import { aliceAndBobApart, memoryBackends, startCluster, type Cluster } from './harness';

let c: Cluster;
afterEach(async () => c?.close());

const codeOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: number }).code;
  }
  return undefined;
};

/** 3 nodes (facts kept 10 ms), 60 users: alice's device 'alice-web' as a session on her owner's port, logged in and
 * subscribed to bob, whose shard another node owns. */
async function aliceFollowsBob() {
  c = await startCluster(3, memoryBackends(3_600_000).make, { readTtlMs: 10 });
  const { alice, node, bob } = await aliceAndBobApart(c);
  const first = node.port.openSession('web', () => {}, 'alice-web');
  await node.port.prepare('login', first, alice);
  await node.port.acknowledge(node.port.login(first, alice));
  const sub = { userIDList: [bob] };
  await node.port.prepare('subscribe', first, sub);
  await node.port.acknowledge(node.port.subscribe(first, sub));
  return { node, alice, first };
}

describe('a comeback whose resume fails after the device came back (memory backend, 3 nodes)', () => {
  it('DEV-1 EXT-2: the session keeps its user and its engine: the retried resume works, and its close reaches the owner (no ghost)', async () => {
    const { node, alice, first } = await aliceFollowsBob();
    await c.settle();

    // The hub no longer holds the device (its socket went, the hub let it go): a new session adopts it.
    const again = node.port.openSession('web', () => {}, 'alice-web');
    await node.port.prepare('adopt', again, alice);
    c.clock.increment(20); // what was fetched for the call is gone before it runs
    expect(codeOf(() => node.port.adopt(again, alice, { versions: {} }))).toBe(ClusterErrorCode.NOT_PREPARED);
    expect([again.userID, again.loggedIn]).toEqual([alice, true]);
    await c.settle();

    // The client's retried resume (the hub finds the session as alice's) catches up; a login is a repeat login.
    await node.port.prepare('reconnect', again, { versions: {} });
    await node.port.acknowledge(node.port.reconnect(again, { versions: {} }));
    expect(node.port.login(again, alice).repeatLogin).toBe(true);
    expect(node.port.statusOf(alice, null).statusType).toBe(TYPES.USER_STATUS_ONLINE);

    // The session is the engine's: the hub's close of it reaches the engine, and alice goes offline (no ghost).
    node.port.closeSession(again);
    node.port.closeSession(first);
    await c.settle();
    await c.advance(120_000, 5_000);
    expect(node.port.statusOf(alice, null).statusType).not.toBe(TYPES.USER_STATUS_ONLINE);
  });

  it('DEV-1: a device whose socket goes right after the failed resume is closed in its engine (no ghost)', async () => {
    const { node, alice, first } = await aliceFollowsBob();
    node.port.closeSession(first);
    await c.settle();

    const again = node.port.openSession('web', () => {}, 'alice-web');
    await node.port.prepare('adopt', again, alice);
    c.clock.increment(20);
    expect(codeOf(() => node.port.adopt(again, alice, { versions: {} }))).toBe(ClusterErrorCode.NOT_PREPARED);
    await c.settle();
    expect(node.port.statusOf(alice, null).statusType).toBe(TYPES.USER_STATUS_ONLINE);
    node.port.closeSession(again); // the hub forgets it (its socket went)
    await c.settle();
    await c.advance(120_000, 5_000);
    expect(node.port.statusOf(alice, null).statusType).not.toBe(TYPES.USER_STATUS_ONLINE);
  });
});
