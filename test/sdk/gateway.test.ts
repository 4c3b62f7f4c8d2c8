// The TIM gateway frame by frame (shared/spec/TIM-WIRE.md), with a raw wire client: boot replies, session
// keys, heartbeats and quiet sockets on the engine's clock, bad frames, compression, the /info text variant.
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, StatusError, TYPES, createClient } from '../../src/index';
import { purchaseBits } from '../../src/protocol/tim/wire';
import {
  SDK_APP_ID,
  recordingLogger,
  startTestServer,
  testUserSig,
  wireClient,
  wireLogin,
  type TestServer,
  type WireClient,
} from './harness';

let server: TestServer | undefined;
const clients: WireClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.close();
  server = undefined;
});
const start = async (o: Parameters<typeof startTestServer>[0] = {}) => (server = await startTestServer(o));
const connect = async (s: TestServer, opts: Parameters<typeof wireClient>[1] = {}) => {
  const c = await wireClient(s.url, opts);
  clients.push(c);
  return c;
};
const statusOf = async (s: TestServer, id: string) => (await s.engine.queryStatus([id], { detail: true }))[0]!;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('boot: what the SDK needs to become ready', () => {
  it('wslogin replies A2Key, TinyId, TimeStamp in seconds, InstId, HelloInterval, CustomStatus in base64 and PurchaseBits', async () => {
    const s = await start();
    const c = await connect(s);
    const body = await wireLogin(c, 'alice');
    expect(body.ErrorCode).toBeUndefined();
    expect(body.A2Key).toMatch(/^[A-Za-z0-9_-]{40,}\.[A-Za-z0-9_-]{43}$/); // signed claims with a random nonce
    expect(body.TinyId).toMatch(/^[1-9][0-9]*$/);
    expect(Math.abs(body.TimeStamp - Date.now() / 1000)).toBeLessThan(5);
    expect(body.InstId).toBeGreaterThan(0);
    expect(body.HelloInterval).toBe(30);
    expect(body.CustomStatus).toBe('');
    expect(body.PurchaseBits).toBe('10000000');
    expect(body.DeviceId).toBe((await statusOf(s, 'alice')).devices![0]!.deviceId);
    // Keys are random: a second login gets others.
    const other = await wireLogin(await connect(s), 'alice');
    expect(other.A2Key).not.toBe(body.A2Key);
    expect(other.TinyId).not.toBe(body.TinyId);
  });

  it('the login reply carries the custom status the user already has, in base64', async () => {
    const s = await start();
    const c1 = await connect(s);
    await wireLogin(c1, 'alice');
    await c1.request('im_open_status.ws_set_custom_status', { CustomStatus: '出差中' });
    const body = await wireLogin(await connect(s), 'alice');
    expect(body.CustomStatus).toBe(b64('出差中'));
  });

  it('boot lists come back empty and finished (page_get, getmsg, block list, friends, groups), fetch_config turns telemetry off, an unknown command is 60009', async () => {
    const s = await start();
    const c = await connect(s);
    await wireLogin(c, 'alice');
    expect((await c.request('recentcontact.page_get', { StartIndex: 0 })).body).toMatchObject({ CompleteFlag: 1, SessionItem: [] });
    expect((await c.request('openim.getmsg', { Cookie: '', SyncFlag: 0 })).body).toMatchObject({ SyncFlag: 2, Cookie: expect.any(String), MsgList: [] });
    const cfg = (await c.request('im_sdk_config_mgr.fetch_config', { uint32_sdkappid: SDK_APP_ID, uint64_version: 0 })).body;
    expect(cfg.int32_error_code).toBe(0);
    expect(cfg.uint64_version).not.toBe(0); // the SDK only reads a config whose version moved
    expect(JSON.parse(cfg.str_json_config)).toEqual({ evt_rpt_sdkappid_bl: String(SDK_APP_ID), q_rpt_sdkappid_bl: String(SDK_APP_ID) });
    const bits = (await c.request('im_sdk_config_mgr.fetch_imsdk_purchase_bitsv2', { uint32_sdkappid: SDK_APP_ID })).body;
    expect(bits).toMatchObject({ int32_error_code: 0, str_purchase_bits: '10000000' });
    // 3.x pages these until the fields below say "done": StartIndex 0, CompleteFlag 1.
    expect((await c.request('sns.black_list_get', { StartIndex: 0, MaxLimited: 1000 })).body).toEqual({ BlackListItem: [], StartIndex: 0, CurrentSequence: 0 });
    expect((await c.request('sns.friend_get', { StartIndex: 0 })).body).toMatchObject({ UserDataItem: [], FriendNum: 0, CompleteFlag: 1, NextStartIndex: 0 });
    expect((await c.request('sns.group_get', {})).body).toEqual({ ResultItem: [], CurrentSequence: 0 });
    expect((await c.request('sns.pendency_get', {})).body).toMatchObject({ PendencyItem: [], StartTime: 0, CurrentSequence: 0 });
    expect((await c.request('recentcontact.get_contact_group', {})).body).toMatchObject({ CompleteFlag: 1, GroupItem: [], ContactItem: [] });
    expect((await c.request('group_open_http_svc.get_joined_group_list', {})).body).toEqual({ GroupIdList: [], TotalCount: 0 });
    expect((await c.request('profile.portrait_get_all', { UserItem: [{ To_Account: 'alice' }, 7, null] })).body).toEqual({
      UserProfileItem: [{ To_Account: 'alice', ProfileItem: [], ResultCode: 0, ResultInfo: '' }],
    });
    for (const cmd of ['openim.authkey', 'imopenstat.tim_web_report_v2']) expect((await c.request(cmd, { anything: 1 })).body).toEqual({});
    for (const cmd of ['no.such_command', 'openim.sendmsg', 'toString', '__proto__']) {
      expect((await c.request(cmd, { anything: 1 })).body).toEqual({ ErrorCode: ErrorCode.UNKNOWN_COMMAND, ErrorInfo: expect.stringContaining(`'${cmd}' is not a command`) });
    }
  });

  it('GATE-2 the edition is purchase bit 7: ultimate sets it, the others do not', () => {
    expect(purchaseBits('ultimate')).toBe('10000000');
    expect(purchaseBits('pro')).toBe('00000000');
    expect(purchaseBits('trial')).toBe('00000000');
  });
});

describe('login refusals', () => {
  it('a refused UserSig answers the verifier\'s code and message in the login reply; nothing is logged in', async () => {
    const s = await start();
    const c = await connect(s);
    const body = await wireLogin(c, 'alice', 'forged');
    expect(body).toEqual({ ErrorCode: 70003, ErrorInfo: expect.stringContaining('alice') });
    expect((await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
    expect((await c.request('im_open_status.ws_set_custom_status', { CustomStatus: 'x' })).body.ErrorCode).toBe(ErrorCode.NOT_LOGGED_IN);
  });

  it('another SDKAppID is refused with 70014', async () => {
    const s = await start();
    const c = await connect(s, { query: { sdkappid: '1400999999' } });
    const body = await wireLogin(c, 'alice');
    expect(body.ErrorCode).toBe(ErrorCode.USERSIG_APP_MISMATCH);
    expect(body.ErrorInfo).toContain('1400999999');
  });

  it('a verifier that fails unexpectedly gives an internal error code, logged, and the socket lives on', async () => {
    const rec = recordingLogger();
    const s = await start({
      gateway: {
        logger: rec.logger,
        verifyUserSig: () => {
          throw new TypeError('boom');
        },
      },
    });
    const c = await connect(s);
    expect((await wireLogin(c, 'alice')).ErrorCode).toBe(70500);
    expect(rec.lines.some((l) => l.level === 'error')).toBe(true);
    expect((await c.request('recentcontact.page_get')).body).toMatchObject({ CompleteFlag: 1 });
  });

  it('status commands before login answer 2024', async () => {
    const s = await start();
    const c = await connect(s);
    for (const cmd of ['im_open_status.ws_set_custom_status', 'im_open_status.ws_get_user_status', 'im_open_status.ws_status_subscribe', 'im_open_status.ws_status_unsubscribe']) {
      expect((await c.request(cmd, { To_Account: ['bob'], CustomStatus: 'x' })).body.ErrorCode).toBe(ErrorCode.NOT_LOGGED_IN);
    }
    // wslogout without a login is harmless.
    expect((await c.request('im_open_status.wslogout', { wslogout_type: 0 })).body).toEqual({});
  });

  it('the engine validates, the gateway only translates: a wrong To_Account type is 6017 naming userIDList', async () => {
    const s = await start();
    const c = await connect(s);
    await wireLogin(c, 'alice');
    const r = await c.request('im_open_status.ws_get_user_status', { To_Account: 'bob' });
    expect(r.body.ErrorCode).toBe(ErrorCode.INVALID_PARAMETER);
    expect(r.body.ErrorInfo).toContain('userIDList');
    const set = await c.request('im_open_status.ws_set_custom_status', {});
    expect(set.body.ErrorCode).toBe(ErrorCode.INVALID_PARAMETER);
    expect(set.body.ErrorInfo).toContain('customStatus');
  });
});

describe('session keys (A2Key/TinyId)', () => {
  const relogin = (c: WireClient, a2: unknown, tinyid: unknown) =>
    c.request('im_open_status.wslogin', { State: 'Online', InstType: 0 }, { a2, tinyid });

  it('a relogin with the keys on a new socket maps back to the same user and device', async () => {
    const s = await start();
    const c1 = await connect(s);
    const keys = await wireLogin(c1, 'alice');
    const device = (await statusOf(s, 'alice')).devices![0]!.deviceId;
    c1.ws.terminate();
    await c1.closed;
    await expect.poll(async () => (await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
    const c2 = await connect(s);
    const r = await relogin(c2, keys.A2Key, keys.TinyId);
    expect(r.body).toMatchObject({ A2Key: keys.A2Key, TinyId: keys.TinyId, InstId: keys.InstId });
    const after = await statusOf(s, 'alice');
    expect(after.statusType).toBe(TYPES.USER_STATUS_ONLINE);
    expect(after.devices!.map((d) => d.deviceId)).toEqual([device]);
    expect((await c2.request('im_open_status.ws_set_custom_status', { CustomStatus: 'via c2' }, { a2: keys.A2Key, tinyid: keys.TinyId })).body).toEqual({});
  });

  it('unknown keys, a wrong TinyId, keys after logout and keys past their lifetime answer 70001', async () => {
    const s = await start({ gateway: { sessionKeyTtlMs: 60_000, loginDeadlineMs: 600_000 } });
    const c = await connect(s);
    const keys = await wireLogin(c, 'alice');
    const d = await connect(s);
    expect((await relogin(d, 'made-up', keys.TinyId)).body.ErrorCode).toBe(70001);
    expect((await relogin(d, keys.A2Key, '12345')).body.ErrorCode).toBe(70001);
    expect((await relogin(d, keys.A2Key, undefined)).body.ErrorCode).toBe(70001);
    // Past its lifetime (the engine's clock).
    s.clock!.increment(60_000);
    expect((await relogin(d, keys.A2Key, keys.TinyId)).body.ErrorCode).toBe(70001);
    // After logout.
    const e = await connect(s);
    const k2 = await wireLogin(e, 'bob');
    await e.request('im_open_status.wslogout', { wslogout_type: 0 });
    expect((await statusOf(s, 'bob')).statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
    expect((await relogin(d, k2.A2Key, k2.TinyId)).body.ErrorCode).toBe(70001);
  });

  it('a relogin while the old socket is still open moves the device there with no drop, and closes the old socket', async () => {
    const s = await start();
    const watcher = await connect(s);
    await wireLogin(watcher, 'bob');
    await watcher.request('im_open_status.ws_status_subscribe', { To_Account: ['alice'] });
    const c1 = await connect(s);
    const keys = await wireLogin(c1, 'alice');
    await watcher.waitPush((p) => p.body.EventArray?.[0]?.UserStatusList?.[0]?.To_Account === 'alice');
    watcher.pushes.length = 0;
    const c2 = await connect(s);
    expect((await relogin(c2, keys.A2Key, keys.TinyId)).body.A2Key).toBe(keys.A2Key);
    expect((await c1.closed).code).toBe(4001);
    await c2.request('im_open_status.ws_set_custom_status', { CustomStatus: 'moved' });
    const p = await watcher.waitPush((x) => x.body.EventArray?.[0]?.UserStatusList?.[0]?.To_Account === 'alice');
    // The only news about alice is the custom status: she never looked offline.
    expect(watcher.pushes.map((x) => x.body.EventArray[0].UserStatusList[0])).toEqual([{ To_Account: 'alice', Status: 1, CustomStatus: b64('moved') }]);
    expect(p.head.servcmd).toBe('im_open_push.msg_push');
    expect((await statusOf(s, 'alice')).devices).toHaveLength(1);
  });
});

describe('heartbeats and quiet sockets (DEV-2, DEV-3)', () => {
  it('a socket that never logs in is closed after the login deadline; one that logs in is not', async () => {
    const s = await start({ gateway: { loginDeadlineMs: 60_000 } });
    const idle = await connect(s);
    const busy = await connect(s);
    await wireLogin(busy, 'alice');
    s.clock!.increment(59_999);
    expect(idle.ws.readyState).toBe(1);
    s.clock!.increment(1);
    expect((await idle.closed).code).toBe(4003);
    expect(busy.ws.readyState).toBe(1);
  });

  it('DEV-2 a quiet web socket is reported silent after silentAfterMs, and dropped webHeartbeatTimeoutMs later', async () => {
    const s = await start({ gateway: { silentAfterMs: 45_000 } });
    const c = await connect(s);
    await wireLogin(c, 'alice');
    s.clock!.increment(44_999);
    expect((await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_ONLINE);
    s.clock!.increment(1); // silent now; the engine's heartbeat timeout runs
    s.clock!.increment(59_999);
    expect((await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_ONLINE);
    s.clock!.increment(1);
    expect((await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
    // The SDK was only slow: its next frame restores the device.
    expect((await c.request('im_open_status.wshello')).body).toEqual({});
    expect((await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_ONLINE);
  });

  it('DEV-2 heartbeat.alive and wshello keep a socket alive; a heartbeat during the timeout cancels it', async () => {
    const s = await start({ gateway: { silentAfterMs: 45_000 } });
    const c = await connect(s);
    await wireLogin(c, 'alice');
    for (let i = 0; i < 10; i++) {
      s.clock!.increment(30_000);
      expect((await c.request(i % 2 ? 'heartbeat.alive' : 'im_open_status.wshello')).body).toEqual({});
    }
    // (The simulated clock jumps first and then fires: step to each due time so later timers start there.)
    s.clock!.increment(45_000); // silent now; the drop would come 60 s later
    s.clock!.increment(30_000); // half-way through the timeout
    expect((await c.request('heartbeat.alive')).body).toEqual({});
    s.clock!.increment(30_000); // past the time the drop was due
    expect((await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_ONLINE);
    const explain = await s.engine.explain('alice');
    expect(explain.map((e) => (e.kind === 'transition' ? e.reason : '')).filter((r) => r !== 'login')).toEqual([]);
  });

  it('DEV-2 a closed web socket drops the device at once (LINK.CLOSED)', async () => {
    const s = await start();
    const c = await connect(s);
    await wireLogin(c, 'alice');
    c.close();
    await c.closed;
    await expect.poll(async () => (await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
    const reasons = (await s.engine.explain('alice')).map((e) => (e.kind === 'transition' ? e.reason : ''));
    expect(reasons.at(-1)).toBe('link_closed');
  });

  it('DEV-3 a native platform (platform=android in the URL) stays logged in, OFFLINE, when its socket closes', async () => {
    const s = await start();
    const c = await connect(s, { query: { platform: 'android' } });
    await wireLogin(c, 'alice');
    expect((await statusOf(s, 'alice')).devices![0]!.platform).toBe('android');
    c.close();
    await c.closed;
    await expect.poll(async () => (await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_OFFLINE);
  });
});

describe('pushes', () => {
  it('NTF-1 a status change is im_open_push.msg_push with EventArray/UserStatusList, CustomStatus in base64, after the reply', async () => {
    const s = await start();
    const a = await connect(s);
    await wireLogin(a, 'alice');
    await a.waitPush((p) => p.body.EventArray?.[0]?.UserStatusList?.[0]?.To_Account === 'alice');
    a.pushes.length = 0;
    const order: string[] = [];
    a.ws.on('message', (d: Buffer) => {
      const raw = d.subarray(0, 4).toString('latin1') === 'COMP' ? gunzipSync(d.subarray(4)) : d;
      order.push(JSON.parse(raw.toString()).head.servcmd);
    });
    await a.request('im_open_status.ws_set_custom_status', { CustomStatus: 'ünïcödé' });
    const p = await a.waitPush(() => true);
    expect(p).toEqual({
      head: { servcmd: 'im_open_push.msg_push', seq: expect.any(Number) },
      body: {
        EventArray: [{ Event: expect.any(Number), UserStatusList: [{ To_Account: 'alice', Status: 1, CustomStatus: b64('ünïcödé') }] }],
        NeedAck: 1,
        SessionData: expect.stringMatching(/^\d+$/),
      },
    });
    expect(order).toEqual(['im_open_status.ws_set_custom_status', 'im_open_push.msg_push']);
  });

  it('EXT-2 pushes ask for an ack: after a relogin the SDK gets again what it never acknowledged, and nothing it did', async () => {
    const s = await start();
    const bob = await connect(s);
    await wireLogin(bob, 'bob');
    const relogin = (c: WireClient, k: Record<string, any>) => c.request('im_open_status.wslogin', {}, { a2: k.A2Key, tinyid: k.TinyId });
    const aboutBob = (c: WireClient) =>
      c.pushes.flatMap((p) => (p.body.EventArray?.[0]?.UserStatusList ?? []) as Array<{ To_Account: string; CustomStatus: string }>).filter((x) => x.To_Account === 'bob');
    // The SDK sends its ack without waiting for an answer, and gets none; a round trip on the same socket
    // after it says the server has read it (one socket's frames are handled in order).
    const ack = async (c: WireClient, p: { body: Record<string, any> }) => {
      c.tell('openim.ws_msg_push_ack', { SessionData: p.body.SessionData });
      await c.request('heartbeat.alive');
    };

    // Acknowledged: a relogin on a new socket (the old one left open, as a dead network leaves it) resends nothing.
    const a1 = await connect(s);
    const keys = await wireLogin(a1, 'alice');
    await a1.request('im_open_status.ws_status_subscribe', { To_Account: ['bob'] });
    await bob.request('im_open_status.ws_set_custom_status', { CustomStatus: 'seen' });
    await ack(a1, await a1.waitPush((p) => aboutBob(a1).length > 0 && p.body.EventArray?.[0]?.UserStatusList?.[0]?.To_Account === 'bob'));
    const a2 = await connect(s);
    await relogin(a2, keys);
    await a2.request('recentcontact.page_get'); // a round trip: any resume push would be ahead of its reply
    expect(aboutBob(a2)).toEqual([]);

    // Not acknowledged: written to a socket that is then lost; the relogin brings the current status once.
    await bob.request('im_open_status.ws_set_custom_status', { CustomStatus: 'lost 1' });
    await bob.request('im_open_status.ws_set_custom_status', { CustomStatus: 'lost 2' });
    await a2.waitPush(() => aboutBob(a2).length === 2);
    const a3 = await connect(s);
    await relogin(a3, keys);
    await a3.request('recentcontact.page_get');
    expect(aboutBob(a3)).toEqual([{ To_Account: 'bob', Status: 1, CustomStatus: b64('lost 2') }]);
    // An ack for a push never sent is ignored: the next relogin still brings what this socket never acknowledged.
    await ack(a3, { body: { SessionData: '999999999' } });
    const a4 = await connect(s);
    await relogin(a4, keys);
    await a4.request('recentcontact.page_get');
    expect(aboutBob(a4)).toEqual([{ To_Account: 'bob', Status: 1, CustomStatus: b64('lost 2') }]);
    // No ack was answered: an answer would have landed among the pushes (it matches no request).
    for (const c of [a1, a2, a3]) expect(c.pushes.filter((p) => p.head.servcmd === 'openim.ws_msg_push_ack')).toEqual([]);
  });

  it('EXT-2 acks of pushes are not requests: a watcher acknowledging more pushes than its request budget holds is still served; acks beyond what it was pushed are charged, and none is answered', async () => {
    // A budget of 10 on the engine's (simulated) clock, which never refills it here.
    const s = await start({ limits: { rateLimit: { requests: 1000, windowMs: 5000 } }, gateway: { requestBudget: { burst: 10, ratePerSec: 1, closeAfterRefusals: 5 } } });
    const a = await connect(s);
    await wireLogin(a, 'alice');
    await a.request('im_open_status.ws_status_subscribe', { To_Account: ['bob'] });
    const bob = createClient({ engine: s.engine, platform: 'web' });
    await bob.login({ userID: 'bob' });
    const ackable = () => a.pushes.filter((p) => p.head.servcmd === 'im_open_push.msg_push' && p.body.NeedAck === 1);
    for (let i = 0; i < 40; i++) await bob.setSelfStatus({ customStatus: `busy ${i}` });
    await a.waitPush(() => ackable().length >= 41); // bob's login and his 40 changes
    for (const p of ackable()) a.tell('openim.ws_msg_push_ack', { SessionData: p.body.SessionData });
    // Served: 41 acks on a budget of 10 cost it nothing (the old gateway refused the 9th on and cut the socket).
    expect((await a.request('heartbeat.alive')).body.ErrorCode ?? 0).toBe(0);
    expect((await a.request('im_open_status.ws_get_user_status', { To_Account: ['bob'] })).body.UserStatusList).toEqual([{ To_Account: 'bob', Status: 1, CustomStatus: b64('busy 39') }]);
    expect(a.pushes.filter((p) => p.head.servcmd === 'openim.ws_msg_push_ack')).toEqual([]);
    // Acks of pushes never sent are frames like any other: they use up the budget (unanswered), then the socket is cut.
    for (let i = 0; i < 30; i++) a.tell('openim.ws_msg_push_ack', { SessionData: '1' });
    expect((await a.closed).code).toBe(1008);
    expect(a.pushes.filter((p) => p.head.servcmd === 'openim.ws_msg_push_ack')).toEqual([]);
    await bob.logout();
  });

  it('GATE-1 a change of edition is pushed as purchase bits to logged-in sockets only, and only when the bits change', async () => {
    const s = await start();
    const a = await connect(s);
    await wireLogin(a, 'alice');
    const anon = await connect(s);
    a.pushes.length = 0;
    await s.engine.configure({ switches: { friendStatusNotify: true } }); // the bits do not move
    await s.engine.configure({ edition: 'pro' });
    const p = await a.waitPush((x) => x.head.servcmd === 'im_sdk_config_mgr.push_imsdk_purchase_bitsv2');
    expect(p.body).toMatchObject({ int32_error_code: 0, str_purchase_bits: '00000000' });
    await s.engine.configure({ edition: 'ultimate' });
    await a.waitPush((x) => x.body.str_purchase_bits === '10000000');
    expect(a.pushes.filter((x) => x.head.servcmd.includes('purchase')).length).toBe(2);
    expect(anon.pushes).toEqual([]);
    // And a login after the change reads the new bits in its reply.
    await s.engine.configure({ edition: 'trial' });
    expect((await wireLogin(await connect(s), 'bob')).PurchaseBits).toBe('00000000');
  });

  it('compress=gzip: frames of 1 KiB or more go down as COMP + gzip, small ones plain', async () => {
    const users = Array.from({ length: 60 }, (_, i) => `user-with-a-long-name-${i}`);
    const s = await start({ users: ['alice', ...users] });
    const c = await connect(s);
    await wireLogin(c, 'alice');
    const before = c.compressed.length;
    const r = await c.request('im_open_status.ws_get_user_status', { To_Account: users });
    expect(r.body.UserStatusList).toHaveLength(60);
    expect(c.compressed.slice(before)).toContain(true);
    expect((await c.request('recentcontact.page_get')).body).toMatchObject({ CompleteFlag: 1 });
    expect(c.compressed.at(-1)).toBe(false);
    // Without compress=gzip nothing is compressed.
    const plain = await connect(s, { query: { compress: '' } });
    await wireLogin(plain, 'alice');
    await plain.request('im_open_status.ws_get_user_status', { To_Account: users });
    expect(plain.compressed).not.toContain(true);
  });

  it('/info speaks JSON in text frames', async () => {
    const s = await start();
    const c = await connect(s, { path: '/info' });
    const body = await wireLogin(c, 'alice');
    expect(body.A2Key).toBeDefined();
    expect(c.text.every(Boolean)).toBe(true);
    expect(c.compressed).not.toContain(true);
  });
});

describe('bad frames: logged, answered or dropped, never a crash', () => {
  it('garbage, non-objects, a missing head or servcmd, and broken COMP frames are dropped and logged; the socket still works', async () => {
    const rec = recordingLogger();
    const s = await start({ gateway: { logger: rec.logger } });
    const c = await connect(s);
    await wireLogin(c, 'alice');
    const bad: Array<[Buffer | string, boolean]> = [
      [Buffer.from('not json'), true],
      [Buffer.from([0xff, 0xfe, 0x00, 0x01]), true],
      [Buffer.from('[1,2,3]'), true],
      [Buffer.from('null'), true],
      [Buffer.from('{"body":{}}'), true],
      [Buffer.from('{"head":{"seq":1},"body":{}}'), true],
      [Buffer.from('{"head":"x"}'), true],
      [Buffer.concat([Buffer.from('COMP'), Buffer.from('not gzip at all')]), true],
      ['{"head":', false],
    ];
    for (const [data, binary] of bad) c.raw(data, binary);
    // A frame with a servcmd but a body that is not an object: answered as if the body were empty.
    c.raw(Buffer.from(JSON.stringify({ head: { servcmd: 'im_open_status.ws_get_user_status', seq: 7 }, body: 'x' })));
    expect((await c.request('recentcontact.page_get')).body).toMatchObject({ CompleteFlag: 1 });
    // Each is logged; the first on the socket as a warning, the others at debug (test/server/redteam/logs.test.ts).
    expect(rec.lines.filter((l) => String(l.msg).includes('bad frame'))).toHaveLength(bad.length);
    expect(rec.lines.filter((l) => l.level === 'warn' && String(l.msg).includes('bad frame'))).toHaveLength(1);
    expect((await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_ONLINE);
  });

  it('a frame over maxFrameBytes closes the socket with 1009', async () => {
    const s = await start({ gateway: { maxFrameBytes: 1000 } });
    const c = await connect(s);
    await wireLogin(c, 'alice');
    c.raw(Buffer.alloc(1001, 0x20));
    expect((await c.closed).code).toBe(1009);
  });

  it('before login a frame over maxPreLoginFrameBytes (64 KiB) closes the socket with 1009 naming it; after login the larger bound holds', async () => {
    const rec = recordingLogger();
    const s = await start({ gateway: { logger: rec.logger } });
    const anon = await connect(s);
    anon.raw(Buffer.alloc(64 * 1024 + 1, 0x20));
    const closed = await anon.closed;
    expect(closed.code).toBe(1009);
    expect(closed.reason).toContain('maxPreLoginFrameBytes (65536 bytes)');
    expect(rec.lines.some((l) => l.level === 'warn' && (l.obj as { limitName?: string }).limitName === 'maxPreLoginFrameBytes')).toBe(true);
    // One just at the bound is read (a bad frame, dropped), and the socket can still log in.
    const c = await connect(s);
    c.raw(Buffer.alloc(64 * 1024, 0x20));
    await wireLogin(c, 'alice');
    // Logged in: a 100 KiB frame is under maxFrameBytes (1 MiB) and is read, not cut.
    c.raw(Buffer.alloc(100 * 1024, 0x20));
    expect((await c.request('recentcontact.page_get')).body).toMatchObject({ CompleteFlag: 1 });
    expect((await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_ONLINE);
  });
});

describe('the gateway\'s own lifecycle', () => {
  it('close() closes every socket, but a shutdown is not a drop: the devices stay as they were', async () => {
    const s = await start();
    const c = await connect(s);
    await wireLogin(c, 'alice');
    await s.gateway.close();
    expect((await c.closed).code).toBe(1001);
    expect((await statusOf(s, 'alice')).statusType).toBe(TYPES.USER_STATUS_ONLINE);
  });

  it('DEV-1 after a restart with the same sessionKeySecret the SDK\'s relogin resumes its device; other keys are refused', async () => {
    const s = await start({ gateway: { sessionKeySecret: 'kept-secret' } });
    const c1 = await connect(s);
    const keys = await wireLogin(c1, 'alice');
    const c2 = await connect(s);
    const out = await wireLogin(c2, 'bob');
    await c2.request('im_open_status.wslogout', { wslogout_type: 0 });
    const device = (await statusOf(s, 'alice')).devices![0]!.deviceId;
    await s.gateway.close();
    // A new gateway over the same engine: the restarted server.
    const { createTimGateway } = await import('../../src/server/timGateway');
    const { testVerifier } = await import('./harness');
    const relogin = async (secret: string, k: Record<string, any>) => {
      const gw = createTimGateway({ core: s.core, verifyUserSig: testVerifier, sdkAppId: SDK_APP_ID, sessionKeySecret: secret });
      s.gateway = gw;
      const c = await connect(s);
      return (await c.request('im_open_status.wslogin', {}, { a2: k.A2Key, tinyid: k.TinyId })).body;
    };
    expect((await relogin('another-secret', keys)).ErrorCode).toBe(70001);
    const r = await relogin('kept-secret', keys);
    expect(r).toMatchObject({ A2Key: keys.A2Key, TinyId: keys.TinyId, InstId: keys.InstId, DeviceId: device });
    expect((await statusOf(s, 'alice')).devices!.map((d) => d.deviceId)).toEqual([device]);
    // bob logged out before the restart: his key names a device the engine no longer has.
    expect((await relogin('kept-secret', out)).ErrorCode).toBe(70001);
    // A key whose claims were altered fails its signature.
    const [payload, mac] = (keys.A2Key as string).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    claims[1] = 'bob';
    const forged = `${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${mac}`;
    expect((await relogin('kept-secret', { A2Key: forged, TinyId: keys.TinyId })).ErrorCode).toBe(70001);
  });

  it('a verifier may refuse with any StatusError code, which reaches the SDK as is', async () => {
    const s = await start({
      gateway: {
        verifyUserSig: (id) => {
          throw new StatusError(70001, `the UserSig of ${id} has expired`);
        },
      },
    });
    const body = await wireLogin(await connect(s), 'alice', testUserSig('alice'));
    expect(body).toEqual({ ErrorCode: 70001, ErrorInfo: 'the UserSig of alice has expired' });
  });
});
