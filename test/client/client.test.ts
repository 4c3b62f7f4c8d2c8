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
