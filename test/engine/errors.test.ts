// SPEC section 10: a failed call rejects with {code, message}, changes nothing, and when several errors apply
// the first of 2024, 6017, 3122, 72001, 2996 is reported. Bad input to every call, client and admin.
import { describe, expect, it } from 'vitest';
import { createEngine, ErrorCode, StatusError } from '../../src/index';
import { failure, world } from './harness';

describe('errors and bad input', () => {
  it('the error codes of the table', () => {
    expect(ErrorCode).toMatchObject({
      SWITCH_OFF: 72001,
      EDITION_LACKS_FEATURE: 3122,
      RATE_LIMITED: 2996,
      NOT_LOGGED_IN: 2024,
      USER_NOT_FOUND: 70107,
      INVALID_PARAMETER: 6017,
      KICKED_OUT: 3002,
    });
  });

  it('the first applicable error wins: 2024 before 6017 before 3122 before 72001 before 2996', async () => {
    const w = await world({ edition: 'pro', switches: { userStatus: false }, limits: { rateLimit: { requests: 1, windowMs: 60_000 } } });
    const idle = w.device('alice');
    expect((await failure(idle.client.subscribeUserStatus({ userIDList: 7 as never }))).code).toBe(2024);
    const a = await w.online('alice');
    expect((await failure(a.client.subscribeUserStatus({ userIDList: 7 as never }))).code).toBe(6017);
    expect((await failure(a.client.subscribeUserStatus({ userIDList: ['bob'] }))).code).toBe(3122);
    await w.engine.configure({ edition: 'ultimate' });
    expect((await failure(a.client.subscribeUserStatus({ userIDList: ['bob'] }))).code).toBe(72001);
    await w.engine.configure({ switches: { userStatus: true } });
    await a.client.subscribeUserStatus({ userIDList: ['bob'] });
    expect((await failure(a.client.subscribeUserStatus({ userIDList: ['bob'] }))).code).toBe(2996);
  });

  it('calls before login reject with 2024 and change nothing', async () => {
    const w = await world();
    const d = w.device('alice');
    const before = await w.engine.exportState();
    for (const call of [
      () => d.client.logout(),
      () => d.client.setSelfStatus({ customStatus: 'x' }),
      () => d.client.getUserStatus({ userIDList: ['bob'] }),
      () => d.client.getUserStatus({ userIDList: ['alice'] }),
      () => d.client.subscribeUserStatus({ userIDList: ['bob'] }),
      () => d.client.unsubscribeUserStatus(),
      () => d.client.reconnect(),
    ]) {
      const e = await failure(call());
      expect(e).toBeInstanceOf(StatusError);
      expect(e.code).toBe(ErrorCode.NOT_LOGGED_IN);
    }
    expect(await w.engine.exportState()).toEqual(before);
  });

  it('wrong types, empty and oversize lists reject with 6017 naming the parameter, and change nothing', async () => {
    const w = await world();
    const a = await w.online('alice');
    await a.client.subscribeUserStatus({ userIDList: ['bob'] });
    const before = await w.engine.exportState();
    const journal = (await w.engine.journal()).length;
    const cases: Array<[() => Promise<unknown>, RegExp]> = [
      [() => a.client.getUserStatus(undefined as never), /options/],
      [() => a.client.getUserStatus({ userIDList: 'bob' as never }), /userIDList/],
      [() => a.client.getUserStatus({ userIDList: [] }), /userIDList.*empty/],
      [() => a.client.getUserStatus({ userIDList: ['bob', 3 as never] }), /userIDList\[1\]/],
      [() => a.client.getUserStatus({ userIDList: [''] }), /userIDList\[0\]/],
      [() => a.client.subscribeUserStatus({ userIDList: [] }), /empty/],
      [() => a.client.subscribeUserStatus({ userIDList: null as never }), /userIDList/],
      [() => a.client.subscribeUserStatus({ userIDList: ['bob'], pushCurrent: 'yes' as never }), /pushCurrent/],
      [() => a.client.unsubscribeUserStatus({ userIDList: [{}] as never }), /userIDList\[0\]/],
      [() => a.client.unsubscribeUserStatus('all' as never), /options/],
      [() => a.client.setSelfStatus({} as never), /customStatus/],
      [() => a.client.setSelfStatus('x' as never), /options/],
    ];
    for (const [call, pattern] of cases) {
      const e = await failure(call());
      expect(e.code, String(call)).toBe(ErrorCode.INVALID_PARAMETER);
      expect(e.message, String(call)).toMatch(pattern);
    }
    expect(await w.engine.exportState()).toEqual(before);
    expect((await w.engine.journal()).length).toBe(journal);
  });

  it('admin calls refuse bad input with a code and change nothing', async () => {
    const w = await world();
    const before = await w.engine.exportState();
    const cases: Array<[() => Promise<unknown>, number]> = [
      [() => w.engine.registerUsers('alice' as never), 6017],
      [() => w.engine.registerUsers([]), 6017],
      [() => w.engine.registerUsers(['ok', 5 as never]), 6017],
      [() => w.engine.addFriends('alice', ['ghost']), 70107],
      [() => w.engine.addFriends('ghost', ['alice']), 70107],
      [() => w.engine.addFriends('alice', ['alice']), 6017],
      [() => w.engine.addFriends('alice', 'bob' as never), 6017],
      [() => w.engine.removeFriends(7 as never, ['bob']), 6017],
      [() => w.engine.queryStatus([]), 6017],
      [() => w.engine.queryStatus(['alice'], { detail: 'yes' as never }), 6017],
      [() => w.engine.explain(''), 6017],
    ];
    for (const [call, code] of cases) expect((await failure(call())).code, String(call)).toBe(code);
    expect(await w.engine.exportState()).toEqual(before);
    const big = Array.from({ length: 100_001 }, (_, i) => `u${i}`);
    expect(await failure(w.engine.registerUsers(big))).toMatchObject({ code: 6017, limit: 100_000 });
  });

  it('createEngine refuses bad options with 6017', () => {
    expect(() => createEngine('fast' as never)).toThrow(StatusError);
    expect(() => createEngine({ clock: { now: 5 } as never })).toThrow(/clock/);
    expect(() => createEngine({ edition: 'gold' as never })).toThrow(/edition/);
    expect(() => createEngine({ limits: { rateLimit: { requests: 0 } } })).toThrow(/rateLimit/);
  });

  it('a closed engine refuses every call with a clear code', async () => {
    const w = await world();
    const a = await w.online('alice');
    await w.engine.close();
    expect((await failure(a.client.setSelfStatus({ customStatus: 'x' }))).code).toBe(ErrorCode.ENGINE_CLOSED);
    expect((await failure(w.engine.registerUsers(['z']))).code).toBe(ErrorCode.ENGINE_CLOSED);
  });

  it('a handler that throws does not stop the deliveries to others', async () => {
    const w = await world();
    const bob = await w.online('bob');
    const carol = await w.online('carol');
    bob.client.on('onUserStatusUpdated', () => {
      throw new Error('app bug');
    });
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await carol.client.subscribeUserStatus({ userIDList: ['alice'] });
    await w.online('alice');
    expect(carol.about('alice')).toHaveLength(1);
    expect(bob.about('alice')).toHaveLength(1);
  });
});
