// Red team: many addresses, each under its own cap of sockets not logged in, could still take every file
// descriptor together (session 10 left it). Now the sockets not logged in from all addresses together are
// capped too (`--pending-total`, half the process's file limit by default): one more upgrade is refused with
// HTTP 503 and a body naming the limit, unless the oldest socket not logged in has been open 10 s (an honest
// login takes far less): that one is closed to make room (so a flood must keep re-opening its sockets to keep
// newcomers out); logged-in sockets are not counted and go on; a socket that logs in or closes makes room.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_PENDING_LIMITS, PendingLogins, defaultPendingTotal } from '../../../src/server/requestBudget';
import { SDK_APP_ID, startServerProcess } from '../proc';
import { hubClient, startInProcess, timClient, type TestServer } from '../wire';
import { upgrade, cliRefusal } from './upgrade';

let s: TestServer | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});


describe('sockets not logged in, all addresses together', () => {
  it('at the total an upgrade is refused (503, the limit named) on every path, loopback too; logged-in sockets go on; a login or a close makes room', async () => {
    // Loopback is exempt from the per-address cap (the default), not from the total: a descriptor is a descriptor.
    s = await startInProcess({ pendingLogins: { perAddress: 256, exempt: ['127.0.0.0/8'], total: 3 } });
    await s.rest('im_open_login_svc/account_import', { UserID: 'alice' });
    await s.rest('im_open_login_svc/account_import', { UserID: 'bob' });
    const alice = await hubClient(s);
    const bob = await timClient(s);
    const idle = await upgrade(`${s.ws}/ws?v=1`);
    expect(idle.status).toBe(101);

    for (const path of ['/ws?v=1', `/binfo?sdkappid=${SDK_APP_ID}&platform=7`, `/info?sdkappid=${SDK_APP_ID}&platform=7`]) {
      const refused = await upgrade(`${s.ws}${path}`);
      expect(refused.status).toBe(503);
      expect(refused.retryAfter).toBe('5');
      expect(refused.body).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 2996, limit: 3, limitName: 'pendingLogins.total' });
      expect(refused.body.ErrorInfo).toMatch(/at most 3 from all addresses \(pendingLogins\.total\)/);
    }
    const warned = s.lines.filter((l) => l.msg === 'upgrades refused: too many sockets not logged in on this server');
    expect(warned).toHaveLength(1); // one line per 10 s, not one per refusal

    // Two log in: they leave the count (at the next look, at most every 100 ms of the server's clock).
    expect((await alice.login('alice')).ok).toBe(true);
    expect((await bob.login('bob')).body.ErrorCode ?? 0).toBe(0);
    s.clock.advance(100);
    const a = await upgrade(`${s.ws}/ws?v=1`);
    const b = await upgrade(`${s.ws}/ws?v=1`);
    expect([a.status, b.status]).toEqual([101, 101]);
    expect((await upgrade(`${s.ws}/ws?v=1`)).status).toBe(503);

    // Logged-in sockets were never refused nor cut.
    expect((await alice.call('setSelfStatus', { customStatus: 'still here' })).ok).toBe(true);

    // A close makes room at once (its socket leaves the count when it closes).
    const closed = new Promise((r) => idle.ws!.once('close', r));
    idle.ws!.close();
    await closed;
    const again = await upgrade(`${s.ws}/ws?v=1`);
    expect(again.status).toBe(101);

    // Full again (a, b, again). 10 s later the oldest not logged in (a) is closed for a newcomer, then b; again
    // and the newcomers are younger than 10 s: the next is refused.
    expect((await upgrade(`${s.ws}/ws?v=1`)).status).toBe(503);
    s.clock.advance(9_999);
    expect((await upgrade(`${s.ws}/ws?v=1`)).status).toBe(503);
    s.clock.advance(1); // a and b are 10 s old now (again too: opened at the same simulated instant)
    const aGone = new Promise((r) => a.ws!.once('close', r));
    const newcomer = await upgrade(`${s.ws}/binfo?sdkappid=${SDK_APP_ID}&platform=7`);
    expect(newcomer.status).toBe(101);
    await aGone; // terminated: its descriptor is the newcomer's
    expect(b.ws!.readyState).toBe(WebSocket.OPEN);
    expect(s.lines.some((l) => l.msg === 'sockets not logged in closed to make room: this server is at its total')).toBe(true);
    for (const u of [b, again, newcomer]) u.ws?.terminate();
    bob.ws.terminate();
  });
});

/** An upgrade request written by hand (a bad key or method ws itself would refuse): the status line's code. */
function rawUpgrade(base: string, path: string, headers: Record<string, string>, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', ...headers } });
    req.on('response', (res) => resolve(res.statusCode ?? 0));
    req.on('upgrade', (res, socket) => (socket.destroy(), resolve(res.statusCode ?? 0)));
    req.on('error', reject);
    req.end();
  });
}

describe('sockets not logged in, at the total: what gets no socket takes no room', () => {
  it('an upgrade to an unknown path or with a handshake ws refuses is answered (404/400/405) and closes no old socket; a real one does', async () => {
    s = await startInProcess({ pendingLogins: { perAddress: 256, exempt: ['127.0.0.0/8'], total: 1 } });
    const old = await upgrade(`${s.ws}/ws?v=1`);
    expect(old.status).toBe(101);
    s.clock.advance(10_000); // old enough to be closed for a newcomer
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    expect(await rawUpgrade(s.url, '/nope', { 'Sec-WebSocket-Key': key })).toBe(404);
    expect(await rawUpgrade(s.url, '/ws?v=1', { 'Sec-WebSocket-Key': 'short' })).toBe(400);
    expect(await rawUpgrade(s.url, '/ws?v=1', { 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '12' })).toBe(400);
    expect(await rawUpgrade(s.url, '/ws?v=1', { 'Sec-WebSocket-Key': key }, 'POST')).toBe(405);
    expect(old.ws!.readyState).toBe(WebSocket.OPEN);
    expect(s.lines.some((l) => l.msg === 'sockets not logged in closed to make room: this server is at its total')).toBe(false);
    // A handshake that gets its socket takes the old one's room.
    const gone = new Promise((r) => old.ws!.once('close', r));
    const newcomer = await upgrade(`${s.ws}/ws?v=1`);
    expect(newcomer.status).toBe(101);
    await gone;
    newcomer.ws!.terminate();
  });
});

describe('PendingLogins total (pure)', () => {
  it('counts every socket against the total (exempt ones too), refuses at it, and looks for logged-in ones at most every 100 ms', () => {
    const p = new PendingLogins({ perAddress: 2, exempt: ['127.0.0.0/8'], total: 3 });
    let loggedIn = false;
    p.track('10.0.0.2', () => false);
    p.track('10.0.0.1', () => loggedIn);
    const releaseLocal = p.track('127.0.0.1', () => false);
    expect(p.totalSize).toBe(3);
    expect(p.size).toBe(2); // the loopback one is in the total only
    expect(p.check('10.0.0.3', 0)).toMatchObject({ code: 2996, limit: 3, limitName: 'pendingLogins.total', retryAfterMs: 5000 });
    loggedIn = true;
    expect(p.check('10.0.0.3', 50)).toMatchObject({ limitName: 'pendingLogins.total' }); // within 100 ms of the last look
    expect(p.check('10.0.0.3', 100)).toBeNull(); // looked again: the logged-in one left
    expect(p.totalSize).toBe(2);
    releaseLocal();
    expect(p.totalSize).toBe(1);
    // The address's own cap is named first.
    p.track('10.0.0.2', () => false);
    p.track('10.0.0.4', () => false);
    expect(p.check('10.0.0.2', 200)).toMatchObject({ limitName: 'pendingLogins.perAddress' });
    // At the total the oldest past evictAfterMs is closed to make room, oldest first; younger ones never.
    const q = new PendingLogins({ perAddress: 0, exempt: [], total: 2, evictAfterMs: 1000 });
    const closed: string[] = [];
    q.track('10.0.0.1', () => false, { now: 0, evict: () => closed.push('first') });
    q.track('10.0.0.2', () => false, { now: 500, evict: () => closed.push('second') });
    expect(q.check('10.0.0.3', 999)).toMatchObject({ limitName: 'pendingLogins.total' });
    expect(q.check('10.0.0.3', 1000)).toBeNull();
    expect(closed).toEqual(['first']);
    q.track('10.0.0.3', () => false, { now: 1000, evict: () => closed.push('third') });
    expect(q.check('10.0.0.4', 1499)).toMatchObject({ limitName: 'pendingLogins.total' });
    expect(q.check('10.0.0.4', 1500)).toBeNull();
    expect(closed).toEqual(['first', 'second']);
    expect(q.evicted).toBe(2);
    // evictAfterMs 0: never closes one.
    const never = new PendingLogins({ perAddress: 0, exempt: [], total: 1, evictAfterMs: 0 });
    never.track('10.0.0.1', () => false, { now: 0, evict: () => closed.push('never') });
    expect(never.check('10.0.0.2', 1e9)).toMatchObject({ limitName: 'pendingLogins.total' });
    expect(closed).not.toContain('never');
    // No total, or 0: never refused for it.
    const none = new PendingLogins({ perAddress: 0, exempt: [], total: 0 });
    for (let i = 0; i < 1000; i++) none.track(`10.1.${i >> 8}.${i & 255}`, () => false);
    expect(none.check('10.9.9.9', 0)).toBeNull();
  });

  it('the default is half the file limit (4,096 when it cannot be read), at least 64', () => {
    expect(defaultPendingTotal(20_000)).toBe(10_000);
    expect(defaultPendingTotal(null)).toBe(4096);
    expect(defaultPendingTotal(Infinity)).toBe(4096);
    expect(defaultPendingTotal(40)).toBe(64);
    expect(DEFAULT_PENDING_LIMITS.total).toBeGreaterThanOrEqual(64);
  });
});

describe('serve --pending-total', () => {
  it('sets the total of the real server; a bad value is refused at start naming the flag', async () => {
    const proc = await startServerProcess(['--pending-total', '1', '--store', 'memory']);
    try {
      const ws = proc.url.replace('http', 'ws');
      const first = await upgrade(`${ws}/ws?v=1`);
      expect(first.status).toBe(101);
      expect(await upgrade(`${ws}/ws?v=1`)).toMatchObject({ status: 503, body: { ErrorCode: 2996, limit: 1, limitName: 'pendingLogins.total' } });
      first.ws!.terminate();
    } finally {
      await proc.stop();
    }
    const { code, err } = await cliRefusal(['serve', '--pending-total', 'lots']);
    expect(code).toBe(1);
    expect(err).toMatch(/--pending-total must be a whole number/);
  });
});
