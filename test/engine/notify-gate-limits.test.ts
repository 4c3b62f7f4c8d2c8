// SPEC sections 7 (notifications), 8 (edition and switches) and 9 (limits), through the public API.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, ErrorCode, EVENT, TYPES } from '../../src/index';
import { failure, world } from './harness';

const { USER_STATUS_ONLINE: ONLINE, USER_STATUS_OFFLINE: OFFLINE, USER_STATUS_UNLOGINED: UNLOGINED } = TYPES;

describe('notifications (NTF)', () => {
  it('NTF-1 every notification is onUserStatusUpdated with an array of {userID, statusType, customStatus}', async () => {
    const w = await world();
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'x' });
    expect(EVENT.USER_STATUS_UPDATED).toBe('onUserStatusUpdated');
    expect(bob.events).toEqual([
      { name: 'onUserStatusUpdated', data: [{ userID: 'alice', statusType: ONLINE, customStatus: '', version: 1, reason: 'login' }] },
      { name: 'onUserStatusUpdated', data: [{ userID: 'alice', statusType: ONLINE, customStatus: 'x', version: 2, reason: 'custom_status_set' }] },
    ]);
  });

  it('NTF-2 a change reaches own devices, subscribers and friends, and a user in both hears it once', async () => {
    const w = await world({ switches: { userStatus: true, friendStatusNotify: true } });
    await w.engine.addFriends('bob', ['alice']);
    await w.engine.addFriends('carol', ['alice']);
    const a1 = await w.online('alice');
    const a2 = await w.online('alice', 'ios');
    const bob = await w.online('bob'); // subscriber and friend
    const carol = await w.online('carol'); // friend only
    const dave = await w.online('dave'); // subscriber only
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await dave.client.subscribeUserStatus({ userIDList: ['alice'] });
    await a1.client.setSelfStatus({ customStatus: 'x' });
    for (const d of [a1, a2, bob, carol, dave]) expect(d.about('alice')).toEqual([[ONLINE, 'x']]);
  });

  it('NTF-2 friendship is directional: who has X in their list hears X, not the other way round', async () => {
    const w = await world({ switches: { userStatus: true, friendStatusNotify: true } });
    await w.engine.addFriends('bob', ['alice']);
    const a = await w.online('alice');
    const bob = await w.online('bob');
    await a.client.setSelfStatus({ customStatus: 'a' });
    await bob.client.setSelfStatus({ customStatus: 'b' });
    expect(bob.about('alice')).toEqual([[ONLINE, 'a']]);
    expect(a.about('bob')).toEqual([]);
  });

  it('NTF-3 without the switch and without a subscription a friend hears nothing', async () => {
    const w = await world({ switches: { userStatus: true, friendStatusNotify: false } });
    await w.engine.addFriends('bob', ['alice']);
    const a = await w.online('alice');
    const bob = await w.online('bob');
    await a.client.setSelfStatus({ customStatus: 'x' });
    expect(bob.about('alice')).toEqual([]);
  });

  it('NTF-4 subscriber deliveries need Ultimate and the switch at the time of the change; friend ones only friendStatusNotify; own always', async () => {
    const w = await world({ switches: { userStatus: true, friendStatusNotify: true } });
    await w.engine.addFriends('carol', ['alice']);
    const a = await w.online('alice');
    const a2 = await w.online('alice', 'ios');
    const bob = await w.online('bob');
    const carol = await w.online('carol');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await w.engine.configure({ edition: 'pro', switches: { userStatus: false } });
    await a.client.setSelfStatus({ customStatus: 'hidden from subscribers' });
    expect(bob.about('alice')).toEqual([]);
    expect(carol.about('alice')).toEqual([[ONLINE, 'hidden from subscribers']]);
    expect(a2.about('alice')).toEqual([[ONLINE, 'hidden from subscribers']]);
    await w.engine.configure({ switches: { friendStatusNotify: false } });
    await a.client.setSelfStatus({ customStatus: 'own only' });
    expect(carol.about('alice')).toHaveLength(1);
    expect(a2.about('alice')).toHaveLength(2);
  });

  it('NTF-5 only connected devices hear; nothing is queued for a logged-out user or a disconnected device', async () => {
    const w = await world();
    const bobWeb = await w.online('bob');
    const bobIos = await w.online('bob', 'ios');
    await bobWeb.client.subscribeUserStatus({ userIDList: ['alice'] });
    const a = await w.online('alice');
    bobIos.client.background();
    await bobWeb.client.logout();
    bobWeb.clear();
    bobIos.clear();
    await a.client.setSelfStatus({ customStatus: 'x' });
    expect(bobWeb.heard).toEqual([]);
    expect(bobIos.heard).toEqual([]);
    const carol = await w.online('carol');
    await carol.client.subscribeUserStatus({ userIDList: ['alice'] });
    carol.client.disconnect('network_lost');
    await a.client.setSelfStatus({ customStatus: 'y' });
    expect(carol.heard).toEqual([]);
  });

  it('NTF-6 per recipient, the changes of one user arrive in order, and the last is the current status', async () => {
    const w = await world();
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    const a = await w.online('alice', 'ios');
    // A handler that calls the engine while it delivers must not reorder what others hear.
    bob.client.on(EVENT.USER_STATUS_UPDATED, (e) => {
      if (e.name === EVENT.USER_STATUS_UPDATED && e.data[0]?.customStatus === 'one') void a.client.setSelfStatus({ customStatus: 'two' });
    });
    await a.client.setSelfStatus({ customStatus: 'one' });
    a.client.background();
    a.client.foreground();
    const versions = bob.heard.filter((s) => s.userID === 'alice').map((s) => s.version);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(new Set(versions).size).toBe(versions.length);
    const last = bob.heard.filter((s) => s.userID === 'alice').at(-1)!;
    expect({ statusType: last.statusType, customStatus: last.customStatus, version: last.version }).toEqual({
      statusType: (await w.status('alice')).statusType,
      customStatus: (await w.status('alice')).customStatus,
      version: (await w.status('alice')).version,
    });
    expect(bob.about('alice').map(([t]) => t)).toContain(OFFLINE);
  });
});

describe('edition and switches (GATE)', () => {
  it('GATE-1 settings change at run time, apply to the next call, and a change keeps what it leaves out', async () => {
    const w = await world({ switches: { userStatus: true, friendStatusNotify: true }, limits: { queryMaxUsers: 7 } });
    const bob = await w.online('bob');
    await w.engine.configure({ switches: { userStatus: false } });
    expect((await failure(bob.client.getUserStatus({ userIDList: ['alice'] }))).code).toBe(72001);
    expect(await w.engine.settings()).toMatchObject({ edition: 'ultimate', switches: { userStatus: false, friendStatusNotify: true }, limits: { queryMaxUsers: 7 } });
    await w.engine.configure({ limits: { rateLimit: { windowMs: 100 } } });
    expect((await w.engine.settings()).limits.rateLimit).toEqual({ requests: 20, windowMs: 100 });
  });

  it('GATE-1 a bad settings change is refused with 6017 naming the key, and changes nothing', async () => {
    const w = await world();
    const before = await w.engine.settings();
    for (const bad of [{ edition: 'gold' }, { switches: { userStatus: 'yes' } }, { limits: { queryMaxUsers: -1 } }, { limits: { nope: 1 } }, { colour: 'red' }, null, 7]) {
      const e = await failure(w.engine.configure(bad as never));
      expect(e.code).toBe(ErrorCode.INVALID_PARAMETER);
      expect(e.param).toMatch(/^change/);
    }
    expect(await w.engine.settings()).toEqual(before);
  });

  it('GATE-2 Ultimate is needed for queries of others, subscribe and unsubscribe; not for setSelfStatus or a self query', async () => {
    const w = await world({ edition: 'pro' });
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'fine' });
    await a.client.getUserStatus({ userIDList: ['alice'] });
    for (const call of [
      () => a.client.getUserStatus({ userIDList: ['bob'] }),
      () => a.client.subscribeUserStatus({ userIDList: ['bob'] }),
      () => a.client.unsubscribeUserStatus({ userIDList: ['bob'] }),
    ]) {
      expect((await failure(call())).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    }
  });

  it('GATE-3 the userStatus switch is needed for the same three (72001); with both missing 3122 wins', async () => {
    const w = await world({ switches: { userStatus: false } });
    const a = await w.online('alice');
    expect((await failure(a.client.subscribeUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.SWITCH_OFF);
    await w.engine.configure({ edition: 'trial' });
    expect((await failure(a.client.subscribeUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
  });

  it('GATE-4 turning the switch off keeps the subscription lists and only stops calls and deliveries', async () => {
    const w = await world();
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await w.engine.configure({ switches: { userStatus: false } });
    const a = await w.online('alice');
    expect(bob.heard).toEqual([]);
    expect((await w.engine.exportState()).users.bob!.subscriptions).toEqual(['alice']);
    await w.engine.configure({ switches: { userStatus: true } });
    await a.client.setSelfStatus({ customStatus: 'back' });
    expect(bob.about('alice')).toEqual([[ONLINE, 'back']]);
  });
});

describe('limits (LIM)', () => {
  it('LIM-1 each of the three APIs allows rateLimit.requests calls per window per user; the next fails with 2996 and changes nothing', async () => {
    const w = await world({ limits: { rateLimit: { requests: 3, windowMs: 5000 } } });
    const bob = await w.online('bob');
    const carol = await w.online('carol');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await bob.client.subscribeUserStatus({ userIDList: ['carol'] });
    await bob.client.subscribeUserStatus({ userIDList: ['dave'] });
    const before = await w.engine.exportState();
    const e = await failure(bob.client.subscribeUserStatus({ userIDList: ['carol', 'alice'] }));
    expect(e.code).toBe(ErrorCode.RATE_LIMITED);
    expect(await w.engine.exportState()).toEqual(before);
    // Each API has its own window, and each user has their own.
    await bob.client.getUserStatus({ userIDList: ['alice'] });
    await bob.client.unsubscribeUserStatus({ userIDList: ['dave'] });
    await carol.client.subscribeUserStatus({ userIDList: ['alice'] });
  });

  it('EXT-6 login and logout are rate limited per device with the same window; a refusal carries retryAfterMs and changes nothing', async () => {
    const w = await world({ limits: { rateLimit: { requests: 2, windowMs: 1000 } } });
    const bob = w.device('bob');
    const other = w.device('bob');
    await bob.client.login({ userID: 'bob' }); // t=0: login 1 of 2
    await bob.client.logout(); // logout 1 of 2: logout has its own window
    w.clock.increment(300);
    await bob.client.login({ userID: 'bob' }); // t=300: login 2 of 2
    await bob.client.logout();
    w.clock.increment(100);
    const before = await w.engine.exportState();
    const e = await failure(bob.client.login({ userID: 'bob' })); // t=400: the oldest login frees a place at t=1000
    expect(e).toMatchObject({ code: ErrorCode.RATE_LIMITED, retryAfterMs: 600, requests: 2, windowMs: 1000, limitName: 'rateLimit' });
    expect(await w.engine.exportState()).toEqual(before);
    expect((await w.status('bob')).statusType).toBe(UNLOGINED);
    // Another device of the same user has a window of its own.
    await other.client.login({ userID: 'bob' });
    await other.client.logout();
    await other.client.login({ userID: 'bob' });
    // A repeat login is answered from the device's own state: no command, no quota (its window is full).
    expect((await other.client.login({ userID: 'bob' })).data.repeatLogin).toBe(true);
    expect(e.message).toMatch(/login allows 2 calls per 1000 ms/);
    expect((await w.engine.queryStatus(['bob'], { detail: true }))[0]!.devices).toHaveLength(1);
    // Logouts trail their logins, so a logout is refused only when logins left the window first: a refused
    // logout leaves the device logged in, until the window slides.
    const third = w.device('bob');
    await third.client.login({ userID: 'bob' }); // t=400
    w.clock.increment(800);
    await third.client.logout(); // t=1200
    await third.client.login({ userID: 'bob' });
    await third.client.logout(); // logouts at 1200, 1200
    w.clock.increment(300);
    await third.client.login({ userID: 'bob' }); // t=1500: the login at 400 has left its window
    expect(await failure(third.client.logout())).toMatchObject({ code: ErrorCode.RATE_LIMITED, retryAfterMs: 700 });
    expect((await w.engine.queryStatus(['bob'], { detail: true }))[0]!.devices).toHaveLength(2);
    w.clock.increment(700);
    await third.client.logout();
    expect((await w.engine.queryStatus(['bob'], { detail: true }))[0]!.devices).toHaveLength(1);
  });

  it('LIM-1 only accepted calls count: calls rejected for other reasons use no quota', async () => {
    const w = await world({ limits: { rateLimit: { requests: 2, windowMs: 5000 } } });
    const bob = await w.online('bob');
    for (let i = 0; i < 5; i++) await failure(bob.client.subscribeUserStatus({ userIDList: 'x' as never }));
    await w.engine.configure({ switches: { userStatus: false } });
    for (let i = 0; i < 5; i++) await failure(bob.client.subscribeUserStatus({ userIDList: ['alice'] }));
    await w.engine.configure({ switches: { userStatus: true } });
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    expect((await failure(bob.client.subscribeUserStatus({ userIDList: ['alice'] }))).code).toBe(2996);
  });

  it('LIM-1 EXT-6 the window slides: a place frees when the oldest call is windowMs old, and the error says when', async () => {
    const w = await world({ limits: { rateLimit: { requests: 2, windowMs: 1000 } } });
    const bob = await w.online('bob');
    await bob.client.getUserStatus({ userIDList: ['alice'] }); // t=0
    w.clock.increment(400);
    await bob.client.getUserStatus({ userIDList: ['alice'] }); // t=400
    w.clock.increment(100);
    const e = await failure(bob.client.getUserStatus({ userIDList: ['alice'] })); // t=500
    expect(e).toMatchObject({ code: 2996, retryAfterMs: 500, requests: 2, windowMs: 1000 });
    w.clock.increment(499);
    expect((await failure(bob.client.getUserStatus({ userIDList: ['alice'] }))).retryAfterMs).toBe(1);
    w.clock.increment(1);
    await bob.client.getUserStatus({ userIDList: ['alice'] }); // t=1000
  });

  it('LIM-2 every limit and delay is an option with the SPEC defaults', async () => {
    expect(DEFAULT_LIMITS).toEqual({
      queryMaxUsers: 500,
      subscribeMaxUsers: 100,
      unsubscribeMaxUsers: 100,
      rateLimit: { requests: 20, windowMs: 5000 },
      customStatusMaxBytes: 100,
      subscriptionQuota: 3000,
      subscriptionClearAfterLogoutMs: 300000,
      customStatusClearAfterLogoutMs: 300000,
      webHeartbeatTimeoutMs: 60000,
      nativeHeartbeatTimeoutMs: 400000,
      maxWebInstances: 10,
      maxDevicesPerNativePlatform: 3,
      flapGraceMs: 0,
    });
    const w = await world();
    expect((await w.engine.settings()).limits).toEqual(DEFAULT_LIMITS);
    expect(await w.engine.settings()).toMatchObject({ edition: 'ultimate' });
  });

  it('LIM-2 changing a limit changes behaviour exactly as stated, no more', async () => {
    const w = await world();
    const a = await w.online('alice');
    await w.engine.configure({ limits: { customStatusMaxBytes: 3 } });
    await a.client.setSelfStatus({ customStatus: 'abc' });
    expect((await failure(a.client.setSelfStatus({ customStatus: 'abcd' }))).limit).toBe(3);
    await a.client.getUserStatus({ userIDList: Array.from({ length: 500 }, (_, i) => `u${i}`) });
  });
});
