// SPEC section 11: the client mirrors the Web SDK (CL-1), answers self queries itself (CL-2) and keeps its
// own custom status in step (CL-3).
import { describe, expect, it } from 'vitest';
import { createClient, ErrorCode, EVENT, StatusError, TYPES } from '../../src/index';
import { failure, world } from '../engine/harness';

describe('client (CL)', () => {
  it('CL-1 the client has the Web SDK methods; each returns a Promise of {data} and rejects with {code, message}', async () => {
    const w = await world();
    const c = createClient({ engine: w.engine });
    for (const m of ['login', 'logout', 'setSelfStatus', 'getUserStatus', 'subscribeUserStatus', 'unsubscribeUserStatus', 'on', 'off']) {
      expect(typeof (c as unknown as Record<string, unknown>)[m]).toBe('function');
    }
    const r = await c.login({ userID: 'alice' });
    expect(r).toEqual({ data: { repeatLogin: false, userID: 'alice' } });
    expect(await c.login({ userID: 'alice' })).toEqual({ data: { repeatLogin: true, userID: 'alice' } });
    expect(await c.setSelfStatus({ customStatus: 'x' })).toEqual({ data: expect.objectContaining({ userID: 'alice', customStatus: 'x' }) });
    expect(await c.logout()).toEqual({ data: {} });
    const e = await failure(c.setSelfStatus({ customStatus: 'y' }));
    expect(e).toBeInstanceOf(StatusError);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ code: ErrorCode.NOT_LOGGED_IN, message: expect.any(String) });
  });

  it('CL-1 TYPES and EVENT carry the Web SDK names and values', () => {
    expect(TYPES.USER_STATUS_ONLINE).toBe(1);
    expect(EVENT.USER_STATUS_UPDATED).toBe('onUserStatusUpdated');
    expect(EVENT.KICKED_OUT).toBe('kickedOut');
  });

  it('CL-1 on/off register and remove handlers; events are {name, data}', async () => {
    const w = await world();
    const c = createClient({ engine: w.engine });
    const got: unknown[] = [];
    const h = (e: unknown) => got.push(e);
    c.on(EVENT.USER_STATUS_UPDATED, h);
    await c.login({ userID: 'alice' });
    c.off(EVENT.USER_STATUS_UPDATED, h);
    await c.setSelfStatus({ customStatus: 'unheard' });
    expect(got).toEqual([{ name: EVENT.USER_STATUS_UPDATED, data: [expect.objectContaining({ userID: 'alice', statusType: 1 })] }]);
    expect(() => c.on(EVENT.USER_STATUS_UPDATED, 'nope' as never)).toThrow(StatusError);
  });

  it('CL-1 a throwing handler: the client\'s other handlers, other clients and CL-3\'s own status are not affected', async () => {
    const w = await world();
    const bob1 = createClient({ engine: w.engine });
    const bob2 = createClient({ engine: w.engine, platform: 'android' });
    const carol = createClient({ engine: w.engine });
    const got: string[] = [];
    // bob1's only handler throws (the one-handler path); carol's first of two throws (the list path).
    bob1.on(EVENT.USER_STATUS_UPDATED, () => {
      throw new Error('app bug');
    });
    carol.on(EVENT.USER_STATUS_UPDATED, () => {
      throw new Error('app bug');
    });
    carol.on(EVENT.USER_STATUS_UPDATED, (e) => got.push(...e.data.map((st) => `${st.userID}:${st.customStatus}`)));
    await bob1.login({ userID: 'bob' });
    await bob2.login({ userID: 'bob' });
    await carol.login({ userID: 'carol' });
    await carol.subscribeUserStatus({ userIDList: ['bob'] });
    got.length = 0; // carol's own login
    // bob2's change reaches bob1 (whose handler throws) before carol: CL-3 still keeps bob1's copy, carol hears it.
    expect((await bob2.setSelfStatus({ customStatus: 'from bob2' })).data.customStatus).toBe('from bob2');
    expect((await bob1.getUserStatus({ userIDList: ['bob'] })).data.successUserList[0]!.customStatus).toBe('from bob2');
    expect(got).toEqual(['bob:from bob2']);
    // The engine carries on: the next call and its deliveries are as usual.
    expect((await bob1.setSelfStatus({ customStatus: 'from bob1' })).data.customStatus).toBe('from bob1');
    expect(got).toEqual(['bob:from bob2', 'bob:from bob1']);
  });

  it('CL-1 handlers come and go: none, one, two, off; one added or removed during a delivery takes effect from the next', async () => {
    const w = await world();
    const alice = createClient({ engine: w.engine });
    const bob = createClient({ engine: w.engine });
    await alice.login({ userID: 'alice' });
    await bob.login({ userID: 'bob' });
    await bob.subscribeUserStatus({ userIDList: ['alice'] });
    const got: string[] = [];
    const one = (e: { data: { customStatus: string }[] }) => got.push(`one:${e.data[0]!.customStatus}`);
    const two = (e: { data: { customStatus: string }[] }) => got.push(`two:${e.data[0]!.customStatus}`);
    await alice.setSelfStatus({ customStatus: 'a' }); // no handler yet
    bob.on(EVENT.USER_STATUS_UPDATED, one);
    bob.on(EVENT.USER_STATUS_UPDATED, one); // the same handler twice is one handler
    await alice.setSelfStatus({ customStatus: 'b' });
    bob.on(EVENT.USER_STATUS_UPDATED, two);
    await alice.setSelfStatus({ customStatus: 'c' });
    bob.off(EVENT.USER_STATUS_UPDATED, one);
    await alice.setSelfStatus({ customStatus: 'd' });
    bob.off(EVENT.USER_STATUS_UPDATED, two);
    await alice.setSelfStatus({ customStatus: 'e' });
    expect(got).toEqual(['one:b', 'one:c', 'two:c', 'two:d']);
    // A handler that removes itself and adds another: this delivery still reaches the list as it was.
    got.length = 0;
    const once = (e: { data: { customStatus: string }[] }) => {
      got.push(`once:${e.data[0]!.customStatus}`);
      bob.off(EVENT.USER_STATUS_UPDATED, once);
      bob.on(EVENT.USER_STATUS_UPDATED, two);
    };
    bob.on(EVENT.USER_STATUS_UPDATED, once);
    await alice.setSelfStatus({ customStatus: 'f' });
    await alice.setSelfStatus({ customStatus: 'g' });
    expect(got).toEqual(['once:f', 'two:g']);
  });

  it('CL-1 a login as another user while logged in is refused; an unregistered user cannot log in (70107)', async () => {
    const w = await world();
    const c = createClient({ engine: w.engine });
    expect((await failure(c.login({ userID: 'ghost' }))).code).toBe(ErrorCode.USER_NOT_FOUND);
    await c.login({ userID: 'alice' });
    expect((await failure(c.login({ userID: 'bob' }))).code).toBe(ErrorCode.INVALID_PARAMETER);
    expect((await failure(c.login(null as never))).code).toBe(ErrorCode.INVALID_PARAMETER);
  });

  it('CL-2 a self-only query is answered by the client without a round trip', async () => {
    const w = await world();
    const c = createClient({ engine: w.engine });
    await c.login({ userID: 'alice' });
    await c.setSelfStatus({ customStatus: 'here' });
    const before = (await w.engine.journal()).length;
    await w.engine.close(); // any round trip would now fail with ENGINE_CLOSED
    const r = await c.getUserStatus({ userIDList: ['alice'] });
    expect(r.data).toEqual({ successUserList: [expect.objectContaining({ userID: 'alice', statusType: TYPES.USER_STATUS_ONLINE, customStatus: 'here' })], failureUserList: [] });
    expect((await failure(c.getUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.ENGINE_CLOSED);
    expect(before).toBeGreaterThan(0);
  });

  it('CL-3 the client keeps its own custom status in step with its calls and with events about itself, and forgets it at logout', async () => {
    const w = await world();
    const c1 = createClient({ engine: w.engine });
    const c2 = createClient({ engine: w.engine, platform: 'android' });
    await c1.login({ userID: 'alice' });
    await c2.login({ userID: 'alice' });
    await c1.setSelfStatus({ customStatus: 'from c1' });
    expect((await c1.getUserStatus({ userIDList: ['alice'] })).data.successUserList[0]!.customStatus).toBe('from c1');
    expect((await c2.getUserStatus({ userIDList: ['alice'] })).data.successUserList[0]!.customStatus).toBe('from c1');
    await c2.setSelfStatus({ customStatus: 'from c2' });
    expect((await c1.getUserStatus({ userIDList: ['alice'] })).data.successUserList[0]!.customStatus).toBe('from c2');
    await c1.logout();
    expect((await failure(c1.getUserStatus({ userIDList: ['alice'] }))).code).toBe(ErrorCode.NOT_LOGGED_IN);
    await c1.login({ userID: 'alice' });
    expect((await c1.getUserStatus({ userIDList: ['alice'] })).data.successUserList[0]!.customStatus).toBe('from c2');
  });

  it('CL-1 createClient refuses bad options with 6017', () => {
    expect(() => createClient(null as never)).toThrow(StatusError);
    expect(() => createClient({ engine: {} })).toThrow(/createEngine/);
    expect(() => createClient({ engine: undefined as never, platform: 'toaster' as never })).toThrow(/platform/);
  });
});
