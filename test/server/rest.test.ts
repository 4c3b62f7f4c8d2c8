// The admin REST API of the real server process: each command, its answers in Tencent's shape, and every
// kind of bad request refused with a code that names what is wrong, changing nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteClient } from '../../src/client/remote';
import { EVENT, type UserStatus } from '../../src/index';
import { engineDeviceId } from '../../src/server/hub';
import { SDK_APP_ID, sig, startServerProcess, until, type ServerProcess } from './proc';

let server: ServerProcess;
const BODY_LIMIT = 64 * 1024;
const clients: RemoteClient[] = [];
const online = async (userID: string, platform: 'web' | 'android' = 'web') => {
  const c = new RemoteClient({ url: server.url, platform, reconnect: false });
  clients.push(c);
  const heard: UserStatus[] = [];
  c.on(EVENT.USER_STATUS_UPDATED, (e) => heard.push(...(e.data as UserStatus[])));
  await c.login({ userID, userSig: sig(userID) });
  return { c, heard };
};

beforeAll(async () => {
  server = await startServerProcess(['--clock', 'simulated', '--store', 'memory', '--body-limit', String(BODY_LIMIT)]);
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.destroy()));
  expect(await server.stop()).toBe(0);
});

const post = async (command: string, body: string, headers: Record<string, string> = {}) => {
  const q = new URLSearchParams({ sdkappid: String(SDK_APP_ID), identifier: 'administrator', usersig: sig('administrator'), random: '1', contenttype: 'json' });
  const res = await fetch(`${server.url}/v4/${command}?${q}`, { method: 'POST', body, headers });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('admin REST commands', () => {
  it('account_import and multiaccount_import register users (UserID or the older Identifier)', async () => {
    expect(await server.rest('im_open_login_svc/account_import', { UserID: 'r-one', Nick: 'One' })).toEqual({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' });
    expect((await server.rest('im_open_login_svc/account_import', { Identifier: 'r-two' })).ActionStatus).toBe('OK');
    expect(await server.rest('im_open_login_svc/multiaccount_import', { Accounts: ['r-three', 'r-four', 'r-one'] })).toEqual({
      ActionStatus: 'OK',
      ErrorCode: 0,
      ErrorInfo: '',
      FailAccounts: [],
    });
    const q = await server.rest('openim/query_online_status', { To_Account: ['r-one', 'r-two', 'r-three', 'r-four'] });
    expect(q.ErrorList).toEqual([]);
    expect(q.QueryResult.map((r: any) => r.Status)).toEqual(['Offline', 'Offline', 'Offline', 'Offline']);
  });

  it('EXT-9 query_online_status: Online, PushOnline (native in background), Offline; Detail per device; unknown users in ErrorList', async () => {
    await server.rest('im_open_login_svc/multiaccount_import', { Accounts: ['q-web', 'q-phone', 'q-none'] });
    const web = await online('q-web');
    await web.c.setSelfStatus({ customStatus: 'at desk' });
    const phone = await online('q-phone', 'android');
    phone.c.background();
    await phone.c.sync();
    const q = await server.rest('openim/query_online_status', { To_Account: ['q-web', 'q-phone', 'q-none', 'q-ghost'], IsNeedDetail: 1 });
    expect(q.ActionStatus).toBe('OK');
    expect(q.QueryResult).toMatchObject([
      { To_Account: 'q-web', Status: 'Online', StatusType: 1, CustomStatus: 'at desk', Detail: [{ Platform: 'Web', Status: 'Online', DeviceId: engineDeviceId('q-web', web.c.deviceId) }] },
      { To_Account: 'q-phone', Status: 'PushOnline', StatusType: 2, Detail: [{ Platform: 'Android', Status: 'PushOnline' }] },
      { To_Account: 'q-none', Status: 'Offline', StatusType: 3, Detail: [] },
    ]);
    expect(q.ErrorList).toMatchObject([{ To_Account: 'q-ghost', ErrorCode: 70107 }]);
    const plain = await server.rest('openim/query_online_status', { To_Account: ['q-web'], IsReturnCustomStatus: 0 });
    expect(plain.QueryResult[0]).not.toHaveProperty('Detail');
    expect(plain.QueryResult[0]).not.toHaveProperty('CustomStatus');
    const tooMany = await server.rest('openim/query_online_status', { To_Account: Array.from({ length: 501 }, (_, i) => `u${i}`) });
    expect(tooMany).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70402 });
    expect(tooMany.ErrorInfo).toContain('queryMaxUsers');
  });

  it('friend_add and friend_delete: per-entry results, unknown friends fail alone, an unknown owner fails the call', async () => {
    await server.rest('im_open_login_svc/multiaccount_import', { Accounts: ['f-a', 'f-b', 'f-c'] });
    const r = await server.rest('sns/friend_add', { From_Account: 'f-a', AddFriendItem: [{ To_Account: 'f-b', AddSource: 'AddSource_Type_X' }, { To_Account: 'f-ghost' }, { To_Account: 'f-a' }] });
    expect(r.ActionStatus).toBe('OK');
    expect(r.ResultItem).toEqual([
      { To_Account: 'f-b', ResultCode: 0, ResultInfo: '' },
      { To_Account: 'f-ghost', ResultCode: 70107, ResultInfo: "user 'f-ghost' is not registered" },
      { To_Account: 'f-a', ResultCode: 70402, ResultInfo: 'a user cannot be its own friend' },
    ]);
    expect(r.Fail_Account).toEqual(['f-ghost', 'f-a']);
    expect(await server.rest('sns/friend_add', { From_Account: 'f-ghost', AddFriendItem: [{ To_Account: 'f-a' }] })).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 70107 });
    const d = await server.rest('sns/friend_delete', { From_Account: 'f-a', To_Account: ['f-b', 'f-ghost'] });
    expect(d.ResultItem.map((i: any) => i.ResultCode)).toEqual([0, 70107]);
  });

  it('NTF-2 friend_add with Add_Type_Both lists each in the other\'s friends: both hear each other with friendStatusNotify', async () => {
    await server.rest('im_open_login_svc/multiaccount_import', { Accounts: ['b-x', 'b-y'] });
    await server.rest('im_open_status/config', { Switches: { FriendStatusNotify: 'on' } });
    await server.rest('sns/friend_add', { From_Account: 'b-x', AddFriendItem: [{ To_Account: 'b-y' }], AddType: 'Add_Type_Both' });
    const x = await online('b-x');
    const y = await online('b-y');
    await x.c.setSelfStatus({ customStatus: 'from x' });
    await y.c.setSelfStatus({ customStatus: 'from y' });
    await x.c.sync();
    await y.c.sync();
    expect(x.heard.filter((s) => s.userID === 'b-y').map((s) => s.customStatus)).toContain('from y');
    expect(y.heard.filter((s) => s.userID === 'b-x').map((s) => s.customStatus)).toContain('from x');
    await server.rest('im_open_status/config', { Switches: { FriendStatusNotify: 'off' } });
  });

  it('GATE-1 im_open_status/config reads with {}, changes only what it names, and refuses bad values', async () => {
    const now = await server.rest('im_open_status/config', {});
    expect(now).toMatchObject({ ActionStatus: 'OK', Edition: 'ultimate', Switches: { UserStatus: 'off', FriendStatusNotify: 'off' } });
    expect(now.Limits.queryMaxUsers).toBe(500);
    const changed = await server.rest('im_open_status/config', { Edition: 'Pro', Switches: { UserStatus: 'on' }, Limits: { rateLimit: { requests: 7 } } });
    expect(changed).toMatchObject({ Edition: 'pro', Switches: { UserStatus: 'on', FriendStatusNotify: 'off' } });
    expect(changed.Limits.rateLimit).toEqual({ requests: 7, windowMs: 5000 });
    const seq = (await server.health()).seq;
    for (const bad of [
      { Edition: 'platinum' },
      { Switches: { UserStatus: 'maybe' } },
      { Switches: { Unknown: 'on' } },
      { Limits: { queryMaxUsers: -1 } },
      { Limits: { noSuchLimit: 1 } },
      { Extra: 1 },
    ]) {
      const r = await server.rest('im_open_status/config', bad);
      expect(r.ActionStatus).toBe('FAIL');
      expect(r.ErrorCode).toBe(70402);
    }
    expect((await server.health()).seq).toBe(seq);
    const back = await server.rest('im_open_status/config', { Edition: 'ultimate', Switches: { UserStatus: false }, Limits: { rateLimit: { requests: 20 } } });
    expect(back).toMatchObject({ Edition: 'ultimate', Switches: { UserStatus: 'off' } });
  });
});

describe('bad REST requests', () => {
  it('bad JSON 90001, a body that is not an object 90001, a bad field 70402 naming it; nothing changes', async () => {
    const seq = (await server.health()).seq;
    expect((await post('im_open_login_svc/account_import', '{"UserID":')).body).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 90001 });
    expect((await post('im_open_login_svc/account_import', '[1,2]')).body.ErrorCode).toBe(90001);
    const missing = (await post('im_open_login_svc/account_import', '{}')).body;
    expect(missing).toMatchObject({ ErrorCode: 70402 });
    expect(missing.ErrorInfo).toContain('UserID');
    const wrongType = (await post('im_open_login_svc/multiaccount_import', JSON.stringify({ Accounts: 'alice' }))).body;
    expect(wrongType.ErrorCode).toBe(70402);
    expect(wrongType.ErrorInfo).toContain('Accounts');
    expect((await post('im_open_login_svc/multiaccount_import', JSON.stringify({ Accounts: ['ok', 7] }))).body.ErrorInfo).toContain('Accounts.1');
    expect((await post('sns/friend_add', JSON.stringify({ From_Account: 'x', AddFriendItem: [] }))).body.ErrorCode).toBe(70402);
    expect((await server.health()).seq).toBe(seq);
  });

  it('JSON is read whatever the content type says (Tencent clients send several)', async () => {
    for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'text/plain' }, {}] as Array<Record<string, string>>) {
      expect((await post('im_open_login_svc/account_import', JSON.stringify({ UserID: 'ct-user' }), headers)).body.ActionStatus).toBe('OK');
    }
  });

  it('an unknown command is 60009 (HTTP 404); a body over bodyLimit is 60002 (HTTP 413); the server stays healthy', async () => {
    const unknown = await post('sns/no_such_command', '{}');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 60009 });
    const big = await post('im_open_login_svc/multiaccount_import', JSON.stringify({ Accounts: ['x'.repeat(BODY_LIMIT + 1)] }));
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 60002 });
    expect(big.body.ErrorInfo).toContain('bodyLimit');
    const health = await server.health();
    expect(health.status).toBe('ok');
  });

  it('GET /healthz says uptime and counts', async () => {
    const h = await until(async () => {
      const x = await server.health();
      return x.users > 0 ? x : null;
    }, 'users registered');
    expect(h).toMatchObject({ status: 'ok', clock: 'simulated', store: 'memory' });
    expect(typeof h.uptimeMs).toBe('number');
    expect(h.users).toBeGreaterThan(5);
    expect(h.connections).toBeGreaterThanOrEqual(clients.length);
    expect(h.loggedIn).toBeGreaterThan(0);
  });
});
