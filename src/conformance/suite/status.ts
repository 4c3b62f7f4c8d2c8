// The suite's tests of custom status (CS) and queries (GET).
import { DEFAULT_LIMITS, TYPES } from '../../../machines/spec';
import { test, type ConformanceTest } from '../define';
import { expect, failure } from '../expect';

const { USER_STATUS_ONLINE: ONLINE, USER_STATUS_UNLOGINED: UNLOGINED } = TYPES;

export const CUSTOM_STATUS: ConformanceTest[] = [
  test('CS-1 setSelfStatus needs no edition, no switch, and is not rate limited', ['configure'], async (t) => {
    const w = await t.world(['alice'], { edition: 'pro', switches: { userStatus: false, friendStatusNotify: false } });
    const alice = await w.online('alice');
    for (let i = 0; i < DEFAULT_LIMITS.rateLimit.requests + 5; i++) {
      const r = await alice.client.setSelfStatus({ customStatus: `s${i}` });
      expect(r.data).toMatchObject({ userID: w.u.alice, statusType: ONLINE, customStatus: `s${i}` });
    }
    expect((await w.status('alice')).customStatus).toBe(`s${DEFAULT_LIMITS.rateLimit.requests + 4}`);
  }),

  test('CS-2 an empty customStatus clears it', async (t) => {
    const w = await t.world(['alice']);
    const alice = await w.online('alice');
    await alice.client.setSelfStatus({ customStatus: 'away' });
    const r = await alice.client.setSelfStatus({ customStatus: '' });
    expect(r.data.customStatus).toBe('');
    expect((await w.status('alice')).customStatus).toBe('');
    await w.settle();
    expect(alice.about(w.u.alice)).toEqual([
      [ONLINE, 'away'],
      [ONLINE, ''],
    ]);
  }),

  test('CS-3 the caller gets {userID, statusType, customStatus} and every device of the caller hears the change', async (t) => {
    const w = await t.world(['alice']);
    const web = await w.online('alice', 'web');
    const phone = await w.online('alice', 'android');
    w.clearAll();
    const r = await web.client.setSelfStatus({ customStatus: 'in a meeting' });
    expect(r.data).toMatchObject({ userID: w.u.alice, statusType: ONLINE, customStatus: 'in a meeting' });
    await w.settle();
    expect(web.about(w.u.alice)).toEqual([[ONLINE, 'in a meeting']]);
    expect(phone.about(w.u.alice)).toEqual([[ONLINE, 'in a meeting']]);
  }),

  test('CS-6 a custom status over customStatusMaxBytes, or not a string, is refused and changes nothing', async (t) => {
    const w = await t.world(['alice', 'bob']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: [w.u.alice] });
    await alice.client.setSelfStatus({ customStatus: 'ok' });
    await w.settle();
    w.clearAll();
    const tooLong = await failure(alice.client.setSelfStatus({ customStatus: 'x'.repeat(101) }));
    expect(tooLong.code).toBe(6017);
    expect(tooLong.message).toContain('customStatusMaxBytes');
    // 34 three-byte characters are 102 bytes of UTF-8, though only 34 characters.
    expect((await failure(alice.client.setSelfStatus({ customStatus: '好'.repeat(34) }))).code).toBe(6017);
    expect((await failure(alice.client.setSelfStatus({ customStatus: 42 as unknown as string }))).code).toBe(6017);
    expect((await alice.client.setSelfStatus({ customStatus: '好'.repeat(33) })).data.customStatus).toBe('好'.repeat(33));
    await alice.client.setSelfStatus({ customStatus: 'ok' });
    await w.settle();
    expect(bob.about(w.u.alice)).toEqual([
      [ONLINE, '好'.repeat(33)],
      [ONLINE, 'ok'],
    ]);
  }),
];

export const QUERY: ConformanceTest[] = [
  test('GET-1 getUserStatus returns successUserList of {userID, statusType, customStatus} and failureUserList', async (t) => {
    const w = await t.world(['alice', 'bob', 'carol']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    await bob.client.setSelfStatus({ customStatus: 'coding' });
    const r = await alice.client.getUserStatus({ userIDList: [w.u.bob, w.u.carol] });
    expect(r.data.failureUserList).toEqual([]);
    expect(r.data.successUserList.map((s) => [s.userID, s.statusType, s.customStatus])).toEqual([
      [w.u.bob, ONLINE, 'coding'],
      [w.u.carol, UNLOGINED, ''],
    ]);
  }),

  test('GET-2 a list of only yourself needs no edition, no switch and no rate', ['configure'], async (t) => {
    const w = await t.world(['alice'], { edition: 'trial', switches: { userStatus: false } });
    const alice = await w.online('alice');
    await alice.client.setSelfStatus({ customStatus: 'me' });
    for (let i = 0; i < DEFAULT_LIMITS.rateLimit.requests + 5; i++) {
      const r = await alice.client.getUserStatus({ userIDList: [w.u.alice] });
      expect(r.data.successUserList).toMatchObject([{ userID: w.u.alice, statusType: ONLINE, customStatus: 'me' }]);
    }
  }),

  test('GET-3 a query of others needs Ultimate (3122) and the userStatus switch (72001)', ['configure'], async (t) => {
    const w = await t.world(['alice', 'bob'], { switches: { userStatus: false } });
    const alice = await w.online('alice');
    expect((await failure(alice.client.getUserStatus({ userIDList: [w.u.bob] }))).code).toBe(72001);
    await w.admin.configure({ edition: 'pro', switches: { userStatus: true } });
    expect((await failure(alice.client.getUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
    await w.admin.configure({ edition: 'ultimate' });
    expect((await alice.client.getUserStatus({ userIDList: [w.u.bob] })).data.successUserList).toHaveLength(1);
  }),

  test('GET-4 more than queryMaxUsers distinct userIDs is refused naming the limit; duplicates are answered once', ['configure'], async (t) => {
    // A limit below the Web SDK's own 500, so that the server's check is what every target meets.
    const w = await t.world(['alice', 'bob', 'carol'], { limits: { queryMaxUsers: 3 } });
    const alice = await w.online('alice');
    const e = await failure(alice.client.getUserStatus({ userIDList: [w.u.bob, w.u.carol, w.ghost('nobody-1'), w.ghost('nobody-2')] }));
    expect(e.code).toBe(6017);
    expect(e.message).toContain('queryMaxUsers = 3');
    const r = await alice.client.getUserStatus({ userIDList: [w.u.bob, w.u.bob, w.u.carol, w.u.bob] });
    expect(r.data.successUserList.map((s) => s.userID)).toEqual([w.u.bob, w.u.carol]);
  }),

  test('GET-5 an unregistered userID fails with 70107; the rest succeed', async (t) => {
    const w = await t.world(['alice', 'bob']);
    const alice = await w.online('alice');
    const r = await alice.client.getUserStatus({ userIDList: [w.u.bob, w.ghost('ghost')] });
    expect(r.data.successUserList.map((s) => s.userID)).toEqual([w.u.bob]);
    expect(r.data.failureUserList).toMatchObject([{ userID: w.ghost('ghost'), code: 70107 }]);
  }),
];
