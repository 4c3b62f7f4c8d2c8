// The Web SDK against the real server process (`status-engine serve`): UserSigs in the tls-sig-api-v2 format,
// the console switched over the admin REST API, and the SDK following without a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, TYPES } from '../../src/index';
import { SDK_APP_ID, sig, startServerProcess, type ServerProcess } from '../server/proc';
import { createSdk, loginReady, rejection, type SdkDevice } from './harness';

describe('the Web SDK against status-engine serve', () => {
  let server: ServerProcess;
  const devices: SdkDevice[] = [];
  const rest = async (command: string, body: unknown) => {
    const r = await server.rest(command, body);
    if (r.ActionStatus !== 'OK') throw new Error(`${command}: ${r.ErrorCode} ${r.ErrorInfo}`);
    return r;
  };
  const device = () => {
    const d = createSdk(server.url.replace(/^http/, 'ws'), { sdkAppId: SDK_APP_ID });
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
    const bob = device();
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
});
