// The pure rules of src/engine/rules/audience.ts (NTF-2 b/c, NTF-4), resume.ts (EXT-2), coupling.ts
// (UNSUB-5, EXT-4) and checks.ts (SPEC section 10). EXT-7 is the flap machine (test/machines/flap.test.ts).
import { describe, expect, it } from 'vitest';
import { ErrorCode, StatusError, TYPES } from '../../../src/index';
import { audience, mayHear } from '../../../src/engine/rules/audience';
import { CHECK_ORDER, connectionError, featureError, loginError, runChecks } from '../../../src/engine/rules/checks';
import { endingOf, ownerEvent } from '../../../src/engine/rules/coupling';
import { resumeBatch, resumeByVersions, resumeScope } from '../../../src/engine/rules/resume';

const set = (...ids: string[]) => new Set(ids);
const status = (userID: string, version: number) => ({ userID, statusType: TYPES.USER_STATUS_ONLINE, customStatus: '', version, reason: 'login' as const });

describe('NTF-2 NTF-4 the audience of a change', () => {
  const l = { subscribers: set('a', 'b'), followers: set('b', 'c') };
  it('NTF-2 subscribers and followers, each told once, subscribers first', () => {
    expect(audience(l, { userStatus: true, friendNotify: true })).toEqual(['a', 'b', 'c']);
  });
  it('NTF-4 NTF-3 subscribers only with the gate open, followers only with friend notification on', () => {
    expect(audience(l, { userStatus: false, friendNotify: true })).toEqual(['b', 'c']);
    expect(audience(l, { userStatus: true, friendNotify: false })).toEqual(['a', 'b']);
    expect(audience(l, { userStatus: false, friendNotify: false })).toEqual([]);
    expect(mayHear('a', l, { userStatus: false, friendNotify: true })).toBe(false);
    expect(mayHear('c', l, { userStatus: false, friendNotify: true })).toBe(true);
  });
  it('NTF-2 NTF-4 a viewer may hear exactly when it is in the audience, under every gate, with or without listeners', () => {
    const cases = [l, { subscribers: set('a'), followers: undefined }, { subscribers: undefined, followers: set('c') }, { subscribers: undefined, followers: undefined }];
    for (const listeners of cases) {
      for (const userStatus of [true, false]) {
        for (const friendNotify of [true, false]) {
          const g = { userStatus, friendNotify };
          const heard = audience(listeners, g);
          for (const v of ['a', 'b', 'c', 'z']) expect(mayHear(v, listeners, g), `${v} ${JSON.stringify(g)}`).toBe(heard.includes(v));
        }
      }
    }
    // Spelled out: a subscriber hears with the gate open, even with friend notification off.
    expect(mayHear('a', l, { userStatus: true, friendNotify: false })).toBe(true);
    expect(mayHear('c', l, { userStatus: true, friendNotify: false })).toBe(false);
  });
});

describe('EXT-2 resume', () => {
  it('EXT-2 the scope: the user, its subscriptions, and its friends only with friend notification on', () => {
    expect([...resumeScope('me', ['a', 'b'], set('b', 'c'), true)]).toEqual(['me', 'a', 'b', 'c']);
    expect([...resumeScope('me', ['a'], set('c'), false)]).toEqual(['me', 'a']);
  });
  it('EXT-2 changed while away, not heard live, not already held; oldest change first', () => {
    const batch = resumeBatch(
      [
        { changedAt: 5, status: status('old', 1) },
        // Heard at `since` itself: the device has it.
        { changedAt: 10, status: status('heard', 9) },
        { changedAt: 12, status: status('b', 3) },
        { changedAt: 11, status: status('a', 2) },
        { changedAt: 20, status: status('live', 4) },
        { changedAt: 13, status: status('held', 6), held: 6 },
        { changedAt: 14, status: status('behind', 7), held: 6 },
        // A user's first change (version 1), to a client that holds nothing of it.
        { changedAt: 15, status: status('first', 1) },
      ],
      10,
      20,
    );
    expect(batch.map((s) => s.userID)).toEqual(['a', 'b', 'behind', 'first']);
  });
  it('EXT-2 by versions alone (engines side by side): moved past what is held, or changed at all when nothing is; in scope order', () => {
    const batch = resumeByVersions([
      { status: status('me', 4), held: 4 },
      { status: status('b', 3), held: 1 },
      { status: status('same', 2), held: 2 },
      { status: status('never-changed', 0) },
      { status: status('unheard', 5) },
      { status: status('ahead', 2), held: 3 },
      { status: status('a', 1), held: 0 },
    ]);
    expect(batch.map((s) => s.userID)).toEqual(['b', 'unheard', 'a']);
  });
});

describe('UNSUB-5 EXT-4 the status machine drives the subscription list', () => {
  it('UNSUB-5 going UNLOGINED starts the clearing delay; coming back keeps the list; other moves do nothing', () => {
    expect(ownerEvent(TYPES.USER_STATUS_ONLINE, TYPES.USER_STATUS_UNLOGINED)).toBe('OWNER.LOGGED_OUT');
    expect(ownerEvent(TYPES.USER_STATUS_UNLOGINED, TYPES.USER_STATUS_OFFLINE)).toBe('OWNER.LOGGED_IN');
    expect(ownerEvent(TYPES.USER_STATUS_ONLINE, TYPES.USER_STATUS_OFFLINE)).toBeNull();
  });
  it('EXT-4 an eviction is told now, a clearing kept for the next login, an unsubscribe not at all', () => {
    expect(endingOf('subscription_evicted', ['a'])).toEqual({ tell: { userIDList: ['a'], reason: 'subscription_evicted' } });
    expect(endingOf('subscriptions_cleared', ['a', 'b'])).toEqual({ keep: { userIDList: ['a', 'b'], reason: 'subscriptions_cleared' } });
    expect(endingOf('unsubscribed', ['a'])).toBeNull();
    expect(endingOf('subscription_evicted', [])).toBeNull();
  });
});

describe('SPEC section 10: the order of checks', () => {
  it('2024, 6017, 2800, 3122, 72001, 2996: the first failing step decides, later ones do not run', () => {
    expect(CHECK_ORDER).toEqual(['login', 'params', 'connected', 'feature', 'rate']);
    const ran: string[] = [];
    const step = (name: string, fail: string | null) => () => {
      ran.push(name);
      if (name === fail) throw new Error(name);
      return name;
    };
    const checks = (fail: string | null) => ({
      rate: step('rate', fail),
      feature: step('feature', fail),
      connected: step('connected', fail),
      params: step('params', fail),
      login: step('login', fail),
    });
    expect(() => runChecks(checks('feature'), null)).toThrow('feature');
    expect(ran).toEqual(['login', 'params', 'connected', 'feature']);
    ran.length = 0;
    expect(runChecks(checks(null), null)).toEqual({ userID: 'login', params: 'params' });
    expect(ran).toEqual(['login', 'params', 'connected', 'feature', 'rate']);
  });

  it('GATE-2 GATE-3 3122 before 72001; 2024 and 2800 say what is missing', () => {
    expect(featureError('editionLacks', 'pro')?.code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    expect(featureError('switchOff', 'ultimate')?.code).toBe(ErrorCode.SWITCH_OFF);
    expect(featureError('enabled', 'ultimate')).toBeNull();
    expect(loginError(false)?.code).toBe(ErrorCode.NOT_LOGGED_IN);
    expect(connectionError(true, false)?.code).toBe(ErrorCode.NOT_CONNECTED);
    expect(connectionError(true, true)).toBeNull();
  });

  it('GATE-2 GATE-3 2024 2800: what the user is told (code, no parameter: none was wrong, and the message)', () => {
    const said = (e: StatusError | null) => e && { code: e.code, param: e.param, message: e.message };
    expect(said(featureError('editionLacks', 'pro'))).toEqual({ code: 3122, param: undefined, message: 'the pro edition lacks user status: it needs Ultimate' });
    expect(said(featureError('editionLacks', 'trial'))?.message).toBe('the trial edition lacks user status: it needs Ultimate');
    expect(said(featureError('switchOff', 'ultimate'))).toEqual({
      code: 72001,
      param: undefined,
      message: 'the console switch "user status query and status change notification" (userStatus) is off',
    });
    expect(said(loginError(false))).toEqual({ code: 2024, param: undefined, message: 'not logged in: call login() first' });
    expect(loginError(true)).toBeNull();
    const notConnected = { code: 2800, param: undefined, message: 'this device is not connected: call reconnect() or foreground() first' };
    // Connected but the link gone quiet or closed, or not connected at all (background): the same 2800.
    expect(said(connectionError(true, false))).toEqual(notConnected);
    expect(said(connectionError(false, true))).toEqual(notConnected);
    expect(said(connectionError(false, false))).toEqual(notConnected);
  });
});
