// One load-generator process of parts 3 and 7 (bench/net/fleet.ts starts several): holds a slice of the
// clients' sockets to `status-engine serve` (or bench/net/raw-server.ts), speaking our protocol (/ws,
// docs/protocol.md) or the Web SDK's wire frames (/binfo, shared/spec/TIM-WIRE.md) directly, logs them in,
// keeps their heartbeats at the protocol's default, and on command offers status changes at a fixed
// open-loop rate. Each change carries its send time (CLOCK_MONOTONIC, the same in every process) in its
// custom status, so whichever process receives a push times it without a table.
import { PerformanceObserver } from 'node:perf_hooks';
import WebSocket from 'ws';
import { genUserSig } from '../../src/server/usersig';
import { makeWorld } from '../lib/world';
import { Histogram } from './histogram';

export type Proto = 'ws' | 'sdk';

export interface AgentParams {
  proto: Proto;
  url: string;
  /** This process's clients: world users [from, to). */
  from: number;
  to: number;
  /** All clients of the run (every process builds the same world from the seed). */
  users: number;
  subs: number;
  seed: number;
  secretKey: string;
  sdkAppId: number;
  /** Our protocol: ping every heartbeatMs / 2. The SDK's is fixed (alive after 10 s of silence, hello every HelloInterval). */
  heartbeatMs: number;
  /** Source addresses to spread the sockets over (127.0.0.x), so that ephemeral ports do not run out. */
  localAddresses: string[];
  /** Pushes slower than this (µs) are kept with their send time, for bench/net/stall.ts to line up with the server's pauses. */
  slowUs?: number;
}

/** Coordinator to agent. */
export type AgentCommand =
  | { t: 'setup' }
  | { t: 'phase'; id: number; rate: number; ms: number }
  | { t: 'count'; id: number }
  | { t: 'stats'; id: number }
  | { t: 'quit' };

export interface SetupReply {
  t: 'setup';
  openMs: number;
  loginMs: number;
  subscribeMs: number;
}
export interface SentReply {
  t: 'sent';
  id: number;
  sent: number;
  expected: number;
  /** How late the sends were against the schedule (the generator's own delay), ms. */
  lagP99Ms: number;
  lagMaxMs: number;
}
export interface StatsReply {
  t: 'stats';
  id: number;
  delivered: number;
  hist: ReturnType<Histogram['toJSON']>;
  errors: number;
  closed: number;
  /** Heartbeat frames sent so far (each one reply from the server), for bench/net/probe.ts's per-change figures. */
  beats: number;
  /** With `slowUs`: this phase's slow pushes as [sent µs (CLOCK_MONOTONIC), latency µs] pairs, at most SLOW_KEPT. */
  slow?: number[];
  /** With `slowUs`: this process's own pauses since the last stats, [end µs, length µs, kind] (kind 0: a late turn of its loop, else V8's GC kind). */
  pauses?: number[];
}

const p = JSON.parse(process.argv[2]!) as AgentParams;
const w = makeWorld({ users: p.users, active: p.users, subs: p.subs, friends: 0, devices: 1, ops: 0, seed: p.seed, pSet: 1, pLogout: 0 });
const sig = (id: string) => genUserSig({ sdkAppId: p.sdkAppId, secretKey: p.secretKey, identifier: id, expireSeconds: 86_400 });
const say = (msg: string) => process.stderr.write(`  [agent ${p.from}-${p.to} ${p.proto}] ${msg}\n`);
const send = (m: unknown) => process.send!(m);

// Who hears of a user's change: itself and its subscribers.
const audience = new Int32Array(p.users).fill(1);
for (const t of w.subsOf) audience[t]!++;

const hr = () => {
  const [s, ns] = process.hrtime();
  return s * 1e6 + ns / 1e3;
};

// ---------------------------------------------------------------------------------------------------------
// Per-phase tallies: a push's phase and send time are in its custom status, 'b<phase>_<µs>'.

const hists = new Map<number, Histogram>();
const deliveredIn = new Map<number, number>();
const slowIn = new Map<number, number[]>();
const SLOW_KEPT = 20_000;
let errors = 0;
let closed = 0;
let beats = 0;
let loggedInAt = Infinity;

function record(status: string, now: number): void {
  const u = status.indexOf('_');
  if (status.charCodeAt(0) !== 98 /* b */ || u < 0) return;
  const id = Number(status.slice(1, u));
  const sent = Number(status.slice(u + 1));
  // A status set before this process logged in (an earlier run's, pushed as the current state) is not ours.
  if (sent < loggedInAt) return;
  let h = hists.get(id);
  if (!h) hists.set(id, (h = new Histogram()));
  h.add(now - sent);
  if (p.slowUs !== undefined && now - sent > p.slowUs) {
    let xs = slowIn.get(id);
    if (!xs) slowIn.set(id, (xs = []));
    if (xs.length < 2 * SLOW_KEPT) xs.push(sent, now - sent);
  }
  deliveredIn.set(id, (deliveredIn.get(id) ?? 0) + 1);
}

// ---------------------------------------------------------------------------------------------------------
// The two protocols: how to log in, subscribe, change, keep alive, and read a frame.

interface Sock {
  ws: WebSocket;
  user: number;
  next: number;
  waiting: Map<number, Waiter>;
  /** Why the socket closed (the server's code and reason), once it has: a request on it fails at once. */
  gone?: string;
  /** SDK: the session key from the login reply, and when the server last spoke and this socket last said hello. */
  a2?: string;
  tinyid?: string;
  lastDown: number;
  lastHello: number;
}

/** A request awaiting its reply: answered, or failed when its socket closes or no reply comes in CALL_TIMEOUT_MS. */
interface Waiter {
  done(ok: boolean, f: Record<string, any>): void;
  fail(why: string): void;
}
/** Far past any login the server allows (the SDK gateway closes a socket not logged in within 60 s). */
const CALL_TIMEOUT_MS = 180_000;

const wsUrl = p.url.replace(/^http/, 'ws');

// What the SDK 2.27 puts in every head (TIM-WIRE.md), so that frames have the SDK's size and shape.
const sdkHead = (s: Sock, servcmd: string, seq: number, extra: Record<string, unknown> = {}) => ({
  ver: 'v4',
  platform: 7,
  websdkappid: 537048168,
  websdkversion: '2.27.6',
  sdkappid: p.sdkAppId,
  contenttype: 'json',
  reqtime: Math.floor(Date.now() / 1000),
  sdkability: 2,
  tjgID: '',
  status_instid: 0,
  servcmd,
  seq,
  ...(s.a2 ? { a2: s.a2, tinyid: s.tinyid } : {}),
  ...extra,
});

const PUSH_WS = '{"t":"push"';
const MARK_WS = '"customStatus":"';
const MARK_SDK = '"CustomStatus":"';
const PUSH_SDK = 'im_open_push.msg_push';
const SESSION = '"SessionData":"';

function onFrame(s: Sock, raw: Buffer | string, now: number): void {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (p.proto === 'ws') {
    if (text.startsWith(PUSH_WS)) {
      const at = text.indexOf(MARK_WS);
      if (at >= 0) record(text.slice(at + MARK_WS.length, text.indexOf('"', at + MARK_WS.length)), now);
      return;
    }
    const f = JSON.parse(text) as { t: string; id?: number; ok?: boolean };
    if (f.t === 'res' && f.id !== undefined) reply(s, f.id, f.ok === true, f);
    return;
  }
  s.lastDown = now;
  if (text.includes(PUSH_SDK)) {
    const at = text.indexOf(MARK_SDK);
    if (at >= 0) record(Buffer.from(text.slice(at + MARK_SDK.length, text.indexOf('"', at + MARK_SDK.length)), 'base64').toString('utf8'), now);
    // As the SDK does: a push with NeedAck is acknowledged with its SessionData (the EXT-2 resume point).
    const sd = text.indexOf(SESSION);
    if (sd >= 0) ack(s, text.slice(sd + SESSION.length, text.indexOf('"', sd + SESSION.length)));
    return;
  }
  const f = JSON.parse(text) as { head: { seq: number }; body: { ErrorCode?: number } };
  reply(s, f.head.seq, !f.body?.ErrorCode, f.body as Record<string, any>);
}

/**
 * The acknowledgements of the frames read in this turn, sent once the turn's frames are all read (a
 * setImmediate: after the I/O callbacks). Each SDK acknowledges a push as soon as it reads it, in its own
 * browser: there one client's ack write never holds up another client's reading. Here hundreds of clients
 * share one process, so an ack sent inline would count in the latency of every push read after it in the turn.
 */
const acks: Array<{ s: Sock; data: string }> = [];
function ack(s: Sock, data: string): void {
  if (acks.length === 0) setImmediate(flushAcks);
  acks.push({ s, data });
}
function flushAcks(): void {
  for (const a of acks.splice(0)) if (!a.s.gone) sendAck(a.s, a.data);
}
function sendAck(s: Sock, data: string): void {
  s.ws.send(Buffer.from(JSON.stringify({ head: sdkHead(s, 'openim.ws_msg_push_ack', s.next++), body: { SessionData: data } })));
}

function reply(s: Sock, id: number, ok: boolean, f: Record<string, any>): void {
  const r = s.waiting.get(id);
  if (r) {
    s.waiting.delete(id);
    r.done(ok, f);
  } else if (!ok) errors++;
}

/**
 * A request whose answer is awaited (setup). It fails, never waits for ever: when its socket closes (the
 * server's code and reason in the message) or when no reply comes in CALL_TIMEOUT_MS.
 */
function call(s: Sock, what: string, frame: (id: number) => unknown): Promise<Record<string, any>> {
  const id = s.next++;
  const who = `${what} of user ${w.ids[s.user]}`;
  if (s.gone) return Promise.reject(new Error(`${who}: ${s.gone}`));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.waiting.delete(id);
      reject(new Error(`${who}: no reply in ${CALL_TIMEOUT_MS / 1000} s (the socket still open)`));
    }, CALL_TIMEOUT_MS);
    s.waiting.set(id, {
      done: (ok, f) => {
        clearTimeout(timer);
        if (ok) resolve(f);
        else reject(new Error(`${who}: ${JSON.stringify(f).slice(0, 300)}`));
      },
      fail: (why) => {
        clearTimeout(timer);
        reject(new Error(`${who}: ${why}`));
      },
    });
    s.ws.send(encode(frame(id)));
  });
}

/** The socket closed: every request still waiting on it fails with the server's code and reason. */
function gone(s: Sock, code: number, reason: Buffer): void {
  closed++;
  s.gone = `the server closed the socket (code ${code}${reason.length > 0 ? `, ${reason.toString('utf8').slice(0, 200)}` : ''}) before replying`;
  const waiters = [...s.waiting.values()];
  s.waiting.clear();
  for (const r of waiters) r.fail(s.gone);
}

const encode = (f: unknown) => (p.proto === 'ws' ? JSON.stringify(f) : Buffer.from(JSON.stringify(f)));

function open(user: number, k: number): Promise<Sock> {
  const url =
    p.proto === 'ws'
      ? `${wsUrl}/ws?v=1&platform=web&deviceId=bench-device-${user}`
      : `${wsUrl}/binfo?sdkappid=${p.sdkAppId}&instanceid=${user.toString(16).padStart(32, '0')}&random=${k}&platform=7&host=bench&version=-1&sdkversion=2.27.6&compress=gzip`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: p.localAddresses[k % p.localAddresses.length] });
    const s: Sock = { ws, user, next: 1, waiting: new Map(), lastDown: 0, lastHello: 0 };
    // Before it is ready, a close fails the open (else the setup would wait for it for ever).
    const early = (code: number, reason: Buffer) => reject(new Error(`socket of user ${w.ids[user]}: closed (code ${code}${reason.length > 0 ? `, ${reason.toString('utf8').slice(0, 200)}` : ''}) before ${p.proto === 'ws' ? "the server's hello" : 'it opened'}`));
    ws.once('error', reject);
    ws.once('close', early);
    ws.on('close', (code: number, reason: Buffer) => gone(s, code, reason));
    const ready = () => {
      ws.removeListener('error', reject);
      ws.removeListener('close', early);
      ws.on('error', () => undefined);
      ws.on('message', (raw: Buffer, isBinary: boolean) => onFrame(s, isBinary ? raw : raw.toString('utf8'), hr()));
      // Independent clients' timers are not in step: each SDK's hello and alive clocks start at a phase of
      // their own (spread by user), as if it had connected at its own time.
      const t = hr();
      const phase = ((user * 2654435761) % 4096) / 4096;
      s.lastHello = t - phase * SDK_HELLO_US;
      s.lastDown = t - phase * SDK_ALIVE_US;
      resolve(s);
    };
    // Our server speaks first (hello); the SDK's waits for the login.
    if (p.proto === 'ws') ws.once('message', ready);
    else ws.once('open', ready);
  });
}

function login(s: Sock): Promise<unknown> {
  const id = w.ids[s.user]!;
  if (p.proto === 'ws') return call(s, 'login', (n) => ({ id: n, op: 'login', params: { userID: id, userSig: sig(id) } }));
  return call(s, 'wslogin', (n) => ({ head: sdkHead(s, 'im_open_status.wslogin', n, { identifier: id, usersig: sig(id) }), body: { State: 'Online', InstType: 0 } })).then((f) => {
    s.a2 = String(f.A2Key);
    s.tinyid = String(f.TinyId);
  });
}

function subscribe(s: Sock): Promise<unknown> {
  const list = Array.from(w.subsOf.subarray(s.user * p.subs, (s.user + 1) * p.subs), (t) => w.ids[t]!);
  if (p.proto === 'ws') return call(s, 'subscribe', (n) => ({ id: n, op: 'subscribeUserStatus', params: { userIDList: list } }));
  return call(s, 'subscribe', (n) => ({ head: sdkHead(s, 'im_open_status.ws_status_subscribe', n), body: { To_Account: list } })).then((f) => {
    if (Array.isArray(f.ErrorList) && f.ErrorList.length > 0) throw new Error(`subscribe: ${JSON.stringify(f.ErrorList[0])}`);
  });
}

/** One status change, not awaited (open loop): a refusal is counted when its reply comes. */
function change(s: Sock, status: string): void {
  const n = s.next++;
  if (p.proto === 'ws') s.ws.send(JSON.stringify({ id: n, op: 'setSelfStatus', params: { customStatus: status } }));
  else s.ws.send(Buffer.from(JSON.stringify({ head: sdkHead(s, 'im_open_status.ws_set_custom_status', n), body: { CustomStatus: status } })));
}

async function inBatches<T>(items: number[], size: number, fn: (x: number, k: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map((x, k) => fn(x, i + k)))));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Heartbeats, from the end of setup on: ours every heartbeatMs / 2 per socket, spread over 10 ms ticks (a few
// sockets a tick, as independent clients' would come, not hundreds at once every 250 ms);
// the SDK's heartbeat.alive after 10 s without a downlink frame and its wshello every HelloInterval (30 s).

let socks: Sock[] = [];
let cursor = 0;
const TICK = 10;
const SDK_ALIVE_US = 10_000_000;
const SDK_HELLO_US = 30_000_000;
let lastTick = 0;
let owed = 0;
function heartbeats(): void {
  if (socks.length === 0) return;
  const period = p.proto === 'ws' ? (p.heartbeatMs / 2) * 0.8 : 1000;
  const now = hr();
  // The sockets due since the last tick (a tick that comes late, the process waiting for a core, owes more).
  owed = Math.min(socks.length, owed + (socks.length * (now - (lastTick || now - TICK * 1000))) / (period * 1000));
  lastTick = now;
  const due = Math.floor(owed);
  owed -= due;
  for (let k = 0; k < due; k++, cursor = (cursor + 1) % socks.length) {
    const s = socks[cursor]!;
    if (s.ws.readyState !== WebSocket.OPEN) continue;
    if (p.proto === 'ws') {
      beats++;
      s.ws.send(JSON.stringify({ id: s.next++, op: 'ping' }));
    } else if (now - s.lastHello >= SDK_HELLO_US) {
      beats++;
      s.lastHello = now;
      s.ws.send(Buffer.from(JSON.stringify({ head: sdkHead(s, 'im_open_status.wshello', s.next++), body: {} })));
    } else if (now - s.lastDown >= SDK_ALIVE_US) {
      beats++;
      s.lastDown = now; // its answer comes within 3 s, or the SDK would reconnect
      s.ws.send(Buffer.from(JSON.stringify({ head: sdkHead(s, 'heartbeat.alive', s.next++), body: {} })));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// With slowUs: this process's own pauses (a late turn of its loop, a GC pause over 1 ms), with their times on
// the same clock as the pushes', so that a slow push can be told from a load generator that was not running.

const myPauses: number[] = [];
if (p.slowUs !== undefined) {
  let last = hr();
  setInterval(() => {
    const now = hr();
    if (now - last > 5000) myPauses.push(now, now - last - 2000, 0);
    last = now;
  }, 2).unref();
  const offset = hr() - performance.now() * 1000;
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1;
      if (e.duration > 1) myPauses.push(offset + (e.startTime + e.duration) * 1000, e.duration * 1000, kind);
    }
  }).observe({ entryTypes: ['gc'] });
}

// ---------------------------------------------------------------------------------------------------------
// The commands.

async function setup(): Promise<SetupReply> {
  const mine = Array.from({ length: p.to - p.from }, (_, k) => p.from + k);
  const t0 = hr();
  socks = await inBatches(mine, 200, (u, k) => open(u, k));
  const t1 = hr();
  setInterval(heartbeats, TICK);
  await inBatches(mine, 200, (_, k) => login(socks[k]!));
  const t2 = hr();
  if (p.subs > 0) await inBatches(mine, 200, (_, k) => subscribe(socks[k]!));
  const t3 = hr();
  loggedInAt = t0;
  say(`${socks.length} sockets open, logged in${p.subs > 0 ? `, subscribed to ${p.subs} each` : ''}`);
  return { t: 'setup', openMs: (t1 - t0) / 1000, loginMs: (t2 - t1) / 1000, subscribeMs: (t3 - t2) / 1000 };
}

/** Offers `rate` changes/s for `ms`, round-robin over this process's clients, each sent on schedule. */
function phase(id: number, rate: number, ms: number): Promise<SentReply> {
  return new Promise((resolve) => {
    const lag = new Histogram();
    const start = hr();
    const end = start + ms * 1000;
    const gapUs = 1e6 / rate;
    let sent = 0;
    let expected = 0;
    let cur = (id * 7919) % socks.length;
    const tick = () => {
      const now = hr();
      const due = Math.min(Math.floor((Math.min(now, end) - start) / gapUs) + 1, Math.floor((ms * 1000) / gapUs));
      for (; sent < due; sent++) {
        const s = socks[cur]!;
        cur = (cur + 1) % socks.length;
        const t = hr();
        lag.add(t - (start + sent * gapUs));
        expected += audience[s.user]!;
        change(s, `b${id}_${Math.round(t)}`);
      }
      if (now >= end) {
        clearInterval(timer);
        const l = lag.summary();
        resolve({ t: 'sent', id, sent, expected, lagP99Ms: l.p99, lagMaxMs: l.maxMs });
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
}

process.on('message', (m: AgentCommand) => {
  void (async () => {
    try {
      if (m.t === 'setup') send(await setup());
      else if (m.t === 'phase') send(await phase(m.id, m.rate, m.ms));
      else if (m.t === 'count') send({ t: 'count', id: m.id, delivered: deliveredIn.get(m.id) ?? 0 });
      else if (m.t === 'stats') {
        const reply: StatsReply = { t: 'stats', id: m.id, delivered: deliveredIn.get(m.id) ?? 0, hist: (hists.get(m.id) ?? new Histogram()).toJSON(), errors, closed, beats };
        if (p.slowUs !== undefined && m.id >= 0) {
          reply.slow = slowIn.get(m.id) ?? [];
          reply.pauses = myPauses.splice(0);
          slowIn.delete(m.id);
        }
        hists.delete(m.id);
        send(reply);
      } else if (m.t === 'quit') {
        for (const s of socks) s.ws.terminate();
        process.exit(0);
      }
    } catch (e) {
      send({ t: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
send({ t: 'ready' });
