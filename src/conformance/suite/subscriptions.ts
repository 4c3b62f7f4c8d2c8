// The suite's tests of subscribing (SUB) and unsubscribing (UNSUB).
import { TYPES } from '../../../machines/spec';
import { test, type ConformanceTest } from '../define';
import { expect, failure } from '../expect';

const { USER_STATUS_ONLINE: ONLINE, USER_STATUS_UNLOGINED: UNLOGINED } = TYPES;

export const SUBSCRIBE: ConformanceTest[] = [
  test('SUB-1 after subscribing, every change of the target reaches the subscriber', async (t) => {
    const w = await t.world(['alice', 'bob']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    const r = await alice.client.subscribeUserStatus({ userIDList: [w.u.bob] });
    expect(r.data.failureUserList).toEqual([]);
    await bob.client.setSelfStatus({ customStatus: 'a' });
    await bob.client.setSelfStatus({ customStatus: 'b' });
    await bob.client.logout();
    await w.settle();
    expect(alice.about(w.u.bob)).toEqual([
      [ONLINE, 'a'],
      [ONLINE, 'b'],
      [UNLOGINED, 'b'],
    ]);
  }),

  test('SUB-2 subscribing needs Ultimate (3122) and the userStatus switch (72001), and is rate limited (2996)', ['configure'], async (t) => {
    // A rate below the Web SDK's own 20 per 5 s, so that the server's window is what every target meets.
    const w = await t.world(['alice', 'bob'], { switches: { userStatus: false }, limits: { rateLimit: { requests: 3 } } });
    const alice = await w.online('alice');
    expect((await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(72001);
    await w.admin.configure({ edition: 'pro', switches: { userStatus: true } });
    expect((await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
    await w.admin.configure({ edition: 'ultimate' });
    for (let i = 0; i < 3; i++) await alice.client.subscribeUserStatus({ userIDList: [w.u.bob] });
    const e = await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }));
    expect(e.code).toBe(2996);
  }),

  test('SUB-3 subscribing to yourself fails for that entry only', async (t) => {
    const w = await t.world(['alice', 'bob']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    const r = await alice.client.subscribeUserStatus({ userIDList: [w.u.alice, w.u.bob] });
    expect(r.data.failureUserList).toMatchObject([{ userID: w.u.alice, code: 6017 }]);
    await bob.client.setSelfStatus({ customStatus: 'x' });
    await w.settle();
    expect(alice.about(w.u.bob)).toEqual([[ONLINE, 'x']]);
  }),

  test('SUB-4 unregistered userIDs fail with 70107; the rest succeed', async (t) => {
    const w = await t.world(['alice', 'bob']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    const r = await alice.client.subscribeUserStatus({ userIDList: [w.ghost('ghost'), w.u.bob] });
    expect(r.data.failureUserList).toMatchObject([{ userID: w.ghost('ghost'), code: 70107 }]);
    await bob.client.setSelfStatus({ customStatus: 'y' });
    await w.settle();
    expect(alice.about(w.u.bob)).toEqual([[ONLINE, 'y']]);
  }),

  test('SUB-5 more than subscribeMaxUsers distinct userIDs is refused; duplicates count once', ['configure'], async (t) => {
    // A limit below the Web SDK's own 100, so that the server's check is what every target meets.
    const w = await t.world(['alice', 'bob'], { limits: { subscribeMaxUsers: 3 } });
    const alice = await w.online('alice');
    const e = await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob, w.ghost('nobody-1'), w.ghost('nobody-2'), w.ghost('nobody-3')] }));
    expect(e.code).toBe(6017);
    expect(e.message).toContain('subscribeMaxUsers = 3');
    const r = await alice.client.subscribeUserStatus({ userIDList: [w.u.bob, w.ghost('nobody-1'), w.u.bob, w.ghost('nobody-2'), w.ghost('nobody-1')] });
    expect(r.data.failureUserList.map((f) => f.userID).sort()).toEqual([w.ghost('nobody-1'), w.ghost('nobody-2')]);
  }),
];

export const UNSUBSCRIBE: ConformanceTest[] = [
  test('UNSUB-1 unsubscribing stops the updates of those users only', async (t) => {
    const w = await t.world(['alice', 'bob', 'carol']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    const carol = await w.online('carol');
    await alice.client.subscribeUserStatus({ userIDList: [w.u.bob, w.u.carol] });
    const r = await alice.client.unsubscribeUserStatus({ userIDList: [w.u.bob] });
    expect(r.data.failureUserList).toEqual([]);
    await bob.client.setSelfStatus({ customStatus: 'b' });
    await carol.client.setSelfStatus({ customStatus: 'c' });
    await w.settle();
    expect(alice.about(w.u.bob)).toEqual([]);
    expect(alice.about(w.u.carol)).toEqual([[ONLINE, 'c']]);
  }),

  test('UNSUB-2 no options, userIDList undefined or [] removes every subscription', async (t) => {
    const w = await t.world(['alice', 'bob', 'carol']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    const carol = await w.online('carol');
    for (const call of [() => alice.client.unsubscribeUserStatus(), () => alice.client.unsubscribeUserStatus({ userIDList: undefined }), () => alice.client.unsubscribeUserStatus({ userIDList: [] })]) {
      await alice.client.subscribeUserStatus({ userIDList: [w.u.bob, w.u.carol] });
      expect((await call()).data.failureUserList).toEqual([]);
      await bob.client.setSelfStatus({ customStatus: `${Math.random()}` });
      await carol.client.setSelfStatus({ customStatus: `${Math.random()}` });
      await w.settle();
      expect(alice.heard).toEqual([]);
    }
  }),
];
