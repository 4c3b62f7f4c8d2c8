// Part 3's load generator (a worker process, started by bench/run.ts): opens `clients` WebSockets to a
// server (status-engine serve, or bench/net/raw-server.ts), logs each in as one user, subscribes each to
// `subs` others, then runs setSelfStatus calls, `outstanding` at a time, and times every push from the call
// that caused it to its receipt by each subscriber (and by the caller's own socket). Speaks the client
// protocol of docs/protocol.md directly, so that the generator stays light.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { genUserSig, ADMIN_IDENTIFIER } from '../../src/server/usersig';
import { args, emitResult, progress } from '../lib/measure';
import { rng, below } from '../lib/rng';
import { makeWorld } from '../lib/world';

export interface LoadParams {
  tag: string;
  target: 'engine' | 'raw';
  url: string;
  clients: number;
  subs: number;
  seed: number;
  secretKey: string;
  sdkAppId: number;
  heartbeatMs: number;
  phases: Array<{ name: string; outstanding: number; seconds: number }>;
}

interface Sock {
  ws: WebSocket;
  next: number;
  waiting: Map<number, (f: Frame) => void>;
}
interface Frame {
  t: string;
  id?: number;
  ok?: boolean;
  error?: { code: number; message: string };
  event?: { name: string; data: Array<{ customStatus: string }> };
}

const p = args<LoadParams>();
const say = progress(p.tag);
const w = makeWorld({ users: p.clients, active: p.clients, subs: p.subs, friends: 0, devices: 1, ops: 0, seed: p.seed, pSet: 1, pLogout: 0 });
const http = p.url.replace(/^ws/, 'http');
const wsUrl = p.url.replace(/^http/, 'ws');
const sig = (id: string) => genUserSig({ sdkAppId: p.sdkAppId, secretKey: p.secretKey, identifier: id, expireSeconds: 86_400 });

// Who hears of each user's change: itself and its subscribers.
const audience = new Int32Array(p.clients).fill(1);
for (const t of w.subsOf) audience[t]!++;

// What each push is timed against: the send time of the change, by its custom status 'b<n>'.
let sentAt = new Float64Array(1 << 16);
let latencies = new Float64Array(1 << 20);
let nLat = 0;
let delivered = 0;
const record = (n: number, now: number) => {
  if (nLat === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[nLat++] = now - sentAt[n]!;
  delivered++;
};

const PUSH = '{"t":"push"';
const MARK = '"customStatus":"b';
function onFrame(s: Sock, raw: WebSocket.RawData): void {
  const now = performance.now();
  const text = String(raw);
  // Pushes are most of the traffic: find the change's number without parsing the whole frame.
  if (text.startsWith(PUSH)) {
    const at = text.indexOf(MARK);
    if (at >= 0) record(parseInt(text.slice(at + MARK.length, text.indexOf('"', at + MARK.length)), 10), now);
    return;
  }
  const f = JSON.parse(text) as Frame;
  if (f.t === 'res' && f.id !== undefined) {
    const r = s.waiting.get(f.id);
    s.waiting.delete(f.id);
    r?.(f);
  }
}

function call(s: Sock, op: string, params?: unknown): Promise<Frame> {
  const id = s.next++;
  return new Promise((resolve, reject) => {
    s.waiting.set(id, (f) => (f.ok ? resolve(f) : reject(new Error(`${op}: ${f.error?.code} ${f.error?.message}`))));
    s.ws.send(JSON.stringify({ id, op, params }));
  });
}

function open(i: number): Promise<Sock> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}/ws?v=1&platform=web&deviceId=bench-device-${i}`, { perMessageDeflate: false });
    const s: Sock = { ws, next: 1, waiting: new Map() };
    ws.once('error', reject);
    ws.once('message', () => {
      ws.on('message', (raw) => onFrame(s, raw));
      resolve(s);
    });
  });
}

async function inBatches<T>(n: number, size: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += size) out.push(...(await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, k) => fn(i + k)))));
  return out;
}

if (p.target === 'engine') {
  const q = `sdkappid=${p.sdkAppId}&identifier=${ADMIN_IDENTIFIER}&usersig=${encodeURIComponent(sig(ADMIN_IDENTIFIER))}&random=1&contenttype=json`;
  for (let i = 0; i < w.ids.length; i += 10_000) {
    const res = await fetch(`${http}/v4/im_open_login_svc/multiaccount_import?${q}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Accounts: w.ids.slice(i, i + 10_000) }),
    });
    const body = (await res.json()) as { ActionStatus: string; ErrorInfo?: string };
    if (body.ActionStatus !== 'OK') throw new Error(`account import: ${body.ErrorInfo}`);
  }
}
const socks = await inBatches(p.clients, 200, open);
say(`${p.clients} sockets open`);
// Heartbeats (docs/protocol.md): every socket speaks at least every heartbeatMs / 2, spread over time.
let pingCursor = 0;
const perTick = Math.ceil(p.clients / ((p.heartbeatMs / 2 / 250) * 0.8));
const pinger = setInterval(() => {
  for (let k = 0; k < perTick; k++, pingCursor = (pingCursor + 1) % socks.length) {
    const s = socks[pingCursor]!;
    s.ws.send(JSON.stringify({ id: s.next++, op: 'ping' }));
  }
}, 250);
await inBatches(p.clients, 200, (i) => call(socks[i]!, 'login', { userID: w.ids[i], userSig: sig(w.ids[i]!) }));
await inBatches(p.clients, 200, (i) =>
  call(socks[i]!, 'subscribeUserStatus', { userIDList: Array.from(w.subsOf.subarray(i * p.subs, (i + 1) * p.subs), (t) => w.ids[t]!) }),
);
say(`${p.clients} logged in and subscribed to ${p.subs} each`);

const r = rng(p.seed + 1);
let n = 0;
const phases = [];
for (const ph of p.phases) {
  const start = performance.now();
  const end = start + ph.seconds * 1000;
  const lat0 = nLat;
  const del0 = delivered;
  let expected = 0;
  let changes = 0;
  const changer = async () => {
    while (performance.now() < end) {
      const u = below(r, p.clients);
      const k = n++;
      if (k >= sentAt.length) {
        const bigger = new Float64Array(sentAt.length * 2);
        bigger.set(sentAt);
        sentAt = bigger;
      }
      expected += audience[u]!;
      changes++;
      sentAt[k] = performance.now();
      await call(socks[u]!, 'setSelfStatus', { customStatus: `b${k}` });
    }
  };
  await Promise.all(Array.from({ length: ph.outstanding }, changer));
  const sendEnd = performance.now();
  // Wait for the pushes still on their way (at most 5 s).
  while (delivered - del0 < expected && performance.now() - sendEnd < 5000) await new Promise((res) => setTimeout(res, 20));
  const last = performance.now();
  const lat = Array.from(latencies.subarray(lat0, nLat)).sort((a, b) => a - b);
  const q = (x: number) => lat[Math.min(lat.length - 1, Math.floor(x * lat.length))] ?? NaN;
  const got = delivered - del0;
  const phase = {
    name: ph.name,
    outstanding: ph.outstanding,
    seconds: (sendEnd - start) / 1000,
    changes,
    expected,
    delivered: got,
    changesPerSec: (changes * 1000) / (sendEnd - start),
    deliveredPerSec: (got * 1000) / (last - start),
    p50: q(0.5),
    p99: q(0.99),
    max: lat.at(-1) ?? NaN,
  };
  phases.push(phase);
  say(
    `${ph.name}: ${changes} changes, ${got}/${expected} pushes, ${phase.deliveredPerSec.toFixed(0)} pushes/s, ` +
      `latency p50 ${phase.p50.toFixed(2)} ms p99 ${phase.p99.toFixed(2)} ms`,
  );
}
clearInterval(pinger);
emitResult({ tag: p.tag, target: p.target, clients: p.clients, subs: p.subs, phases });
for (const s of socks) s.ws.terminate();
process.exit(0);
