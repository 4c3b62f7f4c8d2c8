// SPEC clauses through the real Web SDK (tim-js-sdk 2.27.6, unmodified) against the TIM gateway over an
// in-process engine: what an app that only swaps proxyServer gets from status-engine.
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, TYPES } from '../../src/index';
import { rejection, sdkWorld, testUserSig, withSdkUnhandled, type SdkWorld } from './harness';

let world: SdkWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});
const open = async (options: Parameters<typeof sdkWorld>[0] = {}) => (world = await sdkWorld(options));

const TYPES_ONLINE = TYPES.USER_STATUS_ONLINE;
const TYPES_UNLOGINED = TYPES.USER_STATUS_UNLOGINED;

describe('login through the Web SDK', () => {
  it('a bad UserSig makes tim.login reject with the verifier\'s code, and the user stays UNLOGINED', async () => {
    const w = await open();
    const d = w.device();
    const e = await rejection(d.tim.login({ userID: 'alice', userSig: 'forged' }));
    expect(e.code).toBe(70003);
    expect(e.message).toContain('alice');
    expect((await w.server.engine.queryStatus(['alice']))[0]!.statusType).toBe(TYPES_UNLOGINED);
    // The same SDK instance can then log in with a good one.
    await d.tim.login({ userID: 'alice', userSig: testUserSig('alice') });
    await d.waitFor('sdkStateReady');
    expect((await w.server.engine.queryStatus(['alice']))[0]!.statusType).toBe(TYPES_ONLINE);
  });

  it('a UserSig for another user is refused too', async () => {
    const w = await open();
    const e = await rejection(w.device().tim.login({ userID: 'alice', userSig: testUserSig('bob') }));
    expect(e.code).toBe(70003);
  });

  it('an unregistered user is refused with 70107', async () => {
    const w = await open();
    const e = await rejection(w.device().tim.login({ userID: 'zed', userSig: testUserSig('zed') }));
    expect(e.code).toBe(ErrorCode.USER_NOT_FOUND);
  });

  it('ST-4/ST-6 login makes the user ONLINE and logout UNLOGINED; the device hears its own ONLINE', async () => {
    const w = await open();
    const d = w.device();
    await d.tim.login({ userID: 'alice', userSig: testUserSig('alice') });
    await d.waitFor('onUserStatusUpdated', (data) => data[0].userID === 'alice' && data[0].statusType === TYPES_ONLINE);
    expect((await w.server.engine.queryStatus(['alice']))[0]!.statusType).toBe(TYPES_ONLINE);
    await d.tim.logout();
    expect((await w.server.engine.queryStatus(['alice']))[0]!.statusType).toBe(TYPES_UNLOGINED);
  });
});

describe('logout and another login on the same SDK', () => {
  it('CL-1 after logout() the same SDK instance logs in as another user on the same socket; the first is UNLOGINED', async () => {
    const w = await open();
    const d = await w.online('alice');
    await d.tim.setSelfStatus({ customStatus: 'alice here' });
    const socketsBefore = d.sockets.length;
    await d.tim.logout();
    await d.tim.login({ userID: 'bob', userSig: testUserSig('bob') });
    await d.until(() => d.events.filter((e) => e.name === 'sdkStateReady').length >= 1, 'ready as bob');
    expect(d.sockets.length).toBe(socketsBefore); // logout keeps the socket; the next login reuses it
    const [alice, bob] = await w.server.engine.queryStatus(['alice', 'bob']);
    expect(alice!.statusType).toBe(TYPES_UNLOGINED);
    expect(bob!.statusType).toBe(TYPES_ONLINE);
    // Its own cached custom status is bob's now (the SDK forgot alice's at logout).
    const self = await d.tim.getUserStatus({ userIDList: ['bob'] });
    expect(self.data.successUserList).toEqual([{ userID: 'bob', statusType: TYPES_ONLINE, customStatus: '' }]);
  });
});

describe('custom status (CS)', () => {
  it('CS-1 setSelfStatus sets the caller\'s custom status, with no edition and no switch', async () => {
    const w = await open({ edition: 'pro', switches: { userStatus: false } });
    const a = await w.online('alice');
    const r = await a.tim.setSelfStatus({ customStatus: 'at lunch 🍜' });
    expect(r.data).toEqual({ userID: 'alice', statusType: TYPES_ONLINE, customStatus: 'at lunch 🍜' });
    expect((await w.server.engine.queryStatus(['alice']))[0]).toMatchObject({ statusType: TYPES_ONLINE, customStatus: 'at lunch 🍜' });
  });

  it('CS-2 an empty customStatus clears it', async () => {
    const w = await open();
    const a = await w.online('alice');
    await a.tim.setSelfStatus({ customStatus: 'busy' });
    await a.tim.setSelfStatus({ customStatus: '' });
    expect((await w.server.engine.queryStatus(['alice']))[0]!.customStatus).toBe('');
    await a.waitFor('onUserStatusUpdated', (data) => data[0].customStatus === '' && data[0].userID === 'alice');
  });

  it('CS-3 every device of the caller hears the change, the calling one included (two SDK instances of one user)', async () => {
    const w = await open();
    const a1 = await w.online('alice');
    const a2 = await w.online('alice');
    await a1.tim.setSelfStatus({ customStatus: 'in a meeting' });
    for (const d of [a1, a2]) {
      await d.waitFor('onUserStatusUpdated', (data) => data[0].userID === 'alice' && data[0].customStatus === 'in a meeting');
      expect(d.about('alice')).toEqual([[TYPES_ONLINE, 'in a meeting']]);
    }
    // The other device's SDK keeps its own cached custom status in step (its self query is local).
    const self = await a2.tim.getUserStatus({ userIDList: ['alice'] });
    expect(self.data.successUserList).toEqual([{ userID: 'alice', statusType: TYPES_ONLINE, customStatus: 'in a meeting' }]);
  });

  it('CS-6 a custom status over customStatusMaxBytes is refused by the server with 6017 naming the limit, and changes nothing', async () => {
    const w = await open();
    const a = await w.online('alice');
    await a.tim.setSelfStatus({ customStatus: 'before' });
    // The SDK checks no length itself: the server's rule is what the app sees. 34 x 3 bytes = 102 > 100.
    const e = await rejection(a.tim.setSelfStatus({ customStatus: '状'.repeat(34) }));
    expect(e.code).toBe(ErrorCode.INVALID_PARAMETER);
    expect(e.message).toContain('customStatusMaxBytes');
    expect((await w.server.engine.queryStatus(['alice']))[0]!.customStatus).toBe('before');
    // Exactly at the limit is fine (33 x 3 = 99 bytes, plus one ASCII byte).
    await a.tim.setSelfStatus({ customStatus: `${'状'.repeat(33)}x` });
  });
});

describe('query (GET)', () => {
  it('GET-1 getUserStatus returns successUserList and failureUserList, custom status decoded as the SDK expects', async () => {
    const w = await open();
    const b = await w.online('bob');
    await b.tim.setSelfStatus({ customStatus: 'héllo wörld ✓' });
    const a = await w.online('alice');
    const r = await a.tim.getUserStatus({ userIDList: ['bob', 'carol'] });
    expect(r.data).toEqual({
      successUserList: [
        { userID: 'bob', statusType: TYPES_ONLINE, customStatus: 'héllo wörld ✓' },
        { userID: 'carol', statusType: TYPES_UNLOGINED, customStatus: '' },
      ],
      failureUserList: [],
    });
  });

  it('GET-2 a list of only the caller needs no edition and no switch', async () => {
    const w = await open({ edition: 'pro', switches: { userStatus: false } });
    const a = await w.online('alice');
    await a.tim.setSelfStatus({ customStatus: 'me' });
    const r = await a.tim.getUserStatus({ userIDList: ['alice'] });
    expect(r.data.successUserList).toEqual([{ userID: 'alice', statusType: TYPES_ONLINE, customStatus: 'me' }]);
  });

  it('GET-3 others need Ultimate (3122, the SDK refuses by its purchase bits and sends nothing) and the switch (72001, from the server)', async () => {
    const w = await open({ edition: 'pro' });
    const a = await w.online('alice');
    const before = a.sent.length;
    expect((await rejection(a.tim.getUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    expect(a.sent.slice(before)).not.toContain('im_open_status.ws_get_user_status');
    await w.server.engine.configure({ edition: 'ultimate', switches: { userStatus: false } });
    await w.barrier(a, 'alice'); // the purchase-bits push is ahead of the barrier on the socket
    const e = await rejection(a.tim.getUserStatus({ userIDList: ['bob'] }));
    expect(e.code).toBe(ErrorCode.SWITCH_OFF);
    expect(a.sent).toContain('im_open_status.ws_get_user_status');
  });

  it('GET-4 more than queryMaxUsers distinct users is refused with 6017 naming the limit; duplicates count once', async () => {
    const w = await open({ limits: { queryMaxUsers: 2 } });
    const a = await w.online('alice');
    const e = await rejection(a.tim.getUserStatus({ userIDList: ['bob', 'carol', 'dave'] }));
    expect(e.code).toBe(ErrorCode.INVALID_PARAMETER);
    expect(e.message).toContain('queryMaxUsers');
    const r = await a.tim.getUserStatus({ userIDList: ['bob', 'carol', 'bob'] });
    expect(r.data.successUserList.map((s: { userID: string }) => s.userID)).toEqual(['bob', 'carol']);
  });

  it('GET-5 an unregistered userID fails with 70107 and the rest still succeed', async () => {
    const w = await open();
    const a = await w.online('alice');
    const r = await a.tim.getUserStatus({ userIDList: ['bob', 'zed'] });
    expect(r.data.successUserList.map((s: { userID: string }) => s.userID)).toEqual(['bob']);
    expect(r.data.failureUserList).toEqual([{ userID: 'zed', code: ErrorCode.USER_NOT_FOUND, message: expect.stringContaining('zed') }]);
  });
});

describe('subscribe (SUB) and unsubscribe (UNSUB)', () => {
  it('SUB-1 after subscribing, every change of that user reaches the subscriber as onUserStatusUpdated', async () => {
    const w = await open();
    const a = await w.online('alice');
    const b = await w.online('bob');
    const r = await a.tim.subscribeUserStatus({ userIDList: ['bob'] });
    expect(r.data).toEqual({ failureUserList: [] });
    await b.tim.setSelfStatus({ customStatus: 'coding' });
    await b.tim.logout();
    await a.until(() => a.about('bob').length === 2, 'two changes of bob');
    expect(a.about('bob')).toEqual([
      [TYPES_ONLINE, 'coding'],
      [TYPES_UNLOGINED, 'coding'],
    ]);
  });

  it('SUB-2 subscribing needs Ultimate (3122 from the SDK itself) and the switch (72001 from the server)', async () => {
    const w = await open({ edition: 'trial' });
    const a = await w.online('alice');
    expect((await rejection(a.tim.subscribeUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    expect((await rejection(a.tim.unsubscribeUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    expect(a.sent).not.toContain('im_open_status.ws_status_subscribe');
    await w.server.engine.configure({ edition: 'ultimate', switches: { userStatus: false } });
    await w.barrier(a, 'alice');
    expect((await rejection(a.tim.subscribeUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.SWITCH_OFF);
    expect((await rejection(a.tim.unsubscribeUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.SWITCH_OFF);
  });

  it('SUB-3 subscribing to yourself fails for that entry only', async () => {
    const w = await open();
    const a = await w.online('alice');
    const r = await a.tim.subscribeUserStatus({ userIDList: ['alice', 'bob'] });
    expect(r.data.failureUserList).toEqual([{ userID: 'alice', code: ErrorCode.INVALID_PARAMETER, message: expect.any(String) }]);
    expect((await w.server.engine.exportState()).users.alice!.subscriptions).toEqual(['bob']);
  });

  it('SUB-4 unregistered userIDs fail with 70107; the rest succeed', async () => {
    const w = await open();
    const a = await w.online('alice');
    const r = await a.tim.subscribeUserStatus({ userIDList: ['zed', 'bob'] });
    expect(r.data.failureUserList).toEqual([{ userID: 'zed', code: ErrorCode.USER_NOT_FOUND, message: expect.stringContaining('zed') }]);
    expect((await w.server.engine.exportState()).users.alice!.subscriptions).toEqual(['bob']);
  });

  it('SUB-5 more than subscribeMaxUsers distinct users is refused with 6017 and changes nothing', async () => {
    const w = await open({ limits: { subscribeMaxUsers: 2 } });
    const a = await w.online('alice');
    const e = await rejection(a.tim.subscribeUserStatus({ userIDList: ['bob', 'carol', 'dave'] }));
    expect(e.code).toBe(ErrorCode.INVALID_PARAMETER);
    expect(e.message).toContain('subscribeMaxUsers');
    expect((await w.server.engine.exportState()).users.alice!.subscriptions).toEqual([]);
  });

  it('UNSUB-1 unsubscribing stops that user\'s updates', async () => {
    const w = await open();
    const a = await w.online('alice');
    const b = await w.online('bob');
    await a.tim.subscribeUserStatus({ userIDList: ['bob', 'carol'] });
    const r = await a.tim.unsubscribeUserStatus({ userIDList: ['bob'] });
    expect(r.data).toEqual({ failureUserList: [] });
    expect((await w.server.engine.exportState()).users.alice!.subscriptions).toEqual(['carol']);
    await b.tim.setSelfStatus({ customStatus: 'unheard' });
    await w.barrier(a, 'alice');
    expect(a.about('bob')).toEqual([]);
  });

  it('UNSUB-2 unsubscribeUserStatus() with no options, or an empty list, removes all', async () => {
    const w = await open();
    const a = await w.online('alice');
    await a.tim.subscribeUserStatus({ userIDList: ['bob', 'carol'] });
    await a.tim.unsubscribeUserStatus();
    expect((await w.server.engine.exportState()).users.alice!.subscriptions).toEqual([]);
    await a.tim.subscribeUserStatus({ userIDList: ['bob', 'carol'] });
    await a.tim.unsubscribeUserStatus({ userIDList: [] });
    expect((await w.server.engine.exportState()).users.alice!.subscriptions).toEqual([]);
  });

  it('SUB-7 subscriptions belong to the account: every device of the subscriber hears, and a new device needs no new subscribe', async () => {
    const w = await open();
    const a1 = await w.online('alice');
    await a1.tim.subscribeUserStatus({ userIDList: ['bob'] });
    const a2 = await w.online('alice');
    const b = await w.online('bob');
    await b.tim.setSelfStatus({ customStatus: 'both hear' });
    for (const d of [a1, a2]) await d.waitFor('onUserStatusUpdated', (data) => data[0].userID === 'bob' && data[0].customStatus === 'both hear');
  });
});

describe('notifications (NTF)', () => {
  it('NTF-1 every notification is onUserStatusUpdated with an array of {userID, statusType, customStatus}', async () => {
    const w = await open();
    const a = await w.online('alice');
    await a.tim.subscribeUserStatus({ userIDList: ['bob'] });
    const b = await w.online('bob');
    const e = await a.waitFor('onUserStatusUpdated', (data) => data[0].userID === 'bob');
    expect(e.data).toEqual([{ userID: 'bob', statusType: TYPES_ONLINE, customStatus: '' }]);
    void b;
  });

  it('NTF-2/NTF-3 a friend\'s change is not delivered without friendStatusNotify or a subscription; with it, it is (friend auto-notification)', async () => {
    const w = await open();
    await w.server.engine.addFriends('alice', ['bob']);
    const a = await w.online('alice');
    const b = await w.online('bob');
    await b.tim.setSelfStatus({ customStatus: 'not for friends yet' });
    await w.barrier(a, 'alice');
    expect(a.about('bob')).toEqual([]);
    await w.server.engine.configure({ switches: { friendStatusNotify: true } });
    await b.tim.setSelfStatus({ customStatus: 'friends hear this' });
    await a.waitFor('onUserStatusUpdated', (data) => data[0].userID === 'bob' && data[0].customStatus === 'friends hear this');
    // NTF-2: subscribed and a friend: heard once.
    await a.tim.subscribeUserStatus({ userIDList: ['bob'] });
    a.clear();
    await b.tim.setSelfStatus({ customStatus: 'once' });
    await w.barrier(a, 'alice');
    expect(a.about('bob')).toEqual([[TYPES_ONLINE, 'once']]);
  });
});

describe('edition and switches (GATE) and limits (LIM)', () => {
  it('GATE-2 switching the edition off makes the SDK\'s own calls reject with 3122 at once, without a restart or relogin; back on, they work', async () => {
    const w = await open();
    const a = await w.online('alice');
    await a.tim.subscribeUserStatus({ userIDList: ['bob'] });
    await w.server.engine.configure({ edition: 'pro' });
    // The purchase-bits push travels on the socket ahead of the barrier's own push.
    await w.barrier(a, 'alice');
    const sentBefore = a.sent.length;
    expect((await rejection(a.tim.getUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    expect((await rejection(a.tim.subscribeUserStatus({ userIDList: ['carol'] }))).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    expect((await rejection(a.tim.unsubscribeUserStatus())).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    expect(a.sent.slice(sentBefore).filter((c) => c.startsWith('im_open_status.ws_'))).toEqual([]); // the SDK refused by itself
    // GATE-4: the subscription list is kept; and setSelfStatus needs no edition.
    expect((await w.server.engine.exportState()).users.alice!.subscriptions).toEqual(['bob']);
    await a.tim.setSelfStatus({ customStatus: 'still fine' });
    await w.server.engine.configure({ edition: 'ultimate' });
    await w.barrier(a, 'alice');
    const r = await a.tim.getUserStatus({ userIDList: ['bob'] });
    expect(r.data.successUserList).toHaveLength(1);
  });

  it('GATE-3 with the userStatus switch off the server answers 72001; when both are missing the SDK reports 3122', async () => {
    const w = await open();
    const a = await w.online('alice');
    await w.server.engine.configure({ switches: { userStatus: false } });
    expect((await rejection(a.tim.getUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.SWITCH_OFF);
    expect((await rejection(a.tim.subscribeUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.SWITCH_OFF);
    await w.server.engine.configure({ edition: 'pro' });
    await w.barrier(a, 'alice');
    expect((await rejection(a.tim.getUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
  });

  it('LIM-1 the server allows rateLimit.requests calls per window per user; the next fails with 2996 and says when to retry', async () => {
    const w = await open({ limits: { rateLimit: { requests: 3, windowMs: 5000 } } });
    const a = await w.online('alice');
    for (let i = 0; i < 3; i++) await a.tim.getUserStatus({ userIDList: ['bob'] });
    const e = await rejection(a.tim.getUserStatus({ userIDList: ['bob'] }));
    expect(e.code).toBe(ErrorCode.RATE_LIMITED);
    expect(e.message).toMatch(/retry in \d+ ms/);
    // Self queries are never limited, and the window is per API.
    await a.tim.getUserStatus({ userIDList: ['alice'] });
    await a.tim.subscribeUserStatus({ userIDList: ['bob'] });
    // The window slides on the engine's clock.
    w.server.clock!.increment(5000);
    await a.tim.getUserStatus({ userIDList: ['bob'] });
  });
});

describe('devices, kick and reconnect (DEV)', () => {
  it('DEV-4 a login over maxWebInstances kicks the oldest web device: its SDK emits KICKED_OUT multipleDevice (3002) and is logged out', async () => {
    const w = await open({ limits: { maxWebInstances: 1 } });
    const b = await w.online('bob');
    await b.tim.subscribeUserStatus({ userIDList: ['alice'] });
    const a1 = await w.online('alice');
    b.clear();
    const a2 = await w.online('alice');
    const kick = await a1.waitFor('kickedOut');
    expect(kick.data).toEqual({ type: a1.TIM.TYPES.KICKED_OUT_MULT_DEVICE });
    expect(a1.TIM.TYPES.KICKED_OUT_MULT_DEVICE).toBe('multipleDevice');
    const e = await rejection(a1.tim.setSelfStatus({ customStatus: 'x' }));
    expect(e.code).toBe(ErrorCode.KICKED_OUT); // the SDK's own "kicked out" refusal
    const detail = (await w.server.engine.queryStatus(['alice'], { detail: true }))[0]!;
    expect(detail.statusType).toBe(TYPES_ONLINE);
    expect(detail.devices).toHaveLength(1);
    // ST-8: the swap changed nothing others can see.
    await a2.tim.setSelfStatus({ customStatus: 'new device' });
    await b.waitFor('onUserStatusUpdated', (data) => data[0].customStatus === 'new device');
    expect(b.about('alice')).toEqual([[TYPES_ONLINE, 'new device']]);
  });

  it('DEV-1 after the server drops the socket the SDK logs in again with its session key: same device, subscriptions kept', async () => {
    const w = await open();
    const b = await w.online('bob');
    await b.tim.subscribeUserStatus({ userIDList: ['alice'] });
    const a = await w.online('alice');
    await a.tim.subscribeUserStatus({ userIDList: ['carol'] });
    const deviceBefore = (await w.server.engine.queryStatus(['alice'], { detail: true }))[0]!.devices![0]!.deviceId;
    b.clear();
    const relogins = a.sent.filter((c) => c === 'im_open_status.wslogin').length;
    w.server.serverSideOf(a.socket!)!.terminate();
    await a.until(() => a.sent.filter((c) => c === 'im_open_status.wslogin').length > relogins, 'the relogin');
    // DEV-2: a closed web link drops the device at once; the relogin brings it back.
    await b.until(() => b.about('alice').length >= 2, 'alice dropped and back');
    expect(b.about('alice')).toEqual([
      [TYPES_UNLOGINED, ''],
      [TYPES_ONLINE, ''],
    ]);
    const after = (await w.server.engine.queryStatus(['alice'], { detail: true }))[0]!;
    expect(after.devices!.map((d) => d.deviceId)).toEqual([deviceBefore]);
    // Its calls work on the new socket, and its subscriptions live on (they belong to the account).
    await a.tim.setSelfStatus({ customStatus: 'back' });
    await b.waitFor('onUserStatusUpdated', (data) => data[0].customStatus === 'back');
    const c = await w.online('carol');
    await c.tim.setSelfStatus({ customStatus: 'carol here' });
    await a.waitFor('onUserStatusUpdated', (data) => data[0].userID === 'carol' && data[0].customStatus === 'carol here');
  });

  it('EXT-2 a change missed while the SDK was away arrives once after its relogin', async () => {
    const w = await open();
    const a = await w.online('alice');
    await a.tim.subscribeUserStatus({ userIDList: ['bob'] });
    const b = await w.online('bob');
    await a.waitFor('onUserStatusUpdated', (data) => data[0].userID === 'bob');
    a.clear();
    a.cut({ block: true });
    await a.until(() => w.server.sockets.size === 1, 'the server to see alice go');
    await b.tim.setSelfStatus({ customStatus: 'while you were away' });
    await b.tim.setSelfStatus({ customStatus: 'latest' });
    a.unblock();
    await a.waitFor('onUserStatusUpdated', (data) => data.some((s: { userID: string }) => s.userID === 'bob'), 15_000);
    await w.barrier(a, 'alice');
    expect(a.about('bob')).toEqual([[TYPES_ONLINE, 'latest']]);
  });

  it('DEV-1 a relogin with a key the server no longer accepts gets 70001: the SDK reports KICKED_OUT userSigExpired', async () => {
    const w = await open();
    const a = await w.online('alice');
    // A server restarted without its key secret: the keys it issued before mean nothing to it.
    const { createTimGateway } = await import('../../src/server/timGateway');
    const { testVerifier, SDK_APP_ID } = await import('./harness');
    const old = w.server.gateway;
    w.server.gateway = createTimGateway({ core: w.server.core, verifyUserSig: testVerifier, sdkAppId: SDK_APP_ID });
    const { result: kick, swallowed } = await withSdkUnhandled(70001, async () => {
      await old.close();
      return a.waitFor('kickedOut', undefined, 15_000);
    });
    expect(swallowed).toBeLessThanOrEqual(1);
    expect(kick.data).toEqual({ type: a.TIM.TYPES.KICKED_OUT_USERSIG_EXPIRED });
    expect(a.TIM.TYPES.KICKED_OUT_USERSIG_EXPIRED).toBe('userSigExpired');
    // The app logs in again with a UserSig, on the same SDK instance.
    await a.tim.login({ userID: 'alice', userSig: testUserSig('alice') });
    await a.until(() => a.events.filter((e) => e.name === 'sdkStateReady').length >= 1, 'ready');
    await a.tim.setSelfStatus({ customStatus: 'logged in again' });
    expect((await w.server.engine.queryStatus(['alice']))[0]!.customStatus).toBe('logged in again');
  });
});
