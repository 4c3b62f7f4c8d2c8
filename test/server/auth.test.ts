// Authentication on the real server process: UserSig refusals at login and on the admin REST API, each
// with its code and changing nothing; and no socket can act for a user whose UserSig it has not shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RemoteClient } from '../../src/client/remote';
import { createClient } from '../../src/index';
import { SDK_APP_ID, sig, startServerProcess, type ServerProcess } from './proc';

let server: ServerProcess;
const clients: RemoteClient[] = [];
const client = () => {
  const c = new RemoteClient({ url: server.url, reconnect: false });
  clients.push(c);
  return c;
};

async function code(p: Promise<unknown>): Promise<number> {
  try {
    await p;
  } catch (e) {
    return (e as { code: number }).code;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  server = await startServerProcess(['--clock', 'simulated', '--store', 'memory', '--switch', 'userStatus=on']);
  const r = await server.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob', 'mallory'] });
  expect(r.ActionStatus).toBe('OK');
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.destroy()));
  expect(await server.stop()).toBe(0);
});

/** A raw socket of the client protocol, for frames the remote client would never send. */
async function raw(query: string): Promise<{ ws: WebSocket; call(frame: object): Promise<any>; frames: any[] }> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?${query}`);
  const frames: any[] = [];
  const waiters: Array<(f: any) => void> = [];
  ws.on('message', (d) => {
    const f = JSON.parse(String(d));
    frames.push(f);
    waiters.shift()?.(f);
  });
  await new Promise<void>((resolve) => waiters.push(() => resolve()));
  return {
    ws,
    frames,
    call: (frame) =>
      new Promise((resolve) => {
        waiters.push(resolve);
        ws.send(JSON.stringify(frame));
      }),
  };
}

describe('UserSig at login (the client protocol)', () => {
  it('a missing, forged, other-user or other-app UserSig is refused (70003, 70003, 70013, 70014) and changes nothing', async () => {
    const before = (await server.health()).seq;
    const c = client();
    expect(await code(c.login({ userID: 'alice' }))).toBe(70003);
    expect(await code(c.login({ userID: 'alice', userSig: 'garbage' }))).toBe(70003);
    expect(await code(c.login({ userID: 'alice', userSig: sig('alice', { key: 'a-key-that-is-not-the-server-key' }) }))).toBe(70003);
    expect(await code(c.login({ userID: 'alice', userSig: sig('bob') }))).toBe(70013);
    expect(await code(c.login({ userID: 'alice', userSig: sig('alice', { sdkAppId: SDK_APP_ID + 1 }) }))).toBe(70014);
    // A bad userID is a parameter error first (SPEC.md section 10 order), whatever the UserSig.
    expect(await code(c.login({ userID: '' , userSig: 'garbage' }))).toBe(6017);
    expect((await server.health()).seq).toBe(before);
    const q = await server.rest('openim/query_online_status', { To_Account: ['alice'] });
    expect(q.QueryResult[0].Status).toBe('Offline');
    expect(await code(c.setSelfStatus({ customStatus: 'x' }))).toBe(2024);
  });

  it('an expired UserSig is refused with 70001 (expiry read on the server clock)', async () => {
    const s = sig('bob', { expire: 1 });
    const c = client();
    const doc = JSON.parse(
      (await import('node:zlib')).inflateSync(Buffer.from(s.replace(/_/g, '=').replace(/-/g, '/').replace(/\*/g, '+'), 'base64')).toString(),
    ) as Record<string, number>;
    const { now } = await server.health();
    const r = await server.rest('test/advance', { Ms: Math.max(0, (doc['TLS.time']! + 1) * 1000 - now + 1000) });
    expect(r.ActionStatus).toBe('OK');
    expect(await code(c.login({ userID: 'bob', userSig: s }))).toBe(70001);
    expect((await c.login({ userID: 'bob', userSig: sig('bob') })).data.userID).toBe('bob');
  });

  it('createClient({url, userSig}) with an http:// URL logs in with the UserSig it was given', async () => {
    const c = createClient({ url: server.url, platform: 'web', userSig: sig('mallory') });
    clients.push(c as RemoteClient);
    expect((await c.login({ userID: 'mallory' })).data).toEqual({ repeatLogin: false, userID: 'mallory' });
    expect((await c.login({ userID: 'mallory', userSig: sig('mallory') })).data.repeatLogin).toBe(true);
  });

  it('no call acts for another user: a socket naming another\'s device gets nothing of it, only a device of its own', async () => {
    const alice = client();
    await alice.login({ userID: 'alice', userSig: sig('alice') });
    await alice.setSelfStatus({ customStatus: 'mine' });
    const before = (await server.health()).seq;
    const evil = await raw(`v=1&deviceId=${alice.deviceId}`);
    const err = (f: any) => [f.id, f.ok, f.error?.code];
    expect(err(await evil.call({ id: 1, op: 'setSelfStatus', params: { customStatus: 'pwned' } }))).toEqual([1, false, 2024]);
    expect(err(await evil.call({ id: 2, op: 'auth', params: { userID: 'mallory', userSig: sig('mallory') } }))).toEqual([2, false, 2024]);
    expect(err(await evil.call({ id: 3, op: 'auth', params: { userID: 'alice', userSig: sig('mallory') } }))).toEqual([3, false, 70013]);
    expect((await server.health()).seq).toBe(before);
    // Naming alice's device id as mallory gives mallory a device of her own: device ids are per user.
    const mine = await evil.call({ id: 4, op: 'login', params: { userID: 'mallory', userSig: sig('mallory') } });
    expect([mine.id, mine.ok]).toEqual([4, true]);
    expect(err(await evil.call({ id: 5, op: 'logout' }))).toEqual([5, true, undefined]);
    // Alice's own socket was not touched.
    expect((await alice.setSelfStatus({ customStatus: 'still mine' })).data.customStatus).toBe('still mine');
    const q = await server.rest('openim/query_online_status', { To_Account: ['alice'], IsNeedDetail: 1 });
    expect(q.QueryResult[0]).toMatchObject({ Status: 'Online', CustomStatus: 'still mine' });
    expect(q.QueryResult[0].Detail).toHaveLength(1);
    evil.ws.close();
  });
});

describe('UserSig on the admin REST API', () => {
  const call = (query: Record<string, string>) => server.rest('openim/query_online_status', { To_Account: ['alice'] }, query);

  it('the administrator with a valid UserSig is served', async () => {
    expect((await call({})).ActionStatus).toBe('OK');
  });

  it('a caller without a valid UserSig is refused before its body is read, however large', async () => {
    const big = { To_Account: ['x'.repeat(6 * 1024 * 1024)] }; // over the 4 MiB body limit
    const r = await server.rest('openim/query_online_status', big, { usersig: 'forged' });
    expect([r.ActionStatus, r.ErrorCode]).toEqual(['FAIL', 70003]);
  });

  it('refusals: not the administrator 70403, missing 70003, forged 70003, another user\'s 70013, another app\'s 70014, wrong sdkappid 70020', async () => {
    const fail = async (q: Record<string, string>) => {
      const r = await call(q);
      expect(r.ActionStatus).toBe('FAIL');
      return r.ErrorCode as number;
    };
    expect(await fail({ identifier: 'alice', usersig: sig('alice') })).toBe(70403);
    expect(await fail({ usersig: '' })).toBe(70003);
    expect(await fail({ usersig: sig('administrator', { key: 'not-the-server-key-at-all' }) })).toBe(70003);
    expect(await fail({ usersig: sig('alice') })).toBe(70013);
    expect(await fail({ usersig: sig('administrator', { sdkAppId: SDK_APP_ID + 1 }) })).toBe(70014);
    expect(await fail({ sdkappid: String(SDK_APP_ID + 1) })).toBe(70020);
    expect(await fail({ sdkappid: 'abc' })).toBe(70020);
  });

  it('a refused call changes nothing', async () => {
    const before = (await server.health()).seq;
    const r = await server.rest('im_open_login_svc/account_import', { UserID: 'intruder' }, { usersig: sig('alice') });
    expect(r.ErrorCode).toBe(70013);
    expect((await server.health()).seq).toBe(before);
    const q = await server.rest('openim/query_online_status', { To_Account: ['intruder'] });
    expect(q.ErrorList).toMatchObject([{ To_Account: 'intruder', ErrorCode: 70107 }]);
  });
});
