// createClient({ url: [...] }) of API.md's second round: a list of servers, the next one tried when one
// fails (refused, or the link drops). Two real `status-engine serve` processes, each with its own store and
// the same secret key, so that a UserSig holds on both and the second adopts the device when it resumes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RemoteClient } from '../../src/client/remote';
import { createClient, ErrorCode, EVENT, StatusError } from '../../src/index';
import { sig, startServerProcess, until, type ServerProcess } from '../server/proc';

/** Undone last first: the clients, then the servers, then their data directories. */
const cleanup: Array<() => unknown> = [];
afterAll(async () => {
  for (const undo of cleanup.reverse()) await undo();
});

async function serve(): Promise<ServerProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'status-engine-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const s = await startServerProcess(['--data', dir, '--switch', 'userStatus=on']);
  cleanup.push(() => s.kill9());
  const r = await s.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob'] });
  expect(r.ActionStatus, String(r.ErrorInfo)).toBe('OK');
  return s;
}

function device(url: string | string[]) {
  const c = createClient({ url, reconnect: { minDelayMs: 20, maxDelayMs: 200 } }) as RemoteClient;
  cleanup.push(() => c.destroy());
  const states: string[] = [];
  c.on(EVENT.NET_STATE_CHANGE, (e) => states.push((e.data as { state: string }).state));
  return { c, states };
}

/** The user's status as that server's admin API has it. */
async function onServer(s: ServerProcess, userID: string): Promise<Record<string, any>> {
  const r = await s.rest('openim/query_online_status', { To_Account: [userID] });
  expect(r.ActionStatus, String(r.ErrorInfo)).toBe('OK');
  return (r.QueryResult as Array<Record<string, any>>)[0]!;
}

const failure = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};

describe('createClient({ url: [...] })', () => {
  it('when the server it is on stops, the client comes back on the next URL by itself and resumes there', async () => {
    const a = await serve();
    const b = await serve();
    const alice = device([a.url, b.url]);
    await alice.c.login({ userID: 'alice', userSig: sig('alice') });
    await alice.c.setSelfStatus({ customStatus: 'on a' });
    expect(await onServer(a, 'alice')).toMatchObject({ Status: 'Online', CustomStatus: 'on a' });
    expect(await onServer(b, 'alice')).not.toMatchObject({ Status: 'Online' });

    expect(await a.stop()).toBe(0);
    await until(() => alice.states.length === 3, 'the client back on the second server', 15_000);
    expect(alice.states).toEqual(['connected', 'reconnecting', 'connected']);
    expect(await onServer(b, 'alice')).toMatchObject({ Status: 'Online' });

    // It is logged in there: calls work, and another device on that server hears them.
    const bob = device(b.url);
    await bob.c.login({ userID: 'bob', userSig: sig('bob') });
    await bob.c.subscribeUserStatus({ userIDList: ['alice'] });
    const heard: string[] = [];
    bob.c.on(EVENT.USER_STATUS_UPDATED, (e) => heard.push(...e.data.map((s) => s.customStatus)));
    expect((await alice.c.setSelfStatus({ customStatus: 'on b' })).data).toMatchObject({ userID: 'alice', customStatus: 'on b' });
    await until(() => heard.includes('on b'), 'bob hears alice on the second server', 15_000);
    expect(await onServer(b, 'alice')).toMatchObject({ Status: 'Online', CustomStatus: 'on b' });
  });

  it('a first URL that refuses the connection: login goes to the next one', async () => {
    const gone = await serve();
    const up = await serve();
    await gone.stop();
    const alice = device([gone.url, up.url]);
    expect((await alice.c.login({ userID: 'alice', userSig: sig('alice') })).data).toEqual({ repeatLogin: false, userID: 'alice' });
    expect(alice.c.connectionState).toBe('connected');
    expect(await onServer(up, 'alice')).toMatchObject({ Status: 'Online' });
  });

  it('a connect let go on purpose (disconnect) while it tries the list does not go on to the next URL', async () => {
    const gone = await serve();
    const up = await serve();
    await gone.stop();
    const alice = device([gone.url, up.url]);
    const login = alice.c.login({ userID: 'alice', userSig: sig('alice') }).then(
      () => null,
      (err: unknown) => err,
    );
    alice.c.disconnect();
    expect(await login).toMatchObject({ code: ErrorCode.NOT_CONNECTED });
    expect(alice.c.connectionState).toBe('idle');
    expect(await onServer(up, 'alice')).not.toMatchObject({ Status: 'Online' });
  });

  it('every URL refusing: login fails with the connection error, and the single-string form still fails the same way', async () => {
    const gone = await serve();
    await gone.stop();
    for (const url of [[gone.url, gone.url], gone.url]) {
      const c = createClient({ url, reconnect: false }) as RemoteClient;
      cleanup.push(() => c.destroy());
      const e = await c.login({ userID: 'alice', userSig: sig('alice') }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(StatusError);
      expect(e).toMatchObject({ code: ErrorCode.NOT_CONNECTED });
      expect(c.connectionState).toBe('idle');
    }
  });

  it('a list that is empty, or holds something other than a URL, is refused naming the parameter', () => {
    expect(failure(() => createClient({ url: [] }))).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'url' });
    expect(failure(() => createClient({ url: ['ws://127.0.0.1:1', 7 as unknown as string] }))).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'url[1]' });
    expect(failure(() => createClient({ url: ['ws://127.0.0.1:1', 'ftp://x'] }))).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'url[1]' });
  });
});
