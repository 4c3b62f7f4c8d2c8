// The Web SDK against the real server process (`status-engine serve`): UserSigs in the tls-sig-api-v2 format,
// the console switched over the admin REST API, and the SDK following without a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, TYPES } from '../../src/index';
import { SDK_APP_ID, sig, startServerProcess, type ServerProcess } from '../server/proc';
import { createSdk, loginReady, rejection, type SdkDevice, type SdkName } from './harness';

describe('the Web SDK against status-engine serve', () => {
  let server: ServerProcess;
  const devices: SdkDevice[] = [];
  const rest = async (command: string, body: unknown) => {
    const r = await server.rest(command, body);
    if (r.ActionStatus !== 'OK') throw new Error(`${command}: ${r.ErrorCode} ${r.ErrorInfo}`);
    return r;
  };
  const device = (sdk: SdkName = 'tim2') => {
    const d = createSdk(server.url.replace(/^http/, 'ws'), { sdkAppId: SDK_APP_ID, sdk });
    devices.push(d);
    return d;
  };

  beforeAll(async () => {
    server = await startServerProcess(['--store', 'memory', '--switch', 'userStatus=on']);
    await rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob'] });
  }, 30_000);
  afterAll(async () => {
    await Promise.all(devices.map((d) => d.destroy()));
    const code = await server?.stop();
    expect(code, server?.log()).toBe(0);
  });

  it('a missing, forged, expired or other-user UserSig makes tim.login reject with a clear code', async () => {
    const d = device();
    // (An empty one the SDK refuses by itself, before sending anything.)
    for (const bad of ['forged', sig('bob'), sig('alice', { key: 'another-secret' }), sig('alice', { sdkAppId: 1400000999 }), sig('alice', { expire: -10 })]) {
      const e = await rejection(d.tim.login({ userID: 'alice', userSig: bad }));
      expect(e.code, `UserSig ${bad.slice(0, 20)}`).toBeGreaterThanOrEqual(70000);
      expect(e.message.length).toBeGreaterThan(0);
    }
    const q = await rest('openim/query_online_status', { To_Account: ['alice'] });
    expect(q.QueryResult[0].Status).toBe('Offline');
  });

  it('GATE-2/GATE-3 the admin REST config switches the edition and the switch at run time; the logged-in SDK follows (3122, 72001)', async () => {
    const alice = device();
    await loginReady(alice, 'alice', sig('alice'));
    const bob = device('chat3'); // the current SDK, with a real UserSig, next to a 2.x user
    await loginReady(bob, 'bob', sig('bob'));
    await bob.tim.setSelfStatus({ customStatus: 'from serve' });
    const r = await alice.tim.getUserStatus({ userIDList: ['bob'] });
    expect(r.data.successUserList).toEqual([{ userID: 'bob', statusType: TYPES.USER_STATUS_ONLINE, customStatus: 'from serve' }]);

    await rest('im_open_status/config', { Edition: 'pro' });
    await alice.ping(); // the purchase-bits push is ahead of the ping's reply
    const sentBefore = alice.sent.length;
    expect((await rejection(alice.tim.getUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    expect((await rejection(alice.tim.subscribeUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.EDITION_LACKS_FEATURE);
    expect(alice.sent.slice(sentBefore).filter((c) => c.startsWith('im_open_status.ws_'))).toEqual([]); // refused by the SDK itself

    await rest('im_open_status/config', { Edition: 'ultimate', Switches: { UserStatus: 'off' } });
    await alice.ping();
    expect((await rejection(alice.tim.getUserStatus({ userIDList: ['bob'] }))).code).toBe(ErrorCode.SWITCH_OFF);

    await rest('im_open_status/config', { Switches: { UserStatus: 'on' } });
    expect((await alice.tim.subscribeUserStatus({ userIDList: ['bob'] })).data).toEqual({ failureUserList: [] });
    await bob.tim.setSelfStatus({ customStatus: 'pushed by serve' });
    await alice.waitFor('onUserStatusUpdated', (data) => data[0].userID === 'bob' && data[0].customStatus === 'pushed by serve');
  });

  it('DEV-1 after a restart of the server (same data, same key) the SDK logs in again with its session key: same device, no new login', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'status-engine-sdk-restart-'));
    let first: ServerProcess | undefined = await startServerProcess(['--data', dir, '--switch', 'userStatus=on']);
    let second: ServerProcess | undefined;
    try {
      const admin = (p: ServerProcess) => async (command: string, body: unknown) => {
        const r = await p.rest(command, body);
        if (r.ActionStatus !== 'OK') throw new Error(`${command}: ${r.ErrorCode} ${r.ErrorInfo}`);
        return r;
      };
      await admin(first)('im_open_login_svc/multiaccount_import', { Accounts: ['carol', 'dave'] });
      const carol = createSdk(first.url.replace(/^http/, 'ws'), { sdkAppId: SDK_APP_ID });
      devices.push(carol);
      const login = (await loginReady(carol, 'carol', sig('carol'))) as { data: { deviceId: string } };
      await carol.tim.subscribeUserStatus({ userIDList: ['dave'] });
      const logins = carol.sent.filter((c) => c === 'im_open_status.wslogin').length;
      expect(await first.stop()).toBe(0);
      first = undefined;
      second = await startServerProcess(['--data', dir, '--switch', 'userStatus=on'], { port: Number(new URL(devices.at(-1)!.sockets[0]!.url).port) });
      // The SDK's first reconnect finds the port closed; it tries again about 17 s later (measured, 2.27.6).
      await carol.until(() => carol.sent.filter((c) => c === 'im_open_status.wslogin').length > logins && carol.socket !== undefined, 'the relogin', 40_000);
      await carol.ping();
      expect(carol.events.filter((e) => e.name === 'kickedOut')).toEqual([]);
      const q = await admin(second)('openim/query_online_status', { To_Account: ['carol'], IsNeedDetail: 1 });
      expect(q.QueryResult[0].Status).toBe('Online');
      expect(JSON.stringify(q.QueryResult[0].Detail)).toContain(login.data.deviceId);
      // Its subscription lived through the restart (it belongs to the account, in the store).
      const dave = createSdk(second.url.replace(/^http/, 'ws'), { sdkAppId: SDK_APP_ID });
      devices.push(dave);
      await loginReady(dave, 'dave', sig('dave'));
      await dave.tim.setSelfStatus({ customStatus: 'after the restart' });
      await carol.waitFor('onUserStatusUpdated', (data) => data[0].userID === 'dave' && data[0].customStatus === 'after the restart');
    } finally {
      await first?.stop();
      await second?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
