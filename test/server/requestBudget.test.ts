// No client can make the server spin: the per-connection request budget (src/server/requestBudget.ts) as a
// pure token bucket, and a looping client on both socket front-ends (the /ws hub and the Web SDK gateway)
// refused with 2996 and one log line, then cut off (1008). Time is a SimulatedClock: it stands still unless
// a test moves it, so the bucket refills only when told.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { SimulatedClock } from 'xstate';
import { createEngine, ErrorCode, TYPES, type Engine } from '../../src/index';
import { coreOf } from '../../src/engine/engine';
import { ClientHub, CloseCode } from '../../src/server/hub';
import { BYTES_PER_REQUEST, DEFAULT_REQUEST_BUDGET, RequestBudget, requestCost, checkBudgetLimits, newBudget, spend, type RequestBudgetLimits } from '../../src/server/requestBudget';
import { recordingLogger, startTestServer, wireClient, wireLogin, type TestServer } from '../sdk/harness';

const LIMITS: RequestBudgetLimits = { burst: 10, ratePerSec: 5, closeAfterRefusals: 20 };

describe('the request budget (pure)', () => {
  it('serves a burst, then refuses with 2996 naming the budget and when to retry; the first refusal of an episode is flagged', () => {
    let s = newBudget(LIMITS, 0);
    const kinds: string[] = [];
    let firstRefusal: ReturnType<typeof spend>['verdict'] | undefined;
    for (let i = 0; i < 12; i++) {
      const r = spend(s, 0, LIMITS);
      s = r.state;
      kinds.push(r.verdict.kind);
      if (r.verdict.kind === 'refuse' && !firstRefusal) firstRefusal = r.verdict;
    }
    expect(kinds).toEqual([...Array(10).fill('serve'), 'refuse', 'refuse']);
    expect(firstRefusal).toMatchObject({ kind: 'refuse', first: true });
    if (firstRefusal?.kind !== 'refuse') throw new Error('unreachable');
    expect(firstRefusal.error.code).toBe(ErrorCode.RATE_LIMITED);
    expect(firstRefusal.error.limitName).toBe('requestBudget.ratePerSec');
    expect(firstRefusal.error.retryAfterMs).toBe(200); // one token at 5 a second
    expect(firstRefusal.error.message).toMatch(/at most 10 requests at once and 5 per second/);
    const second = spend(s, 0, LIMITS).verdict;
    expect(second).toMatchObject({ kind: 'refuse', first: false });
  });

  it('a frame costs one request per whole 16 KiB it is read as: a large one is served, and the next waits until the refill paid its debt', () => {
    expect([requestCost(0), requestCost(BYTES_PER_REQUEST - 1), requestCost(BYTES_PER_REQUEST), requestCost(1024 * 1024)]).toEqual([1, 1, 2, 65]);
    const now = { t: 0 };
    const b = new RequestBudget(LIMITS, () => now.t);
    expect(b.take(1024 * 1024).kind).toBe('serve'); // 10 tokens, 65 charged: 55 owed
    expect(b.take(10).kind).toBe('refuse');
    now.t = 11_000; // 55 tokens back at 5 a second; the refusal above took none
    expect(b.take(10).kind).toBe('refuse');
    now.t = 11_400;
    expect(b.take(10).kind).toBe('serve');
    // A compressed frame charged by its size on the wire owes the rest once it is inflated.
    const c = new RequestBudget(LIMITS, () => 0);
    expect(c.take(100).kind).toBe('serve');
    c.owe(100, 9 * BYTES_PER_REQUEST); // 9 more: 0 left
    expect(c.take(10).kind).toBe('refuse');
    const d = new RequestBudget(LIMITS, () => 0);
    d.take(100);
    d.owe(100, 100); // no larger once read: nothing owed
    for (let i = 0; i < 9; i++) expect(d.take(10).kind).toBe('serve');
  });

  it('a client that keeps on is closed after closeAfterRefusals refusals, even though the refill serves one now and then', () => {
    let s = newBudget(LIMITS, 0);
    const kinds: string[] = [];
    // A loop at 1,000 requests a second: the refill (5/s) serves one in 200 and does not end the episode.
    for (let t = 0; kinds.at(-1) !== 'close' && t < 10_000; t++) {
      const r = spend(s, t, LIMITS);
      s = r.state;
      kinds.push(r.verdict.kind);
    }
    expect(kinds.at(-1)).toBe('close');
    expect(kinds.filter((k) => k === 'refuse')).toHaveLength(LIMITS.closeAfterRefusals);
    expect(kinds.length).toBeLessThan(40); // cut off within 40 ms of its start
  });

  it('the episode ends once the client was quiet long enough to fill the bucket; honest rates are never refused', () => {
    let s = newBudget(LIMITS, 0);
    for (let i = 0; i < 15; i++) s = spend(s, 0, LIMITS).state; // 5 refusals
    expect(s.refusals).toBe(5);
    const afterQuiet = spend(s, 2000, LIMITS); // 2 s x 5/s = the whole bucket back
    expect(afterQuiet.verdict.kind).toBe('serve');
    expect(afterQuiet.state.refusals).toBe(0);
    // 5 a second for a minute, at the rate: never refused.
    let h = newBudget(LIMITS, 0);
    for (let t = 0; t < 60_000; t += 200) {
      const r = spend(h, t, LIMITS);
      expect(r.verdict.kind).toBe('serve');
      h = r.state;
    }
  });

  it('a clock that steps back refills nothing; bad limits are refused at startup with 6017 naming the field', () => {
    let s = newBudget(LIMITS, 10_000);
    for (let i = 0; i < 10; i++) s = spend(s, 10_000, LIMITS).state;
    expect(spend(s, 0, LIMITS).verdict.kind).toBe('refuse');
    expect(() => checkBudgetLimits({ ...LIMITS, ratePerSec: 0 })).toThrow(/requestBudget\.ratePerSec/);
    expect(() => checkBudgetLimits({ ...LIMITS, burst: Number.NaN })).toThrow(/requestBudget\.burst/);
    expect(() => checkBudgetLimits({ ...LIMITS, burst: 0.5 })).toThrow(/requestBudget\.burst/);
    expect(checkBudgetLimits(DEFAULT_REQUEST_BUDGET)).toBe(DEFAULT_REQUEST_BUDGET);
  });

  it('RequestBudget reads the injected clock', () => {
    const clock = new SimulatedClock();
    const b = new RequestBudget(LIMITS, () => clock.now());
    for (let i = 0; i < 10; i++) expect(b.take().kind).toBe('serve');
    expect(b.take().kind).toBe('refuse');
    clock.increment(200);
    expect(b.take().kind).toBe('serve');
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('a looping client on the Web SDK gateway', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('is answered until its budget is spent, then 2996 unserved with one log line, then closed (1008); its device is gone', async () => {
    const rec = recordingLogger();
    server = await startTestServer({ gateway: { logger: rec.logger, requestBudget: LIMITS } });
    const c = await wireClient(server.url);
    await wireLogin(c, 'alice'); // 1 request
    const replies: Array<Record<string, any>> = [];
    c.ws.on('message', (d: Buffer) => replies.push(JSON.parse(d.toString('utf8'))));
    // A loop, as 3.x's block-list paging was: it does not wait for answers.
    for (let i = 0; i < 200; i++) c.raw(Buffer.from(JSON.stringify({ head: { servcmd: 'sns.black_list_get', seq: i + 1 }, body: {} })));
    const closed = await c.closed;
    expect(closed).toEqual({ code: 1008, reason: 'request budget exceeded' });
    const answers = replies.filter((r) => r.head?.servcmd === 'sns.black_list_get');
    expect(answers.slice(0, 9).every((r) => r.body.ErrorCode === undefined)).toBe(true); // the rest of the burst
    const refused = answers.filter((r) => r.body.ErrorCode === ErrorCode.RATE_LIMITED);
    expect(refused).toHaveLength(LIMITS.closeAfterRefusals);
    expect(refused[0]!.body.ErrorInfo).toMatch(/request budget of this connection exceeded/);
    expect(answers).toHaveLength(9 + LIMITS.closeAfterRefusals); // nothing after the close
    const warns = rec.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(warns).toEqual(['tim gateway: client over its request budget, refusing', 'tim gateway: client kept on over its request budget, closing']);
    await expect.poll(async () => (await server!.engine.queryStatus(['alice']))[0]!.statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
  });

  it('an SDK that only bursts is served again once the clock has refilled its bucket', async () => {
    server = await startTestServer({ gateway: { requestBudget: LIMITS } });
    const c = await wireClient(server.url);
    await wireLogin(c, 'alice');
    for (let i = 0; i < 9; i++) expect((await c.request('heartbeat.alive')).body).toEqual({});
    expect((await c.request('heartbeat.alive')).body.ErrorCode).toBe(ErrorCode.RATE_LIMITED);
    server.clock!.increment(2000);
    expect((await c.request('im_open_status.ws_set_custom_status', { CustomStatus: 'back' })).body).toEqual({});
    expect((await server.engine.queryStatus(['alice']))[0]!.customStatus).toBe('back');
  });
});

describe('a looping client on the /ws hub', () => {
  let closeAll: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await closeAll?.();
    closeAll = undefined;
  });

  async function startHub(limits: RequestBudgetLimits) {
    const clock = new SimulatedClock();
    const engine: Engine = createEngine({ clock, switches: { userStatus: true } });
    await engine.registerUsers(['alice']);
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(JSON.parse(String(chunk)));
          done();
        },
      }),
    );
    const hub = new ClientHub({
      core: coreOf(engine),
      clock,
      logger,
      sdkAppId: 1400000001,
      verifyUserSig: (userID) => userID,
      heartbeatMs: 30_000,
      maxFrameBytes: 64 * 1024,
      retentionMs: 60_000,
      requestBudget: limits,
    });
    const wss = new WebSocketServer({ noServer: true });
    const http: Server = createServer();
    http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => hub.accept(ws, req)));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    closeAll = async () => {
      await hub.close(100);
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await engine.close();
    };
    return { url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws?v=1`, lines };
  }

  it('an unauthenticated socket that loops is refused with 2996 (ids kept), logged once, and cut (1008)', async () => {
    const { url, lines } = await startHub(LIMITS);
    const ws = new WebSocket(url);
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve) => ws.once('open', resolve));
    for (let i = 0; i < 200; i++) ws.send(JSON.stringify({ id: i, op: 'ping' }));
    expect(await closed).toBe(CloseCode.OVER_BUDGET);
    const res = frames.filter((f) => f.t === 'res');
    expect(res.slice(0, LIMITS.burst).map((f) => f.id)).toEqual([...Array(LIMITS.burst).keys()]);
    const refused = res.filter((f) => f.ok === false && f.error.code === ErrorCode.RATE_LIMITED);
    expect(refused).toHaveLength(LIMITS.closeAfterRefusals);
    expect(refused[0]).toMatchObject({ id: LIMITS.burst, error: { limitName: 'requestBudget.ratePerSec', retryAfterMs: 200 } });
    expect(res).toHaveLength(LIMITS.burst + LIMITS.closeAfterRefusals);
    const warns = lines.filter((l) => l.level === 40).map((l) => l.msg);
    expect(warns).toEqual(['client over its request budget: frames refused', 'client kept on over its request budget: socket cut']);
  });
});

describe('serve --request-rate / --request-burst', () => {
  it('set the budget of the real server: a burst of 3 serves 3 pings at once and refuses the 4th with 2996; a bad value is refused at start', async () => {
    const { startServerProcess } = await import('./proc');
    const srv = await startServerProcess(['--store', 'memory', '--request-burst', '3', '--request-rate', '1']);
    try {
      const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/ws?v=1`);
      const frames: any[] = [];
      ws.on('message', (d) => frames.push(JSON.parse(String(d))));
      await new Promise((resolve) => ws.once('open', resolve));
      for (let i = 0; i < 4; i++) ws.send(JSON.stringify({ id: i, op: 'ping' }));
      const { until } = await import('./proc');
      await until(() => frames.filter((f) => f.t === 'res').length === 4, 'four answers');
      const res = frames.filter((f) => f.t === 'res');
      expect(res.slice(0, 3).every((f) => f.ok === true)).toBe(true);
      expect(res[3]).toMatchObject({ id: 3, ok: false, error: { code: ErrorCode.RATE_LIMITED } });
      ws.close();
    } finally {
      await srv.stop();
    }
    await expect(startServerProcess(['--store', 'memory', '--request-rate', '0'], { timeoutMs: 8000 })).rejects.toThrow(/request-rate/);
  });
});
