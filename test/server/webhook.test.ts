// EXT-8: state changes posted to a callback URL as State.StateChange, signed, retried with exponential
// backoff on the server's clock, never holding up status delivery; and the queue's bound.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteClient } from '../../src/client/remote';
import { EVENT, type UserStatus } from '../../src/index';
import { ManualClock } from '../../src/server/clock';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, DELIVERY_HEADER, Webhook, callbackOf, signature, type StateChangeCallback } from '../../src/server/webhook';
import { SDK_APP_ID, sig, startServerProcess, until, type ServerProcess } from './proc';

interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A callback receiver that answers 500 to its first `failures` requests. */
async function receiver(failures: number): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      got.push({ url: req.url ?? '', headers: req.headers, body });
      res.statusCode = n++ < failures ? 500 : 200;
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, got };
}

const SECRET = 'webhook-secret';

describe('EXT-8 webhook on the server process', () => {
  let server: ServerProcess;
  let rx: Awaited<ReturnType<typeof receiver>>;
  const clients: RemoteClient[] = [];

  beforeAll(async () => {
    rx = await receiver(2);
    server = await startServerProcess(['--clock', 'simulated', '--store', 'memory', '--switch', 'userStatus=on', '--webhook', rx.url, '--webhook-secret', SECRET]);
    await server.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob'] });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.destroy()));
    await server.stop();
    rx.server.close();
  });

  const backingOff = () => until(async () => (await server.health()).webhook.backingOff === true, 'the webhook to back off');

  it('EXT-8 a failing callback is retried with exponential backoff (1 s, 2 s) in order, signed, and never holds up status delivery', async () => {
    const bob = new RemoteClient({ url: server.url, reconnect: false });
    const alice = new RemoteClient({ url: server.url, reconnect: false });
    clients.push(bob, alice);
    const bobHeard: UserStatus[] = [];
    bob.on(EVENT.USER_STATUS_UPDATED, (e) => bobHeard.push(...(e.data as UserStatus[])));
    await bob.login({ userID: 'bob', userSig: sig('bob') });
    await until(() => rx.got.length === 1, 'the first attempt');
    await backingOff();
    await bob.subscribeUserStatus({ userIDList: ['alice'] });
    // While the callback is failing, status delivery goes on.
    await alice.login({ userID: 'alice', userSig: sig('alice') });
    await bob.sync();
    expect(bobHeard.filter((s) => s.userID === 'alice')).toMatchObject([{ userID: 'alice', statusType: 1 }]);
    expect(rx.got).toHaveLength(1);

    expect((await server.rest('test/advance', { Ms: 999 })).ActionStatus).toBe('OK');
    expect((await server.health()).webhook.backingOff).toBe(true);
    expect(rx.got).toHaveLength(1);
    await server.rest('test/advance', { Ms: 1 });
    await until(() => rx.got.length === 2, 'the second attempt');
    await backingOff();
    await server.rest('test/advance', { Ms: 1999 });
    expect(rx.got).toHaveLength(2);
    await server.rest('test/advance', { Ms: 1 });
    // The third attempt of bob's login succeeds, then alice's login follows at once.
    await until(() => rx.got.length === 4, 'the third attempt and the next event');

    const bodies = rx.got.map((r) => JSON.parse(r.body) as StateChangeCallback);
    expect(bodies.map((b) => [b.Info.To_Account, b.Info.Action, b.Info.Reason])).toEqual([
      ['bob', 'Login', 'Register'],
      ['bob', 'Login', 'Register'],
      ['bob', 'Login', 'Register'],
      ['alice', 'Login', 'Register'],
    ]);
    expect(bodies[0]).toMatchObject({ CallbackCommand: 'State.StateChange', KickedDevice: [], StatusEngine: { statusType: 1, reason: 'login' } });
    expect(typeof bodies[0]!.EventTime).toBe('number');
    // Retries are the same event: same body, same delivery id.
    expect(new Set(rx.got.slice(0, 3).map((r) => r.body)).size).toBe(1);
    expect(new Set(rx.got.slice(0, 3).map((r) => r.headers[DELIVERY_HEADER])).size).toBe(1);
    for (const r of rx.got) {
      const ts = r.headers[TIMESTAMP_HEADER] as string;
      expect(r.headers[SIGNATURE_HEADER]).toBe(`sha256=${signature(SECRET, ts, r.body)}`);
      const q = new URL(r.url, 'http://x').searchParams;
      expect([q.get('SdkAppid'), q.get('CallbackCommand'), q.get('contenttype')]).toEqual([String(SDK_APP_ID), 'State.StateChange', 'json']);
    }
    expect((await server.health()).webhook).toMatchObject({ delivered: 2, failedAttempts: 2, dropped: 0, queued: 0 });
  });

  it('EXT-8 logout is Logout/Unregister; a dropped connection is Disconnect/LinkClose; a custom status alone posts nothing', async () => {
    const before = rx.got.length;
    const alice = clients[1]!;
    await alice.setSelfStatus({ customStatus: 'no callback for this' });
    await alice.logout();
    await until(() => rx.got.length === before + 1, 'the logout callback');
    await server.rest('test/drop', { To_Account: 'bob' });
    await until(() => rx.got.length === before + 2, 'the drop callback');
    const last = rx.got.slice(before).map((r) => (JSON.parse(r.body) as StateChangeCallback).Info);
    expect(last).toEqual([
      { Action: 'Logout', To_Account: 'alice', Reason: 'Unregister' },
      { Action: 'Disconnect', To_Account: 'bob', Reason: 'LinkClose' },
    ]);
  });
});

describe('EXT-8 webhook queue', () => {
  function capture() {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    });
    return { logger: pino({ level: 'warn' }, stream), lines };
  }
  const event = (userID: string, seq: number): StateChangeCallback => ({
    CallbackCommand: 'State.StateChange',
    EventTime: 0,
    Info: { Action: 'Login', To_Account: userID, Reason: 'Register' },
    KickedDevice: [],
    StatusEngine: { statusType: 1, customStatus: '', version: 1, reason: 'login', seq, devices: 1 },
  });

  it('EXT-8 a full queue drops the newest event with a clear log line; an event is dropped after its last attempt', async () => {
    const rx = await receiver(Number.MAX_SAFE_INTEGER);
    const clock = new ManualClock(0);
    const { logger, lines } = capture();
    const hook = new Webhook({ url: rx.url, sdkAppId: 1, clock, logger, maxQueue: 2, maxAttempts: 2, baseDelayMs: 100 });
    for (let i = 1; i <= 4; i++) hook.enqueue(event(`u${i}`, i));
    expect(hook.stats()).toMatchObject({ queued: 2, dropped: 2 });
    expect(lines.filter((l) => l.msg === 'webhook queue full: event dropped').map((l) => l.userID)).toEqual(['u3', 'u4']);
    await until(() => hook.stats().backingOff, 'the first failure');
    clock.advance(100);
    await until(() => hook.stats().dropped === 3, 'u1 given up');
    expect(lines.some((l) => l.msg === 'webhook gave up on an event after its last attempt: dropped' && l.userID === 'u1')).toBe(true);
    await until(() => hook.stats().backingOff, 'u2 failing');
    expect(rx.got.map((r) => (JSON.parse(r.body) as StateChangeCallback).Info.To_Account)).toEqual(['u1', 'u1', 'u2']);
    hook.close();
    rx.server.close();
  });

  it('EXT-8 one callback per device step, with Tencent\'s actions and reasons; other steps post nothing', () => {
    const t = (event: string, reason: string, devices = 1) =>
      callbackOf({ seq: 1, at: 5, kind: 'transition', cause: 1, machine: 'userStatus', userID: 'u', event, reason: reason as never, from: '', to: '', before: { statusType: 3, customStatus: '' }, after: { statusType: 1, customStatus: '' }, version: 2, devices })?.Info;
    expect(t('DEVICE.LOGIN', 'login')).toEqual({ Action: 'Login', To_Account: 'u', Reason: 'Register' });
    expect(t('DEVICE.LOGIN', 'login', 2)).toEqual({ Action: 'Login', To_Account: 'u', Reason: 'Register' });
    expect(t('DEVICE.RECONNECT', 'reconnect')).toEqual({ Action: 'Login', To_Account: 'u', Reason: 'Register' });
    expect(t('DEVICE.FOREGROUND', 'foreground')).toEqual({ Action: 'Login', To_Account: 'u', Reason: 'Register' });
    expect(t('DEVICE.LOGOUT', 'logout')).toEqual({ Action: 'Logout', To_Account: 'u', Reason: 'Unregister' });
    expect(t('DEVICE.DISCONNECT', 'link_closed')).toEqual({ Action: 'Disconnect', To_Account: 'u', Reason: 'LinkClose' });
    expect(t('DEVICE.DISCONNECT', 'heartbeat_timeout')).toEqual({ Action: 'Disconnect', To_Account: 'u', Reason: 'TimeOut' });
    expect(t('DEVICE.BACKGROUND', 'background')).toEqual({ Action: 'Disconnect', To_Account: 'u', Reason: 'Background' });
    expect(t('STATUS.SET', 'custom_status_set')).toBeUndefined();
    expect(t('VISIBILITY.SET', 'visibility_changed')).toBeUndefined();
    const kicked = callbackOf(
      { seq: 2, at: 5, kind: 'transition', cause: 1, machine: 'userStatus', userID: 'u', event: 'DEVICE.LOGIN', reason: 'kicked', from: '', to: '', before: { statusType: 1, customStatus: '' }, after: { statusType: 1, customStatus: '' }, version: 2, devices: 3 },
      { type: 'device.login', userID: 'u', deviceId: 'd4', platform: 'ios' },
    );
    expect(kicked?.KickedDevice).toEqual([{ Platform: 'iPhone' }]);
    expect(kicked?.StatusEngine).toMatchObject({ deviceId: 'd4', platform: 'ios', devices: 3 });
  });
});
