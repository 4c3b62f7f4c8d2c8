// SPEC sections 3 (custom status) and 4 (query), through the public API.
import { describe, expect, it } from 'vitest';
import { ErrorCode, TYPES } from '../../src/index';
import { failure, world } from './harness';

const { USER_STATUS_ONLINE: ONLINE, USER_STATUS_OFFLINE: OFFLINE, USER_STATUS_UNLOGINED: UNLOGINED } = TYPES;

describe('custom status (CS)', () => {
  it('CS-1 setSelfStatus needs no edition, no switch and is not rate limited', async () => {
    const w = await world({ edition: 'trial', switches: { userStatus: false }, limits: { rateLimit: { requests: 1, windowMs: 60_000 } } });
    const a = await w.online('alice');
    for (let i = 0; i < 50; i++) await a.client.setSelfStatus({ customStatus: `s${i}` });
    expect((await w.status('alice')).customStatus).toBe('s49');
  });

  it('CS-2 an empty custom status clears it', async () => {
    const w = await world();
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'busy' });
    await a.client.setSelfStatus({ customStatus: '' });
    expect(await w.status('alice')).toMatchObject({ customStatus: '', reason: 'custom_status_cleared' });
  });

  it('CS-3 the caller gets {userID, statusType, customStatus} and every device of the caller hears it, the caller included', async () => {
    const w = await world();
    const a1 = await w.online('alice');
    const a2 = await w.online('alice', 'android');
    const r = await a1.client.setSelfStatus({ customStatus: 'listening to music' });
    expect(r.data).toMatchObject({ userID: 'alice', statusType: ONLINE, customStatus: 'listening to music' });
    expect(a1.about('alice')).toEqual([[ONLINE, 'listening to music']]);
    expect(a2.about('alice')).toEqual([[ONLINE, 'listening to music']]);
  });

  it('CS-4 subscribers and (with friendStatusNotify) friends hear a custom status change', async () => {
    const w = await world({ switches: { userStatus: true, friendStatusNotify: true } });
    await w.engine.addFriends('carol', ['alice']);
    const a = await w.online('alice');
    const bob = await w.online('bob');
    const carol = await w.online('carol');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await a.client.setSelfStatus({ customStatus: 'x' });
    expect(bob.about('alice')).toEqual([[ONLINE, 'x']]);
    expect(carol.about('alice')).toEqual([[ONLINE, 'x']]);
  });

  it('CS-5 going OFFLINE clears the custom status at once, in the same change', async () => {
    const w = await world();
    const a = await w.online('alice', 'ios');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await a.client.setSelfStatus({ customStatus: 'driving' });
    bob.clear();
    a.client.background();
    expect(bob.about('alice')).toEqual([[OFFLINE, '']]);
  });

  it('CS-5 UNLOGINED keeps the custom status customStatusClearAfterLogoutMs, then clears it with a notification', async () => {
    const w = await world({ limits: { customStatusClearAfterLogoutMs: 10_000 } });
    const a = await w.online('alice');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await a.client.setSelfStatus({ customStatus: 'gone fishing' });
    bob.clear();
    await a.client.logout();
    expect(await w.status('alice')).toMatchObject({ statusType: UNLOGINED, customStatus: 'gone fishing' });
    w.clock.increment(9_999);
    expect((await w.status('alice')).customStatus).toBe('gone fishing');
    w.clock.increment(1);
    expect(await w.status('alice')).toMatchObject({ customStatus: '', reason: 'custom_status_expired' });
    expect(bob.about('alice')).toEqual([[UNLOGINED, 'gone fishing'], [UNLOGINED, '']]);
  });

  it('CS-5 logging back in before the delay cancels the pending clear', async () => {
    const w = await world();
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'brb' });
    await a.client.logout();
    w.clock.increment(200_000);
    await a.client.login({ userID: 'alice' });
    w.clock.increment(500_000);
    expect(await w.status('alice')).toMatchObject({ statusType: ONLINE, customStatus: 'brb' });
  });

  it('CS-6 a custom status over customStatusMaxBytes of UTF-8, or not a string, is rejected and changes nothing', async () => {
    const w = await world();
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'ok' });
    const ok100 = '中'.repeat(33) + 'a'; // 99 + 1 bytes
    await a.client.setSelfStatus({ customStatus: ok100 });
    const tooLong = await failure(a.client.setSelfStatus({ customStatus: '中'.repeat(34) }));
    expect(tooLong).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'customStatus', limit: 100, limitName: 'customStatusMaxBytes' });
    expect(tooLong.message).toMatch(/102 bytes.*customStatusMaxBytes = 100/);
    for (const bad of [undefined, null, 42, ['x'], { s: 1 }]) {
      const e = await failure(a.client.setSelfStatus({ customStatus: bad as never }));
      expect(e.code).toBe(ErrorCode.INVALID_PARAMETER);
      expect(e.message).toMatch(/customStatus/);
    }
    expect((await w.status('alice')).customStatus).toBe(ok100);
  });

  it('CS-7 setting the same value again succeeds, returns the status and notifies nobody', async () => {
    const w = await world();
    const a = await w.online('alice');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await a.client.setSelfStatus({ customStatus: 'same' });
    a.clear();
    bob.clear();
    const r = await a.client.setSelfStatus({ customStatus: 'same' });
    expect(r.data).toMatchObject({ customStatus: 'same', version: 2 });
    expect(a.heard).toEqual([]);
    expect(bob.heard).toEqual([]);
  });
});

describe('query (GET)', () => {
  it('GET-1 getUserStatus returns successUserList and failureUserList', async () => {
    const w = await world();
    const a = await w.online('alice');
    const r = await a.client.getUserStatus({ userIDList: ['bob', 'nobody'] });
    expect(r.data.successUserList).toEqual([expect.objectContaining({ userID: 'bob', statusType: UNLOGINED, customStatus: '' })]);
    expect(r.data.failureUserList).toEqual([{ userID: 'nobody', code: ErrorCode.USER_NOT_FOUND, message: expect.stringMatching(/not registered/) }]);
  });

  it('GET-2 a list of only the caller is always allowed: no edition, no switch, no rate limit', async () => {
    const w = await world({ edition: 'pro', switches: { userStatus: false }, limits: { rateLimit: { requests: 1, windowMs: 60_000 } } });
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'me' });
    for (let i = 0; i < 5; i++) {
      const r = await a.client.getUserStatus({ userIDList: ['alice'] });
      expect(r.data.successUserList).toEqual([expect.objectContaining({ userID: 'alice', statusType: ONLINE, customStatus: 'me' })]);
    }
  });

  it('GET-3 any other userID needs Ultimate (3122) and the userStatus switch (72001)', async () => {
    const w = await world({ edition: 'pro', switches: { userStatus: false } });
    const a = await w.online('alice');
    expect((await failure(a.client.getUserStatus({ userIDList: ['alice', 'bob'] }))).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    await w.engine.configure({ edition: 'ultimate' });
    expect((await failure(a.client.getUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.SWITCH_OFF);
    await w.engine.configure({ switches: { userStatus: true } });
    expect((await a.client.getUserStatus({ userIDList: ['bob'] })).data.successUserList).toHaveLength(1);
  });

  it('GET-4 at most queryMaxUsers distinct userIDs; more is rejected naming the limit; duplicates are answered once', async () => {
    const w = await world({ limits: { queryMaxUsers: 3 } });
    const a = await w.online('alice');
    const dup = await a.client.getUserStatus({ userIDList: ['bob', 'bob', 'carol', 'bob', 'dave'] });
    expect(dup.data.successUserList.map((s) => s.userID)).toEqual(['bob', 'carol', 'dave']);
    const e = await failure(a.client.getUserStatus({ userIDList: ['bob', 'carol', 'dave', 'x'] }));
    expect(e).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'userIDList', limit: 3, limitName: 'queryMaxUsers' });
    expect(e.message).toMatch(/4 distinct userIDs is over the limit queryMaxUsers = 3/);
  });

  it('GET-4 the default limit is 500', async () => {
    const w = await world();
    const a = await w.online('alice');
    const ids = Array.from({ length: 501 }, (_, i) => `u${i}`);
    expect((await failure(a.client.getUserStatus({ userIDList: ids }))).limit).toBe(500);
    const r = await a.client.getUserStatus({ userIDList: ids.slice(0, 500) });
    expect(r.data.failureUserList).toHaveLength(500);
  });

  it('GET-5 an unregistered userID fails with 70107; the rest still succeed', async () => {
    const w = await world();
    const a = await w.online('alice');
    const r = await a.client.getUserStatus({ userIDList: ['ghost', 'bob'] });
    expect(r.data.successUserList.map((s) => s.userID)).toEqual(['bob']);
    expect(r.data.failureUserList.map((f) => [f.userID, f.code])).toEqual([['ghost', 70107]]);
  });

  it('GET-6 queries for others are rate limited; self queries are not', async () => {
    const w = await world({ limits: { rateLimit: { requests: 2, windowMs: 1000 } } });
    const a = await w.online('alice');
    await a.client.getUserStatus({ userIDList: ['bob'] });
    await a.client.getUserStatus({ userIDList: ['bob'] });
    expect((await failure(a.client.getUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.RATE_LIMITED);
    await a.client.getUserStatus({ userIDList: ['alice'] });
    w.clock.increment(1000);
    await a.client.getUserStatus({ userIDList: ['bob'] });
  });
});
