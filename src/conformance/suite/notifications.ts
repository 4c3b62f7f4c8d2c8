// The suite's tests of notifications (NTF), gates (GATE) and limits (LIM).
import { DEFAULT_LIMITS, TYPES } from '../../../machines/spec';
import { EVENT } from '../../events';
import type { UserStatus } from '../../types';
import { test, type ConformanceTest } from '../define';
import { expect, failure } from '../expect';

const { USER_STATUS_ONLINE: ONLINE, USER_STATUS_UNLOGINED: UNLOGINED } = TYPES;

export const NOTIFICATIONS: ConformanceTest[] = [
  test('NTF-1 a notification is onUserStatusUpdated carrying an array of {userID, statusType, customStatus}', async (t) => {
    const w = await t.world(['alice', 'bob']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    await alice.client.subscribeUserStatus({ userIDList: [w.u.bob] });
    await bob.client.setSelfStatus({ customStatus: 'hello' });
    await w.settle();
    const updates = alice.events.filter((e) => e.name === EVENT.USER_STATUS_UPDATED);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.name).toBe('onUserStatusUpdated');
    expect(Array.isArray(updates[0]!.data)).toBe(true);
    expect((updates[0]!.data as UserStatus[])[0]).toMatchObject({ userID: w.u.bob, statusType: ONLINE, customStatus: 'hello' });
  }),

  test('NTF-2 a change reaches own devices, subscribers and friends (friendStatusNotify), each user once', ['configure'], async (t) => {
    const w = await t.world(['alice', 'bob', 'carol', 'dave'], { switches: { friendStatusNotify: true } });
    await w.admin.addFriends(w.u.bob, [w.u.alice]); // bob lists alice: friend and subscriber
    await w.admin.addFriends(w.u.carol, [w.u.alice]); // carol lists alice: friend only
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    const carol = await w.online('carol');
    const dave = await w.online('dave');
    await bob.client.subscribeUserStatus({ userIDList: [w.u.alice] });
    await w.settle();
    w.clearAll();
    await alice.client.setSelfStatus({ customStatus: 'lunch' });
    await w.settle();
    expect(alice.about(w.u.alice)).toEqual([[ONLINE, 'lunch']]);
    expect(bob.about(w.u.alice)).toEqual([[ONLINE, 'lunch']]);
    expect(carol.about(w.u.alice)).toEqual([[ONLINE, 'lunch']]);
    expect(dave.heard).toEqual([]);
  }),

  test('NTF-3 without friendStatusNotify and without a subscription, a friend hears nothing', async (t) => {
    const w = await t.world(['alice', 'bob']);
    await w.admin.addFriends(w.u.bob, [w.u.alice]);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    await alice.client.setSelfStatus({ customStatus: 'quiet' });
    await alice.client.logout();
    await w.settle();
    expect(bob.heard).toEqual([]);
  }),

  test('NTF-2 friend auto-notification: with friendStatusNotify a friend hears login, custom status and logout', ['configure'], async (t) => {
    const w = await t.world(['alice', 'bob'], { switches: { friendStatusNotify: true } });
    await w.admin.addFriends(w.u.bob, [w.u.alice]);
    const bob = await w.online('bob');
    const alice = await w.online('alice');
    await alice.client.setSelfStatus({ customStatus: 'here' });
    await alice.client.logout();
    await w.settle();
    expect(bob.about(w.u.alice)).toEqual([
      [ONLINE, ''],
      [ONLINE, 'here'],
      [UNLOGINED, 'here'],
    ]);
    await w.admin.removeFriends(w.u.bob, [w.u.alice]);
    bob.clear();
    const again = await w.online('alice');
    await again.client.setSelfStatus({ customStatus: 'gone' });
    await w.settle();
    expect(bob.heard).toEqual([]);
  }),
];

export const GATES: ConformanceTest[] = [
  test('GATE-2 only the three calls need Ultimate (3122): setSelfStatus and a self query do not', ['configure'], async (t) => {
    const w = await t.world(['alice', 'bob'], { edition: 'pro' });
    const alice = await w.online('alice');
    expect((await failure(alice.client.getUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
    expect((await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
    expect((await failure(alice.client.unsubscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
    expect((await alice.client.setSelfStatus({ customStatus: 'free' })).data.customStatus).toBe('free');
    expect((await alice.client.getUserStatus({ userIDList: [w.u.alice] })).data.successUserList[0]!.customStatus).toBe('free');
  }),

  test('GATE-3 the userStatus switch gates the same three (72001); with both missing 3122 is reported', ['configure'], async (t) => {
    const w = await t.world(['alice', 'bob'], { switches: { userStatus: false } });
    const alice = await w.online('alice');
    expect((await failure(alice.client.getUserStatus({ userIDList: [w.u.bob] }))).code).toBe(72001);
    expect((await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(72001);
    expect((await failure(alice.client.unsubscribeUserStatus())).code).toBe(72001);
    await alice.client.setSelfStatus({ customStatus: 'fine' });
    await w.admin.configure({ edition: 'trial' });
    expect((await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
  }),
];

export const LIMITS: ConformanceTest[] = [
  test('LIM-1 rateLimit.requests calls per window per user and API; the next fails with 2996 and when to retry, and uses no quota', ['configure', 'timeControl'], async (t) => {
    // A rate below the Web SDK's own 20 per 5 s, so that the server's window is what every target meets.
    const requests = 3;
    const windowMs = DEFAULT_LIMITS.rateLimit.windowMs;
    const w = await t.world(['alice', 'bob'], { limits: { rateLimit: { requests } } });
    const alice = await w.online('alice');
    const retryIn = (e: { message: string; retryAfterMs?: number }, ms: number) => {
      expect(e.message).toContain(`retry in ${ms} ms`);
      if (t.caps.extensionFields) expect(e.retryAfterMs).toBe(ms); // EXT-6
    };
    for (let i = 0; i < requests; i++) await alice.client.getUserStatus({ userIDList: [w.u.bob] });
    const e = await failure(alice.client.getUserStatus({ userIDList: [w.u.bob] }));
    expect(e.code).toBe(2996);
    retryIn(e, windowMs);
    // Another API has its own window.
    await alice.client.subscribeUserStatus({ userIDList: [w.u.bob] });
    await w.advance(windowMs - 1);
    retryIn(await failure(alice.client.getUserStatus({ userIDList: [w.u.bob] })), 1);
    await w.advance(1);
    // The refused calls used no quota: the window held only the first calls, now all out of it.
    for (let i = 0; i < requests; i++) await alice.client.getUserStatus({ userIDList: [w.u.bob] });
    expect((await failure(alice.client.getUserStatus({ userIDList: [w.u.bob] }))).code).toBe(2996);
  }),
];
