// Red team: the Web SDK gateway's login read head.identifier, head.usersig and head.sdkappid with String() and
// Number(), so a frame from a socket that never logged in with `{"toString": 1}` there made them throw ("Cannot
// convert object to primitive value"): answered 70500 "internal error", and an error line with its stack per
// frame (at the request budget: 100 at once, then 20 a second per socket). An array was joined instead
// (`["alice"]` logged in as alice). Now a head field that is not a string or a number is refused: 6017 naming
// it, logged at debug like any refusal; the socket can still log in.
import { afterEach, describe, expect, it } from 'vitest';
import { sig } from '../proc';
import { startInProcess, timClient, type TestServer } from '../wire';

let s: TestServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const LOGIN = 'im_open_status.wslogin';
const trap = { toString: 1, valueOf: 1 }; // JSON can carry it; String() and Number() throw on it

describe('Web SDK login head fields of the wrong type', () => {
  it('are refused with 6017 naming the field, not an internal error; nothing logged above debug; the socket logs in after', async () => {
    s = await startInProcess();
    await s.rest('im_open_login_svc/account_import', { UserID: 'alice' });
    const c = await timClient(s, '/info');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ identifier: trap, usersig: sig('alice') }, 'head.identifier'],
      [{ identifier: 'alice', usersig: trap }, 'head.usersig'],
      [{ identifier: ['alice'], usersig: sig('alice') }, 'head.identifier'],
      [{ identifier: 'alice', usersig: sig('alice'), sdkappid: trap }, 'head.sdkappid'],
    ];
    for (const [head, field] of cases) {
      const r = await c.request(LOGIN, { State: 'Online' }, head);
      expect(r.body.ErrorCode).toBe(6017);
      expect(r.body.ErrorInfo).toContain(field);
    }
    expect(s.lines.filter((l) => l.level >= 50)).toEqual([]);
    expect((await c.login('alice')).body.ErrorCode ?? 0).toBe(0);
    c.ws.close();
  });

  it('a push ack before login and a login body\'s InstType of that kind are read as no value (no internal error, no error line)', async () => {
    s = await startInProcess();
    await s.rest('im_open_login_svc/account_import', { UserID: 'alice' });
    const c = await timClient(s, '/info');
    // Number(SessionData) threw on it: 70500, from a socket that never logged in.
    // (The ack is never answered, as the SDK expects: the round trip after it says it was read.)
    c.tell('openim.ws_msg_push_ack', { SessionData: trap });
    expect((await c.request('heartbeat.alive')).body.ErrorCode ?? 0).toBe(0);
    expect(c.frames.filter((f) => f.head?.servcmd === 'openim.ws_msg_push_ack')).toEqual([]);
    // String(InstType) threw on it after the UserSig was checked: the login failed 70500.
    const login = await c.request(LOGIN, { State: 'Online', InstType: trap }, { identifier: 'alice', usersig: sig('alice') });
    expect(login.body.ErrorCode ?? 0).toBe(0);
    expect(s.lines.filter((l) => l.level >= 50)).toEqual([]);
    c.ws.close();
  });
});
