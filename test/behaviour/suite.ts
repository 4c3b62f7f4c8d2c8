// One behavioural suite, run against every target (test/behaviour/target.ts): the in-process client over an
// engine, and the remote client over the real server process. The tests speak only the Client API, the
// admin operations and the target's time control, so the same expectations hold for both.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, EVENT, TYPES, type ConfigChange, type Platform, type UserStatus } from '../../src/index';
import { record, type Device, type Target, type TargetFactory } from './target';

const { USER_STATUS_ONLINE: ONLINE, USER_STATUS_OFFLINE: OFFLINE, USER_STATUS_UNLOGINED: UNLOGINED } = TYPES;

/** Rejects? Returns the error, so tests can look at code, message and details. */
async function failure(p: Promise<unknown>): Promise<{ code: number; message: string } & Record<string, any>> {
  try {
    await p;
  } catch (e) {
    return e as { code: number; message: string };
  }
  throw new Error('expected the call to reject, it resolved');
}

/** What a target can be at all, known when the suite is defined (TargetTraits are known once it runs). */
export interface SuiteOptions {
  /** The target's clients can be native devices (a web SDK cannot). Default true. */
  nativePlatforms?: boolean;
}

/** Stands in for `it` where a test does not apply to a target: nothing is registered. */
const notDefined = ((..._args: unknown[]) => undefined) as unknown as typeof it;

export function behaviourSuite(name: string, factory: TargetFactory, options: SuiteOptions = {}): void {
  const native = options.nativePlatforms !== false;
  describe(`behaviour (${name})`, () => {
    let target: Target;
    let devices: Device[] = [];

    beforeAll(async () => {
      target = await factory();
    }, 30_000);
    afterAll(async () => {
      await target?.close();
    });
    afterEach(async () => {
      await Promise.all(devices.map((d) => d.client.destroy().catch(() => undefined)));
      devices = [];
    });

    /** Fresh users (prefixed, so tests on one server do not meet) and the default settings with userStatus on. */
    async function world<N extends string>(names: N[], settings?: ConfigChange) {
      await target.reset();
      if (settings) await target.admin.configure(settings);
      const p = target.prefix();
      const u = Object.fromEntries(names.map((n) => [n, p + n])) as Record<N, string>;
      await target.admin.register(Object.values(u));
      const device = (who: N, platform: Platform = 'web'): Device => {
        const d = record(target.client(platform), u[who]);
        devices.push(d);
        return d;
      };
      const online = async (who: N, platform: Platform = 'web'): Promise<Device> => {
        const d = device(who, platform);
        await d.client.login({ userID: d.userID, userSig: target.userSig(d.userID) });
        await target.settle();
        d.clear();
        return d;
      };
      const status = async (who: N) => (await target.admin.queryStatus([u[who]]))[0]!;
      const settle = () => target.settle();
      const clearAll = () => devices.forEach((d) => d.clear());
      return { u, device, online, status, settle, clearAll, admin: target.admin, advance: (ms: number) => target.advance(ms) };
    }

    describe('custom status (CS)', () => {
      it('CS-1 setSelfStatus needs no edition, no switch, and is not rate limited', async () => {
        const w = await world(['alice'], { edition: 'pro', switches: { userStatus: false, friendStatusNotify: false } });
        const alice = await w.online('alice');
        for (let i = 0; i < DEFAULT_LIMITS.rateLimit.requests + 5; i++) {
          const r = await alice.client.setSelfStatus({ customStatus: `s${i}` });
          expect(r.data).toMatchObject({ userID: w.u.alice, statusType: ONLINE, customStatus: `s${i}` });
        }
        expect((await w.status('alice')).customStatus).toBe(`s${DEFAULT_LIMITS.rateLimit.requests + 4}`);
      });

      it('CS-2 an empty customStatus clears it', async () => {
        const w = await world(['alice']);
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
      });

      it('CS-3 the caller gets {userID, statusType, customStatus} and every device of the caller hears the change', async () => {
        const w = await world(['alice']);
        const web = await w.online('alice', 'web');
        const phone = await w.online('alice', 'android');
        w.clearAll();
        const r = await web.client.setSelfStatus({ customStatus: 'in a meeting' });
        expect(r.data).toMatchObject({ userID: w.u.alice, statusType: ONLINE, customStatus: 'in a meeting' });
        await w.settle();
        expect(web.about(w.u.alice)).toEqual([[ONLINE, 'in a meeting']]);
        expect(phone.about(w.u.alice)).toEqual([[ONLINE, 'in a meeting']]);
      });

      it('CS-6 a custom status over customStatusMaxBytes, or not a string, is refused and changes nothing', async () => {
        const w = await world(['alice', 'bob']);
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
      });
    });

    describe('query (GET)', () => {
      it('GET-1 getUserStatus returns successUserList of {userID, statusType, customStatus} and failureUserList', async () => {
        const w = await world(['alice', 'bob', 'carol']);
        const alice = await w.online('alice');
        const bob = await w.online('bob');
        await bob.client.setSelfStatus({ customStatus: 'coding' });
        const r = await alice.client.getUserStatus({ userIDList: [w.u.bob, w.u.carol] });
        expect(r.data.failureUserList).toEqual([]);
        expect(r.data.successUserList.map((s) => [s.userID, s.statusType, s.customStatus])).toEqual([
          [w.u.bob, ONLINE, 'coding'],
          [w.u.carol, UNLOGINED, ''],
        ]);
      });

      it('GET-2 a list of only yourself needs no edition, no switch and no rate', async () => {
        const w = await world(['alice'], { edition: 'trial', switches: { userStatus: false } });
        const alice = await w.online('alice');
        await alice.client.setSelfStatus({ customStatus: 'me' });
        for (let i = 0; i < DEFAULT_LIMITS.rateLimit.requests + 5; i++) {
          const r = await alice.client.getUserStatus({ userIDList: [w.u.alice] });
          expect(r.data.successUserList).toMatchObject([{ userID: w.u.alice, statusType: ONLINE, customStatus: 'me' }]);
        }
      });

      it('GET-3 a query of others needs Ultimate (3122) and the userStatus switch (72001)', async () => {
        const w = await world(['alice', 'bob'], { switches: { userStatus: false } });
        const alice = await w.online('alice');
        expect((await failure(alice.client.getUserStatus({ userIDList: [w.u.bob] }))).code).toBe(72001);
        await w.admin.configure({ edition: 'pro', switches: { userStatus: true } });
        expect((await failure(alice.client.getUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
        await w.admin.configure({ edition: 'ultimate' });
        expect((await alice.client.getUserStatus({ userIDList: [w.u.bob] })).data.successUserList).toHaveLength(1);
      });

      it('GET-4 more than queryMaxUsers distinct userIDs is refused naming the limit; duplicates are answered once', async () => {
        // A limit below the Web SDK's own 500, so that the server's check is what every target meets.
        const w = await world(['alice', 'bob', 'carol'], { limits: { queryMaxUsers: 3 } });
        const alice = await w.online('alice');
        const e = await failure(alice.client.getUserStatus({ userIDList: [w.u.bob, w.u.carol, 'nobody-1', 'nobody-2'] }));
        expect(e.code).toBe(6017);
        expect(e.message).toContain('queryMaxUsers = 3');
        const r = await alice.client.getUserStatus({ userIDList: [w.u.bob, w.u.bob, w.u.carol, w.u.bob] });
        expect(r.data.successUserList.map((s) => s.userID)).toEqual([w.u.bob, w.u.carol]);
      });

      it('GET-5 an unregistered userID fails with 70107; the rest succeed', async () => {
        const w = await world(['alice', 'bob']);
        const alice = await w.online('alice');
        const r = await alice.client.getUserStatus({ userIDList: [w.u.bob, 'ghost-user'] });
        expect(r.data.successUserList.map((s) => s.userID)).toEqual([w.u.bob]);
        expect(r.data.failureUserList).toMatchObject([{ userID: 'ghost-user', code: 70107 }]);
      });
    });

    describe('subscribe (SUB)', () => {
      it('SUB-1 after subscribing, every change of the target reaches the subscriber', async () => {
        const w = await world(['alice', 'bob']);
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
      });

      it('SUB-2 subscribing needs Ultimate (3122) and the userStatus switch (72001), and is rate limited (2996)', async () => {
        // A rate below the Web SDK's own 20 per 5 s, so that the server's window is what every target meets.
        const w = await world(['alice', 'bob'], { switches: { userStatus: false }, limits: { rateLimit: { requests: 3 } } });
        const alice = await w.online('alice');
        expect((await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(72001);
        await w.admin.configure({ edition: 'pro', switches: { userStatus: true } });
        expect((await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
        await w.admin.configure({ edition: 'ultimate' });
        for (let i = 0; i < 3; i++) await alice.client.subscribeUserStatus({ userIDList: [w.u.bob] });
        const e = await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }));
        expect(e.code).toBe(2996);
      });

      it('SUB-3 subscribing to yourself fails for that entry only', async () => {
        const w = await world(['alice', 'bob']);
        const alice = await w.online('alice');
        const bob = await w.online('bob');
        const r = await alice.client.subscribeUserStatus({ userIDList: [w.u.alice, w.u.bob] });
        expect(r.data.failureUserList).toMatchObject([{ userID: w.u.alice, code: 6017 }]);
        await bob.client.setSelfStatus({ customStatus: 'x' });
        await w.settle();
        expect(alice.about(w.u.bob)).toEqual([[ONLINE, 'x']]);
      });

      it('SUB-4 unregistered userIDs fail with 70107; the rest succeed', async () => {
        const w = await world(['alice', 'bob']);
        const alice = await w.online('alice');
        const bob = await w.online('bob');
        const r = await alice.client.subscribeUserStatus({ userIDList: ['ghost-user', w.u.bob] });
        expect(r.data.failureUserList).toMatchObject([{ userID: 'ghost-user', code: 70107 }]);
        await bob.client.setSelfStatus({ customStatus: 'y' });
        await w.settle();
        expect(alice.about(w.u.bob)).toEqual([[ONLINE, 'y']]);
      });

      it('SUB-5 more than subscribeMaxUsers distinct userIDs is refused; duplicates count once', async () => {
        // A limit below the Web SDK's own 100, so that the server's check is what every target meets.
        const w = await world(['alice', 'bob'], { limits: { subscribeMaxUsers: 3 } });
        const alice = await w.online('alice');
        const e = await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob, 'nobody-1', 'nobody-2', 'nobody-3'] }));
        expect(e.code).toBe(6017);
        expect(e.message).toContain('subscribeMaxUsers = 3');
        const r = await alice.client.subscribeUserStatus({ userIDList: [w.u.bob, 'nobody-1', w.u.bob, 'nobody-2', 'nobody-1'] });
        expect(r.data.failureUserList.map((f) => f.userID).sort()).toEqual(['nobody-1', 'nobody-2']);
      });
    });

    describe('unsubscribe (UNSUB)', () => {
      it('UNSUB-1 unsubscribing stops the updates of those users only', async () => {
        const w = await world(['alice', 'bob', 'carol']);
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
      });

      it('UNSUB-2 no options, userIDList undefined or [] removes every subscription', async () => {
        const w = await world(['alice', 'bob', 'carol']);
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
      });
    });

    describe('notifications (NTF)', () => {
      it('NTF-1 a notification is onUserStatusUpdated carrying an array of {userID, statusType, customStatus}', async () => {
        const w = await world(['alice', 'bob']);
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
      });

      it('NTF-2 a change reaches own devices, subscribers and friends (friendStatusNotify), each user once', async () => {
        const w = await world(['alice', 'bob', 'carol', 'dave'], { switches: { friendStatusNotify: true } });
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
      });

      it('NTF-3 without friendStatusNotify and without a subscription, a friend hears nothing', async () => {
        const w = await world(['alice', 'bob']);
        await w.admin.addFriends(w.u.bob, [w.u.alice]);
        const alice = await w.online('alice');
        const bob = await w.online('bob');
        await alice.client.setSelfStatus({ customStatus: 'quiet' });
        await alice.client.logout();
        await w.settle();
        expect(bob.heard).toEqual([]);
      });

      it('NTF-2 friend auto-notification: with friendStatusNotify a friend hears login, custom status and logout', async () => {
        const w = await world(['alice', 'bob'], { switches: { friendStatusNotify: true } });
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
      });
    });

    describe('gates (GATE)', () => {
      it('GATE-2 only the three calls need Ultimate (3122): setSelfStatus and a self query do not', async () => {
        const w = await world(['alice', 'bob'], { edition: 'pro' });
        const alice = await w.online('alice');
        expect((await failure(alice.client.getUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
        expect((await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
        expect((await failure(alice.client.unsubscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
        expect((await alice.client.setSelfStatus({ customStatus: 'free' })).data.customStatus).toBe('free');
        expect((await alice.client.getUserStatus({ userIDList: [w.u.alice] })).data.successUserList[0]!.customStatus).toBe('free');
      });

      it('GATE-3 the userStatus switch gates the same three (72001); with both missing 3122 is reported', async () => {
        const w = await world(['alice', 'bob'], { switches: { userStatus: false } });
        const alice = await w.online('alice');
        expect((await failure(alice.client.getUserStatus({ userIDList: [w.u.bob] }))).code).toBe(72001);
        expect((await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(72001);
        expect((await failure(alice.client.unsubscribeUserStatus())).code).toBe(72001);
        await alice.client.setSelfStatus({ customStatus: 'fine' });
        await w.admin.configure({ edition: 'trial' });
        expect((await failure(alice.client.subscribeUserStatus({ userIDList: [w.u.bob] }))).code).toBe(3122);
      });
    });

    describe('limits (LIM)', () => {
      it('LIM-1 rateLimit.requests calls per window per user and API; the next fails with 2996 and when to retry, and uses no quota', async () => {
        // A rate below the Web SDK's own 20 per 5 s, so that the server's window is what every target meets.
        const requests = 3;
        const windowMs = DEFAULT_LIMITS.rateLimit.windowMs;
        const w = await world(['alice', 'bob'], { limits: { rateLimit: { requests } } });
        const alice = await w.online('alice');
        const retryIn = (e: { message: string; retryAfterMs?: number }, ms: number) => {
          expect(e.message).toContain(`retry in ${ms} ms`);
          if (target.traits?.extensionFields !== false) expect(e.retryAfterMs).toBe(ms); // EXT-6
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
      });
    });

    describe('devices, sync and reconnect (DEV, EXT-2)', () => {
      it('ST-8 multi-device sync: a second device changes nothing visible; each device hears the other\'s changes', async () => {
        const w = await world(['alice', 'bob']);
        const bob = await w.online('bob');
        const web = await w.online('alice', 'web');
        await bob.client.subscribeUserStatus({ userIDList: [w.u.alice] });
        await w.settle();
        w.clearAll();
        const phone = await w.online('alice', 'ios');
        await w.settle();
        expect(bob.heard).toEqual([]);
        expect(web.heard).toEqual([]);
        await phone.client.setSelfStatus({ customStatus: 'from phone' });
        await w.settle();
        expect(web.about(w.u.alice)).toEqual([[ONLINE, 'from phone']]);
        expect((await web.client.getUserStatus({ userIDList: [w.u.alice] })).data.successUserList[0]!.customStatus).toBe('from phone');
        await web.client.logout();
        await w.settle();
        expect(bob.about(w.u.alice)).toEqual([[ONLINE, 'from phone']]);
        await phone.client.logout();
        await w.settle();
        expect(bob.about(w.u.alice)).toEqual([
          [ONLINE, 'from phone'],
          [UNLOGINED, 'from phone'],
        ]);
      });

      it('DEV-4 a login over maxWebInstances kicks the oldest web device: it hears kickedOut (3002) and is logged out; nobody else hears a thing', async () => {
        const w = await world(['alice', 'bob'], { limits: { maxWebInstances: 2 } });
        const bob = await w.online('bob');
        await bob.client.subscribeUserStatus({ userIDList: [w.u.alice] });
        const first = await w.online('alice');
        const second = await w.online('alice');
        await w.settle();
        w.clearAll();
        await w.online('alice');
        await w.settle();
        expect(first.events).toMatchObject([{ name: EVENT.KICKED_OUT, data: { type: 'multipleDevice', code: 3002 } }]);
        expect(second.events).toEqual([]);
        expect(bob.heard).toEqual([]);
        expect((await failure(first.client.setSelfStatus({ customStatus: 'still here?' }))).code).toBe(target.traits?.codeAfterKick ?? 2024);
        expect((await second.client.setSelfStatus({ customStatus: 'yes' })).data.customStatus).toBe('yes');
      });

      it('DEV-2 a web device whose network is lost is dropped after webHeartbeatTimeoutMs, not before', async () => {
        const w = await world(['alice', 'bob']);
        const alice = await w.online('alice');
        const bob = await w.online('bob');
        await bob.client.subscribeUserStatus({ userIDList: [w.u.alice] });
        alice.client.disconnect('network_lost');
        await w.advance(DEFAULT_LIMITS.webHeartbeatTimeoutMs - 1);
        expect(bob.heard).toEqual([]);
        await w.advance(1 + target.linkSlackMs);
        expect(bob.heard).toMatchObject([{ userID: w.u.alice, statusType: UNLOGINED }]);
        if (target.traits?.extensionFields !== false) expect(bob.heard[0]!.reason).toBe('heartbeat_timeout'); // EXT-1
      });

      // A web SDK is always a web device: the native-device test is not defined for it.
      (native ? it : notDefined)('DEV-3 a native device whose network is lost goes OFFLINE after nativeHeartbeatTimeoutMs, and comes back', async () => {
        const w = await world(['alice', 'bob']);
        const alice = await w.online('alice', 'android');
        const bob = await w.online('bob');
        await bob.client.subscribeUserStatus({ userIDList: [w.u.alice] });
        alice.client.disconnect('network_lost');
        await w.advance(DEFAULT_LIMITS.nativeHeartbeatTimeoutMs - 1);
        expect(bob.heard).toEqual([]);
        await w.advance(1 + target.linkSlackMs);
        expect(bob.heard).toMatchObject([{ userID: w.u.alice, statusType: OFFLINE, reason: 'heartbeat_timeout' }]);
        await alice.client.reconnect();
        await w.settle();
        expect(bob.about(w.u.alice)).toEqual([
          [OFFLINE, ''],
          [ONLINE, ''],
        ]);
      });

      it('EXT-2 after a network loss, reconnect() brings each missed change once, current, in order, with no duplicates', async () => {
        const w = await world(['alice', 'bob', 'carol']);
        const alice = await w.online('alice');
        const bob = await w.online('bob');
        const carol = await w.online('carol');
        await alice.client.subscribeUserStatus({ userIDList: [w.u.bob, w.u.carol] });
        await bob.client.setSelfStatus({ customStatus: 'before' });
        await w.settle();
        alice.clear();
        alice.client.disconnect('network_lost');
        for (const s of ['one', 'two', 'three']) await bob.client.setSelfStatus({ customStatus: s });
        await carol.client.setSelfStatus({ customStatus: 'c1' });
        await w.settle();
        expect(alice.heard).toEqual([]);
        await alice.client.reconnect();
        await w.settle();
        expect(alice.heard.map((s) => [s.userID, s.customStatus])).toEqual([
          [w.u.bob, 'three'],
          [w.u.carol, 'c1'],
        ]);
        await bob.client.setSelfStatus({ customStatus: 'four' });
        await alice.client.reconnect(); // nothing missed: nothing resent
        await w.settle();
        expect(alice.about(w.u.bob)).toEqual([
          [ONLINE, 'three'],
          [ONLINE, 'four'],
        ]);
        if (target.traits?.extensionFields !== false) {
          const versions = alice.heard.filter((s) => s.userID === w.u.bob).map((s) => s.version);
          expect([...versions].sort((a, b) => a - b)).toEqual(versions);
          expect(new Set(versions).size).toBe(versions.length);
        }
      });

      it('DEV-1 after the server drops the connection the device comes back by itself and keeps its subscriptions', async () => {
        const w = await world(['alice', 'bob']);
        const alice = await w.online('alice');
        const bob = await w.online('bob');
        await alice.client.subscribeUserStatus({ userIDList: [w.u.bob] });
        await target.dropConnections(w.u.alice, [alice.client]);
        await w.settle();
        alice.clear();
        expect((await w.status('alice')).statusType).toBe(ONLINE);
        await bob.client.setSelfStatus({ customStatus: 'after the drop' });
        await w.settle();
        expect(alice.about(w.u.bob)).toEqual([[ONLINE, 'after the drop']]);
        expect((await alice.client.setSelfStatus({ customStatus: 'back' })).data.customStatus).toBe('back');
      });
    });
  });
}
