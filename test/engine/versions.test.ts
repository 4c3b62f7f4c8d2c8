// Issue 17 (EXT-2 as a viewer sees it): a viewer is never shown a new version for a status it was not told
// changed: not by a query, not by pushCurrent, not by a resume. The three cases of the issue, through the
// public API of the embedded engine (test/client/versions-remote.test.ts runs them through the server).
import { describe, expect, it } from 'vitest';
import { TYPES } from '../../src/index';
import { world } from './harness';

const versionOf = async (d: { client: { getUserStatus(o: { userIDList: string[] }): Promise<{ data: { successUserList: Array<{ version: number; statusType: number }> } }> } }, id: string) =>
  (await d.client.getUserStatus({ userIDList: [id] })).data.successUserList[0]!;

describe('EXT-2 versions as a viewer sees them (issue 17)', () => {
  it('EXT-2 EXT-7 a drop and return within flapGraceMs: others are told nothing, and their query shows the version they were last told', async () => {
    const w = await world({ limits: { flapGraceMs: 5000 } });
    const alice = await w.online('alice', 'ios');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    const told = await versionOf(bob, 'alice');
    alice.client.disconnect('link_closed');
    w.clock.increment(1000);
    await alice.client.reconnect();
    w.clock.increment(10_000);
    expect(bob.heard).toEqual([]);
    expect(await versionOf(bob, 'alice')).toMatchObject({ version: told.version, statusType: TYPES.USER_STATUS_ONLINE });
    // The next change others are told of may skip versions, and from then on queries show it.
    await alice.client.setSelfStatus({ customStatus: 'back' });
    const next = bob.heard.at(-1)!;
    expect(next.version).toBeGreaterThan(told.version + 1);
    expect((await versionOf(bob, 'alice')).version).toBe(next.version);
    // pushCurrent shows the same version.
    bob.clear();
    await bob.client.subscribeUserStatus({ userIDList: ['alice'], pushCurrent: true });
    expect(bob.heard).toEqual([expect.objectContaining({ userID: 'alice', version: next.version })]);
  });

  it("EXT-2 EXT-5 switching to 'friends' is not news to a friend: it is not told, and its query shows the same version", async () => {
    const w = await world();
    await w.engine.addFriends('alice', ['bob']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    const carol = await w.online('carol');
    for (const d of [bob, carol]) await d.client.subscribeUserStatus({ userIDList: ['alice'] });
    const before = await versionOf(bob, 'alice');
    await alice.client.setVisibility('friends');
    expect(bob.heard).toEqual([]);
    expect(await versionOf(bob, 'alice')).toEqual(before);
    // carol, who is not a friend, is told alice went hidden, and sees that version.
    expect(carol.heard).toEqual([expect.objectContaining({ statusType: TYPES.USER_STATUS_UNLOGINED, reason: 'visibility_changed' })]);
    expect((await versionOf(carol, 'alice')).version).toBe(carol.heard[0]!.version);
    // alice herself sees her own version move.
    expect((await w.status('alice')).version).toBe(before.version + 1);
  });

  it('EXT-2 EXT-5 a second change of visibility of a user already hidden from a viewer moves nothing the viewer sees', async () => {
    const w = await world();
    await w.engine.addFriends('alice', ['bob']);
    const alice = await w.online('alice');
    const carol = await w.online('carol');
    await carol.client.subscribeUserStatus({ userIDList: ['alice'] });
    await alice.client.setVisibility('nobody');
    const hidden = await versionOf(carol, 'alice');
    expect(hidden.statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
    carol.clear();
    await alice.client.setVisibility('friends');
    await alice.client.setSelfStatus({ customStatus: 'busy' });
    await alice.client.setVisibility('nobody');
    expect(carol.heard).toEqual([]);
    expect(await versionOf(carol, 'alice')).toEqual(hidden);
    // A resume shows carol nothing new either.
    carol.client.disconnect('network_lost');
    await alice.client.setVisibility('friends');
    await carol.client.reconnect();
    expect(carol.heard).toEqual([]);
    // Shown again: carol is told, with a version above the hidden one.
    await alice.client.setVisibility('everyone');
    expect(carol.heard).toEqual([expect.objectContaining({ statusType: TYPES.USER_STATUS_ONLINE, customStatus: 'busy' })]);
    expect(carol.heard[0]!.version).toBeGreaterThan(hidden.version);
  });
});
