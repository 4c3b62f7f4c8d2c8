// Durability of the server process on its SQLite store (--data DIR): every acknowledged change survives a
// graceful restart (SIGTERM) and a kill -9; pending timers resume; clients come back by themselves after
// a restart and resume without gaps or duplicates (EXT-2); a shutdown is not a drop.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RemoteClient } from '../../src/client/remote';
import { EVENT, type UserStatus } from '../../src/index';
import { sig, startServerProcess, until, type ServerProcess } from './proc';

const dirs: string[] = [];
const servers: ServerProcess[] = [];
const clients: RemoteClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.destroy()));
  await Promise.all(servers.map((s) => s.kill9()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'status-engine-'));
  dirs.push(d);
  return d;
}

async function serve(dir: string, port?: number, extra: string[] = []): Promise<ServerProcess> {
  const s = await startServerProcess(['--data', dir, '--switch', 'userStatus=on', ...extra], { port });
  servers.push(s);
  return s;
}

function device(server: ServerProcess, userID: string) {
  const c = new RemoteClient({ url: server.url, reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
  clients.push(c);
  const heard: UserStatus[] = [];
  const states: string[] = [];
  c.on(EVENT.USER_STATUS_UPDATED, (e) => heard.push(...(e.data as UserStatus[])));
  c.on(EVENT.NET_STATE_CHANGE, (e) => states.push((e.data as { state: string }).state));
  return { c, heard, states, login: () => c.login({ userID, userSig: sig(userID) }) };
}

const ok = async (s: ServerProcess, command: string, body: unknown) => {
  const r = await s.rest(command, body);
  expect(r.ActionStatus, `${command}: ${r.ErrorInfo}`).toBe('OK');
  return r;
};

const query = async (s: ServerProcess, ids: string[]) => (await ok(s, 'openim/query_online_status', { To_Account: ids })).QueryResult as Array<Record<string, any>>;

describe('durability of the server process (SqliteStore)', () => {
  it('users, friends, subscriptions, custom statuses and settings survive SIGTERM, and every acknowledged change survives kill -9', async () => {
    const dir = dataDir();
    let s = await serve(dir);
    await ok(s, 'im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob', 'carol'] });
    await ok(s, 'sns/friend_add', { From_Account: 'carol', AddFriendItem: [{ To_Account: 'alice' }] });
    await ok(s, 'im_open_status/config', { Switches: { FriendStatusNotify: 'on' }, Limits: { subscriptionQuota: 50 } });
    const alice = device(s, 'alice');
    await alice.login();
    await alice.c.setSelfStatus({ customStatus: 'durable' });
    const bob = device(s, 'bob');
    await bob.login();
    await bob.c.subscribeUserStatus({ userIDList: ['alice'] });
    await alice.c.destroy();
    await bob.c.destroy();
    expect(await s.stop('SIGTERM')).toBe(0);

    s = await serve(dir);
    expect(await query(s, ['alice', 'bob', 'carol'])).toMatchObject([{ CustomStatus: 'durable' }, {}, {}]);
    const config = await ok(s, 'im_open_status/config', {});
    expect(config).toMatchObject({ Switches: { UserStatus: 'on', FriendStatusNotify: 'on' } });
    expect(config.Limits.subscriptionQuota).toBe(50);
    // The subscription and the friend list, by what they do.
    const bob2 = device(s, 'bob');
    await bob2.login();
    const carol = device(s, 'carol');
    await carol.login();
    const alice2 = device(s, 'alice');
    await alice2.login();
    await alice2.c.setSelfStatus({ customStatus: 'after restart' });
    await bob2.c.sync();
    await carol.c.sync();
    expect(bob2.heard.filter((x) => x.userID === 'alice').map((x) => x.customStatus)).toContain('after restart');
    expect(carol.heard.filter((x) => x.userID === 'alice').map((x) => x.customStatus)).toContain('after restart');

    // A burst of acknowledged changes, then kill -9 right after the last acknowledgement.
    const fresh = Array.from({ length: 20 }, (_, i) => `late-${i}`);
    await ok(s, 'im_open_login_svc/multiaccount_import', { Accounts: fresh });
    for (let i = 0; i < 30; i++) await alice2.c.setSelfStatus({ customStatus: `v${i}` });
    await s.kill9();

    s = await serve(dir);
    const after = await query(s, ['alice', ...fresh]);
    expect(after[0]!.CustomStatus).toBe('v29');
    expect(after).toHaveLength(21);
  });

  it('CS-5 a clear-after-logout timer pending at kill -9 fires after the restart; DEV-2 a device that never comes back is dropped after the heartbeat timeout', async () => {
    const dir = dataDir();
    // The simulated clock: the timer's time is the test's to move, not the machine's load.
    let s = await serve(dir, undefined, ['--clock', 'simulated']);
    await ok(s, 'im_open_login_svc/multiaccount_import', { Accounts: ['dora', 'eve'] });
    const dora = device(s, 'dora');
    await dora.login();
    await dora.c.setSelfStatus({ customStatus: 'brb' });
    await dora.c.logout();
    const eve = device(s, 'eve');
    await eve.login();
    await s.kill9();
    await eve.c.destroy(); // eve's client is gone for good: it will not resume
    s = await serve(dir, undefined, ['--clock', 'simulated']);
    expect(await query(s, ['dora', 'eve'])).toMatchObject([
      { Status: 'Offline', CustomStatus: 'brb' },
      { Status: 'Online' },
    ]);
    await ok(s, 'test/advance', { Ms: 60_000 });
    expect((await query(s, ['eve']))[0]).toMatchObject({ Status: 'Offline' });
    await ok(s, 'test/advance', { Ms: 240_000 });
    expect((await query(s, ['dora']))[0]).toMatchObject({ Status: 'Offline', CustomStatus: '' });
  });

  it('EXT-2 across a kill -9: clients come back by themselves, keep their subscriptions, and hear each missed change once, in order', async () => {
    const dir = dataDir();
    let s = await serve(dir);
    const port = s.port;
    await ok(s, 'im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob'] });
    const alice = device(s, 'alice');
    const bob = device(s, 'bob');
    await alice.login();
    await bob.login();
    await alice.c.subscribeUserStatus({ userIDList: ['bob'] });
    await bob.c.subscribeUserStatus({ userIDList: ['alice'] });
    await bob.c.setSelfStatus({ customStatus: 'v1' });
    await alice.c.sync();
    // Alice's network goes before the crash; she will miss what happens after it.
    alice.c.disconnect('network_lost');
    alice.heard.length = 0;
    await s.kill9();

    s = await serve(dir, port);
    await until(() => bob.states.at(-1) === 'connected' && bob.states.includes('reconnecting'), 'bob back by himself', 5000);
    for (const v of ['v2', 'v3', 'v4']) await bob.c.setSelfStatus({ customStatus: v });
    await alice.c.reconnect();
    await alice.c.sync();
    expect(alice.heard.map((x) => [x.userID, x.customStatus])).toEqual([['bob', 'v4']]);
    await bob.c.setSelfStatus({ customStatus: 'v5' });
    await alice.c.sync();
    expect(alice.heard.map((x) => x.customStatus)).toEqual(['v4', 'v5']);
    const versions = alice.heard.map((x) => x.version);
    expect(versions[1]).toBe(versions[0]! + 1);
    // Bob's subscription came through the crash too.
    bob.heard.length = 0;
    await alice.c.setSelfStatus({ customStatus: 'hi bob' });
    await bob.c.sync();
    expect(bob.heard.map((x) => [x.userID, x.customStatus])).toEqual([['alice', 'hi bob']]);

    // A graceful restart is not a drop: nobody hears anybody leave.
    alice.heard.length = 0;
    expect(await s.stop('SIGTERM')).toBe(0);
    s = await serve(dir, port);
    await until(() => alice.states.filter((x) => x === 'connected').length >= 2 && alice.states.at(-1) === 'connected', 'alice back by herself', 5000);
    await until(() => bob.states.filter((x) => x === 'connected').length >= 2 && bob.states.at(-1) === 'connected', 'bob back by himself', 5000);
    await bob.c.setSelfStatus({ customStatus: 'v6' });
    await alice.c.sync();
    expect(alice.heard.map((x) => [x.statusType, x.customStatus])).toEqual([[1, 'v6']]);
  });
});
