// Issue 9 #5: no unauthenticated connection is held for ever. WebSockets on /ws, /binfo and /info that never
// log in are closed at their login deadline however often they ping (on the server's simulated clock);
// HTTP requests whose headers or body trickle in are ended by node's header and request timeouts (real
// time: node's HTTP server reads no injected clock, so these wait for the server's close, with short limits).
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CMD } from '../../src/protocol/tim/wire';
import { hubClient, rawSocket, startInProcess, timClient, type TestServer } from './wire';

let s: TestServer | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('WebSocket login deadlines, whatever the socket sends', () => {
  it('/ws: a socket that pings but never logs in is closed (4008) at 3 heartbeats; a logged-in one is not', async () => {
    s = await startInProcess({ heartbeatMs: 10_000 });
    await s.rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice'] });
    const anon = await hubClient(s);
    const alice = await hubClient(s);
    expect((await alice.login('alice')).ok).toBe(true);
    for (let t = 0; t < 29; t++) {
      expect((await anon.call('ping')).ok).toBe(true);
      expect((await alice.call('ping')).ok).toBe(true);
      s.clock.advance(1000);
    }
    await anon.call('ping');
    s.clock.advance(1000);
    expect((await anon.closed).code).toBe(4008);
    for (let t = 0; t < 60; t++) {
      expect((await alice.call('ping')).ok).toBe(true);
      s.clock.advance(1000);
    }
    expect(alice.isClosed()).toBe(false);
    alice.ws.terminate();
  });

  it('/binfo and /info: a socket that sends heartbeats but never logs in is closed (4003) at two hello intervals', async () => {
    s = await startInProcess();
    const binfo = await timClient(s, '/binfo');
    const info = await timClient(s, '/info');
    for (let t = 0; t < 59; t++) {
      for (const c of [binfo, info]) expect((await c.request(CMD.ALIVE)).body).toEqual({});
      s.clock.advance(1000);
    }
    expect(binfo.isClosed() || info.isClosed()).toBe(false);
    s.clock.advance(1000);
    expect((await binfo.closed).code).toBe(4003);
    expect((await info.closed).code).toBe(4003);
  });
});

/** Opens a raw TCP connection, writes `first`, then `drip` every `everyMs` until the server closes it. */
function trickle(port: number, first: string, drip: string, everyMs: number): Promise<{ reply: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(first));
    let reply = '';
    const timer = setInterval(() => {
      if (!sock.destroyed) sock.write(drip);
    }, everyMs);
    sock.on('data', (d) => (reply += d.toString('latin1')));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearInterval(timer);
      resolve({ reply, ms: Date.now() - started });
    });
    setTimeout(() => {
      clearInterval(timer);
      sock.destroy();
      reject(new Error('the server held the trickling connection for 10 s'));
    }, 10_000).unref();
  });
}

describe('HTTP header and request timeouts', () => {
  it('headers trickled one byte at a time are cut at headersTimeoutMs', async () => {
    s = await startInProcess({ headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckMs: 50 });
    const port = Number(new URL(s.url).port);
    const r = await trickle(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n', 'X', 50);
    expect(r.ms).toBeLessThan(5000);
    expect(r.reply.startsWith('HTTP/1.1 408') || r.reply === '').toBe(true);
    expect((await s.health()).status).toBe('ok');
  });

  it('a body trickled without credentials is cut at requestTimeoutMs', async () => {
    s = await startInProcess({ headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckMs: 50 });
    const port = Number(new URL(s.url).port);
    const r = await trickle(port, 'POST /v4/openim/query_online_status HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{', ' ', 50);
    expect(r.ms).toBeLessThan(5000);
    expect((await s.health()).status).toBe('ok');
  });

  it('an upgrade whose headers never end is cut too', async () => {
    s = await startInProcess({ headersTimeoutMs: 300, requestTimeoutMs: 600, timeoutCheckMs: 50 });
    const port = Number(new URL(s.url).port);
    const r = await trickle(port, 'GET /ws?v=1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n', 'X', 50);
    expect(r.ms).toBeLessThan(5000);
    // A complete upgrade still works afterwards.
    const raw = await rawSocket(`${s.ws}/ws?v=1`);
    expect((await raw.next()).t).toBe('hello');
    raw.ws.terminate();
  });
});
