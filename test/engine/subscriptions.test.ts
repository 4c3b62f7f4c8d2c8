// SPEC sections 5 (subscribe) and 6 (unsubscribe), through the public API.
import { describe, expect, it } from 'vitest';
import { ErrorCode, EVENT, TYPES } from '../../src/index';
import { failure, world } from './harness';

const { USER_STATUS_ONLINE: ONLINE, USER_STATUS_UNLOGINED: UNLOGINED } = TYPES;

describe('subscribe (SUB)', () => {
  it('SUB-1 a subscriber hears every change of the subscribed user, normal and custom', async () => {
    const w = await world();
    const bob = await w.online('bob');
    const r = await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    expect(r.data).toEqual({ failureUserList: [] });
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'hi' });
    await a.client.logout();
    expect(bob.about('alice')).toEqual([[ONLINE, ''], [ONLINE, 'hi'], [UNLOGINED, 'hi']]);
  });

  it('SUB-2 subscribing needs Ultimate (3122) and the userStatus switch (72001)', async () => {
    const w = await world({ edition: 'trial', switches: { userStatus: false } });
    const bob = await w.online('bob');
    expect((await failure(bob.client.subscribeUserStatus({ userIDList: ['alice'] }))).code).toBe(3122);
    await w.engine.configure({ edition: 'ultimate' });
    expect((await failure(bob.client.subscribeUserStatus({ userIDList: ['alice'] }))).code).toBe(72001);
  });

  it('SUB-2 subscribing is rate limited', async () => {
    const w = await world({ limits: { rateLimit: { requests: 2, windowMs: 5000 } } });
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await bob.client.subscribeUserStatus({ userIDList: ['carol'] });
    expect((await failure(bob.client.subscribeUserStatus({ userIDList: ['dave'] }))).code).toBe(2996);
  });

  it('SUB-3 subscribing to yourself fails for that entry only', async () => {
    const w = await world();
    const bob = await w.online('bob');
    const r = await bob.client.subscribeUserStatus({ userIDList: ['bob', 'alice'] });
    expect(r.data.failureUserList).toEqual([{ userID: 'bob', code: ErrorCode.INVALID_PARAMETER, message: expect.stringMatching(/yourself/) }]);
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'x' });
    expect(bob.about('alice')).toEqual([[ONLINE, ''], [ONLINE, 'x']]);
    expect(bob.about('bob')).toEqual([]);
  });

  it('SUB-4 unregistered userIDs fail with 70107; the rest succeed', async () => {
    const w = await world();
    const bob = await w.online('bob');
    const r = await bob.client.subscribeUserStatus({ userIDList: ['ghost', 'alice'] });
    expect(r.data.failureUserList.map((f) => [f.userID, f.code])).toEqual([['ghost', 70107]]);
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'x' });
    expect(bob.about('alice')).toEqual([[ONLINE, ''], [ONLINE, 'x']]);
  });

  it('SUB-5 at most subscribeMaxUsers distinct userIDs per call; duplicates count once', async () => {
    const w = await world({ limits: { subscribeMaxUsers: 2 } });
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice', 'alice', 'carol'] });
    const e = await failure(bob.client.subscribeUserStatus({ userIDList: ['alice', 'carol', 'dave'] }));
    expect(e).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, limit: 2, limitName: 'subscribeMaxUsers' });
    const big = await world();
    const b2 = await big.online('bob');
    const ids = Array.from({ length: 101 }, (_, i) => `u${i}`);
    expect((await failure(b2.client.subscribeUserStatus({ userIDList: ids }))).limit).toBe(100);
  });

  it('SUB-6 a friend may be subscribed, and it uses the quota like any other', async () => {
    const w = await world({ limits: { subscriptionQuota: 1 } });
    await w.engine.addFriends('bob', ['alice', 'carol']);
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await bob.client.subscribeUserStatus({ userIDList: ['carol'] });
    const a = await w.online('alice');
    const c = await w.online('carol');
    await a.client.setSelfStatus({ customStatus: 'a' });
    await c.client.setSelfStatus({ customStatus: 'c' });
    expect(bob.about('alice')).toEqual([]);
    expect(bob.about('carol')).toEqual([[ONLINE, ''], [ONLINE, 'c']]);
  });

  it('SUB-7 subscriptions belong to the account: every device of the subscriber hears the updates', async () => {
    const w = await world();
    const b1 = await w.online('bob');
    const b2 = await w.online('bob', 'ios');
    await b1.client.subscribeUserStatus({ userIDList: ['alice'] });
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'x' });
    expect(b1.about('alice')).toEqual([[ONLINE, ''], [ONLINE, 'x']]);
    expect(b2.about('alice')).toEqual(b1.about('alice'));
  });

  it('SUB-8 EXT-4 beyond subscriptionQuota the earliest is evicted and the subscriber is told', async () => {
    const w = await world({ limits: { subscriptionQuota: 2 } });
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice', 'carol'] });
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] }); // moves alice to the newest place
    await bob.client.subscribeUserStatus({ userIDList: ['dave'] });
    expect(bob.events.filter((e) => e.name === EVENT.SUBSCRIPTION_ENDED)).toEqual([
      { name: EVENT.SUBSCRIPTION_ENDED, data: { userIDList: ['carol'], reason: 'subscription_evicted' } },
    ]);
    const c = await w.online('carol');
    const a = await w.online('alice');
    await c.client.setSelfStatus({ customStatus: 'c' });
    await a.client.setSelfStatus({ customStatus: 'a' });
    expect(bob.about('carol')).toEqual([]);
    expect(bob.about('alice')).toEqual([[ONLINE, ''], [ONLINE, 'a']]);
  });

  it('SUB-9 subscribing does not push the current status, unless the client asks (EXT-2 pushCurrent)', async () => {
    const w = await world();
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'now' });
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    expect(bob.heard).toEqual([]);
    const carol = await w.online('carol');
    const carol2 = await w.online('carol', 'ios');
    await carol.client.subscribeUserStatus({ userIDList: ['alice', 'dave'], pushCurrent: true });
    expect(carol.heard.map((s) => [s.userID, s.statusType, s.customStatus])).toEqual([['alice', ONLINE, 'now'], ['dave', UNLOGINED, '']]);
    expect(carol2.heard).toEqual([]);
  });
});

describe('unsubscribe (UNSUB)', () => {
  it('UNSUB-1 unsubscribing removes those users from the subscriptions', async () => {
    const w = await world();
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice', 'carol'] });
    const r = await bob.client.unsubscribeUserStatus({ userIDList: ['alice'] });
    expect(r.data).toEqual({ failureUserList: [] });
    const a = await w.online('alice');
    const c = await w.online('carol');
    await a.client.setSelfStatus({ customStatus: 'a' });
    await c.client.setSelfStatus({ customStatus: 'c' });
    expect(bob.about('alice')).toEqual([]);
    expect(bob.about('carol')).toEqual([[ONLINE, ''], [ONLINE, 'c']]);
  });

  it('UNSUB-2 no options, undefined or an empty list removes every subscription', async () => {
    const w = await world();
    const bob = await w.online('bob');
    for (const call of [() => bob.client.unsubscribeUserStatus(), () => bob.client.unsubscribeUserStatus({}), () => bob.client.unsubscribeUserStatus({ userIDList: [] })]) {
      await bob.client.subscribeUserStatus({ userIDList: ['alice', 'carol'] });
      await call();
      const [s] = await w.engine.exportState().then((st) => [st.users.bob!.subscriptions]);
      expect(s).toEqual([]);
    }
  });

  it('UNSUB-3 unsubscribing needs Ultimate and the switch, is rate limited, and takes at most unsubscribeMaxUsers', async () => {
    const w = await world({ limits: { unsubscribeMaxUsers: 2, rateLimit: { requests: 2, windowMs: 5000 } } });
    const bob = await w.online('bob');
    expect((await failure(bob.client.unsubscribeUserStatus({ userIDList: ['a', 'b', 'c'] }))).limitName).toBe('unsubscribeMaxUsers');
    await w.engine.configure({ switches: { userStatus: false } });
    expect((await failure(bob.client.unsubscribeUserStatus())).code).toBe(72001);
    await w.engine.configure({ edition: 'pro' });
    expect((await failure(bob.client.unsubscribeUserStatus())).code).toBe(3122);
    await w.engine.configure({ edition: 'ultimate', switches: { userStatus: true } });
    await bob.client.unsubscribeUserStatus();
    await bob.client.unsubscribeUserStatus();
    expect((await failure(bob.client.unsubscribeUserStatus())).code).toBe(2996);
  });

  it('UNSUB-4 unsubscribing from a user not subscribed to succeeds and changes nothing', async () => {
    const w = await world();
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    const before = await w.engine.exportState();
    const r = await bob.client.unsubscribeUserStatus({ userIDList: ['carol'] });
    expect(r.data.failureUserList).toEqual([]);
    expect((await w.engine.exportState()).users).toEqual(before.users);
  });

  it('UNSUB-5 the list is cleared subscriptionClearAfterLogoutMs after logout; the subscriber hears at its next login (EXT-4)', async () => {
    const w = await world({ limits: { subscriptionClearAfterLogoutMs: 60_000 } });
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await bob.client.logout();
    w.clock.increment(60_000);
    expect((await w.engine.exportState()).users.bob!.subscriptions).toEqual([]);
    await bob.client.login({ userID: 'bob' });
    expect(bob.events.filter((e) => e.name === EVENT.SUBSCRIPTION_ENDED)).toEqual([
      { name: EVENT.SUBSCRIPTION_ENDED, data: { userIDList: ['alice'], reason: 'subscriptions_cleared' } },
    ]);
  });

  it('UNSUB-5 logging in again before the delay keeps the list', async () => {
    const w = await world({ limits: { subscriptionClearAfterLogoutMs: 60_000 } });
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await bob.client.logout();
    w.clock.increment(59_999);
    await bob.client.login({ userID: 'bob' });
    w.clock.increment(120_000);
    expect((await w.engine.exportState()).users.bob!.subscriptions).toEqual(['alice']);
  });

  it('UNSUB-5 OFFLINE (a native device in the background) does not start the clear', async () => {
    const w = await world({ limits: { subscriptionClearAfterLogoutMs: 1000 } });
    const bob = await w.online('bob', 'ios');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    bob.client.background();
    w.clock.increment(10_000);
    expect((await w.engine.exportState()).users.bob!.subscriptions).toEqual(['alice']);
  });
});
