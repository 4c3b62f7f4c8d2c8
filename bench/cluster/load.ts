// The cluster benchmark's load and latency client (a worker process started by bench/cluster/part.ts):
// opens one WebSocket per user to the node given for it, logs each in, subscribes each to `subs` others,
// then runs phases of setSelfStatus calls: closed loop (`outstanding` calls in flight, as fast as the cluster
// answers: saturation) or open loop (`rateOf`: a fraction of the first phase's acknowledged rate, paced).
// Every push is timed from the call that caused it to its receipt; pushes whose setter and receiver are
// owned by different nodes are "cross-node". Redis' own counters (INFO commandstats, INFO cpu) are read
// around each phase: Redis operations and Redis CPU per change. Speaks docs/protocol.md directly (light).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { genUserSig } from '../../src/server/usersig';
import { args, emitResult, progress } from '../lib/measure';
import { below, rng } from '../lib/rng';
import { HeardLog } from './heard';

export interface ClusterLoadParams {
  tag: string;
  /** Per user: the ws:// URL its socket opens, and the index of the node owning its shard. */
  users: Array<{ userID: string; url: string; owner: number }>;
  subs: number;
  seed: number;
  secretKey: string;
  sdkAppId: number;
  redis: string;
  /** The node processes, for their CPU time per phase. */
  nodePids?: number[];
  /** The nodes' cgroups' cpu.stat files (capped steps), for the share of periods they were throttled in. */
  cpuStatFiles?: string[];
  phases: Array<{ name: string; seconds: number; outstanding?: number; rateOf?: number }>;
}

export interface ClusterLoadPhase {
  name: string;
  seconds: number;
  changes: number;
  failed: number;
  /** Failed calls by error code. */
  failedCodes: Record<string, number>;
  /** Calls not made because the drawn setters were all reconnecting. */
  skipped: number;
  changesPerSec: number;
  targetRate: number | null;
  /** Status pushes of this run's changes received (duplicates included). */
  pushes: number;
  /** Acknowledged changes × their audience (bench/cluster/heard.ts). */
  expected: number;
  /** Heard as such within 5 s of the phase's last call. */
  heard: number;
  /** Not heard, a later change of the same setter heard instead (a resume hands the current status once). */
  superseded: number;
  /** Neither, 5 s after the phase's last call. */
  missing: number;
  /** Of those, heard in the 10 s after (late, not lost). */
  lateAfter5s: number;
  missingAfter15s: number;
  missingSample: Array<{ change: number; setter: string; receiver: string }>;
  duplicates: number;
  unacknowledgedHeard: number;
  /** Sockets closed under a device during the phase, by close code ('open': a reconnect attempt that failed). */
  reconnects: Record<string, number>;
  p50: number;
  p99: number;
  crossPushes: number;
  crossP50: number;
  crossP99: number;
  redisOpsPerChange: number;
  redisCpuMsPerChange: number;
  /** Redis' calls per change by command (PUBLISH: the bus), and the bytes it read from its clients per change. */
  redisCommandsPerChange?: Record<string, number>;
  redisInBytesPerChange?: number;
  /** The node processes' CPU time during the phase's calls, per acknowledged change (NaN: no pids given). */
  nodeCpuMsPerChange: number;
  /** Of it, the kernel's (system time: socket I/O, wake-ups), per change. */
  nodeSystemMsPerChange?: number;
  /** Of it, the event loops' threads' (the rest: V8's compiler and GC helpers, libuv's pool), per change. */
  nodeMainThreadMsPerChange?: number;
  /** The node processes' read and write system calls during the phase's calls, per acknowledged change (socket
   * reads and writes: each is a cost a busy machine does not change; NaN: not readable). */
  nodeSyscallsPerChange?: { read: number; write: number };
  /** Context switches per acknowledged change of the nodes' main threads (the event loops) and of Redis' (from
   * /proc/PID/status): `woke` the voluntary ones (each a sleep in epoll_wait, so a wake-up), `preempted` the others
   * (the scheduler, or a node's cgroup quota, took the CPU away). NaN: not readable. */
  switchesPerChange?: { nodes: { woke: number; preempted: number }; redis: { woke: number; preempted: number } };
  /** The calls' stretch on the monotonic clock, µs (as V8 CPU profiles' timestamps: to cut a node's profile). */
  monoUs: [number, number];
  /** This generator's CPU time during the calls, as a share of one core (near 1: it, not the nodes, set the pace). */
  generatorCpuShare: number;
  /** Capped steps: the share of the nodes' busy CFS periods in which their quota ran out (near 1: the caps set the
   * pace; low: something else did, e.g. a machine too busy to give the nodes their share). NaN: not capped. */
  throttledShare: number;
}

interface Frame {
  t: string;
  id?: number;
  ok?: boolean;
  seq?: number;
  heartbeatMs?: number;
  error?: { code: number; message: string };
  event?: { name: string; data?: Array<{ userID: string; customStatus: string; version: number }> };
}
interface Waiting {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}
/**
 * One user's device: a socket that reconnects when it closes under it (1012 when the user's shard changed
 * owner: the same URL again; anything else, or a refused open, the next URL: that node may be dead) and
 * resumes with what it holds (lastSeq and the versions it heard: EXT-2), as the remote client does.
 */
interface Sock {
  i: number;
  urls: string[];
  at: number;
  ws: WebSocket | null;
  /** Open and logged in (or resumed): calls go out. */
  up: boolean;
  /** Logged in once: a reconnect resumes; before that it only opens the socket again. */
  loggedIn: boolean;
  /** Closed on purpose (the run's end, or a socket left out). */
  done: boolean;
  reconnecting: boolean;
  ready: Promise<void>;
  markReady: () => void;
  next: number;
  waiting: Map<number, Waiting>;
  lastSeq: number;
  versions: Record<string, number>;
}

const p = args<ClusterLoadParams>();
const say = progress(p.tag);
/** USER_HZ: 100 on Linux on every architecture Node runs on. */
const CLOCK_TICKS = 100;
const n = p.users.length;
const sig = (id: string) => genUserSig({ sdkAppId: p.sdkAppId, secretKey: p.secretKey, identifier: id, expireSeconds: 86_400 });
const index = new Map(p.users.map((u, i) => [u.userID, i]));
const allUrls = [...new Set(p.users.map((u) => u.url))];

// Subscriptions: each user follows `subs` others, drawn with a seeded generator, never back to one that follows
// it (kept from when two users subscribing to each other at once could hang a cluster; it keeps the seeded
// draw, and so the figures, comparable with earlier runs).
const r0 = rng(p.seed);
const follows: Array<Set<number>> = [];
for (let i = 0; i < n; i++) {
  const out = new Set<number>();
  for (let tries = 0; out.size < Math.min(p.subs, n - 1) && tries < 100 * p.subs; tries++) {
    const t = below(r0, n);
    if (t !== i && !(t < i && follows[t]!.has(i))) out.add(t);
  }
  follows.push(out);
}

const log = new HeardLog(n);
let sentAt = new Float64Array(1 << 16);
const lat: number[] = [];
const cross: number[] = [];
let pushes = 0;
/** Closes under a socket, by close code ('open' for an open or a resume that failed). */
let reconnects: Record<string, number> = {};
let heartbeatMs = 10_000;

function onFrame(s: Sock, raw: WebSocket.RawData): void {
  const now = performance.now();
  const f = JSON.parse(String(raw)) as Frame;
  if (typeof f.seq === 'number' && f.seq > s.lastSeq) s.lastSeq = f.seq;
  if (f.t === 'push') {
    if (f.event?.name !== 'onUserStatusUpdated') return;
    for (const st of f.event.data ?? []) {
      if (typeof st.version === 'number') s.versions[st.userID] = Math.max(s.versions[st.userID] ?? 0, st.version);
      if (!st.customStatus.startsWith('b')) continue;
      const k = Number(st.customStatus.slice(1));
      if (!Number.isInteger(k) || index.get(st.userID) !== log.setterOf(k)) continue;
      pushes++;
      if (!log.heard(s.i, k)) continue;
      const ms = now - sentAt[k]!;
      lat.push(ms);
      if (p.users[log.setterOf(k)]!.owner !== p.users[s.i]!.owner) cross.push(ms);
    }
    return;
  }
  if (f.t === 'hello' && typeof f.heartbeatMs === 'number') heartbeatMs = f.heartbeatMs;
  if (f.t === 'res' && f.id !== undefined) {
    const w = s.waiting.get(f.id);
    s.waiting.delete(f.id);
    if (w === undefined) return;
    clearTimeout(w.timer);
    if (f.ok) w.resolve(f);
    else w.reject(new Error(`${f.error?.code} ${f.error?.message}`));
  }
}

function call(s: Sock, op: string, params?: unknown, timeoutMs = 10_000): Promise<Frame> {
  if (!s.ws || s.ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error(`${op}: closed socket`));
  const id = s.next++;
  const ws = s.ws;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.waiting.delete(id);
      reject(new Error(`${op}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    s.waiting.set(id, { resolve, reject: (e) => reject(new Error(`${op}: ${e.message}`)), timer });
    ws.send(JSON.stringify({ id, op, params }));
  });
}

/** Opens the socket at the current URL; resolves once the hello came. */
function open(s: Sock): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${s.urls[s.at]}/ws?v=1&platform=web&deviceId=cl-${s.i}-${process.pid}`, { perMessageDeflate: false });
    let hello = false;
    ws.once('error', (e) => {
      if (!hello) reject(e);
    });
    ws.on('close', (code) => {
      if (!hello) reject(new Error(`closed ${code} before the hello`));
      else if (s.ws === ws) void dropped(s, code);
    });
    ws.once('message', (raw) => {
      hello = true;
      s.ws = ws;
      onFrame(s, raw);
      ws.on('message', (r) => onFrame(s, r));
      resolve();
    });
  });
}

function newSock(i: number): Sock {
  const own = p.users[i]!.url;
  const s = { i, urls: [own, ...allUrls.filter((u) => u !== own)], at: 0, ws: null, up: false, loggedIn: false, done: false, reconnecting: false, next: 1, waiting: new Map(), lastSeq: 0, versions: {} } as unknown as Sock;
  s.ready = new Promise<void>((r) => (s.markReady = r));
  return s;
}

/** The socket closed under the device: fail its calls in flight, then reconnect and resume. */
async function dropped(s: Sock, code: number): Promise<void> {
  s.up = false;
  s.ws = null;
  for (const [id, w] of s.waiting) {
    clearTimeout(w.timer);
    w.reject(new Error(`closed ${code}`));
    s.waiting.delete(id);
  }
  if (s.done || s.reconnecting) return; // the loop below is running: its attempt fails and it goes on
  s.reconnecting = true;
  reconnects[code] = (reconnects[code] ?? 0) + 1;
  s.ready = new Promise<void>((r) => (s.markReady = r));
  if (code !== 1012) s.at = (s.at + 1) % s.urls.length;
  for (let attempt = 0; !s.done; attempt++) {
    try {
      await open(s);
      if (s.loggedIn) {
        const u = p.users[s.i]!.userID;
        await call(s, 'resume', { userID: u, userSig: sig(u), lastSeq: s.lastSeq, versions: s.versions }, 4_000);
      }
      s.reconnecting = false;
      s.up = true;
      s.markReady();
      return;
    } catch {
      reconnects.open = (reconnects.open ?? 0) + 1;
      (s.ws as WebSocket | null)?.terminate();
      s.ws = null;
      s.at = (s.at + 1) % s.urls.length;
      await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
    }
  }
}

/** A set-up call, again while the cluster says to retry (a shard being rebuilt or changing owner: 75001, 75006,
 * 75007) or the socket was closed under it (after it reconnected). */
async function setup(s: Sock, op: string, params: unknown): Promise<Frame> {
  for (let attempt = 1; ; attempt++) {
    try {
      await s.ready;
      return await call(s, op, params, 4_000);
    } catch (e) {
      if (attempt >= 50 || !/: (7500[167] |closed)/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function inBatches<T>(count: number, size: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += size) out.push(...(await Promise.all(Array.from({ length: Math.min(size, count - i) }, (_, k) => fn(i + k)))));
  return out;
}

/** CPU time of the node processes so far, ms: user and system (the kernel's: socket writes and reads, wake-ups)
 * over all threads, and `main`, the event loop's thread alone (the rest is V8's compiler and GC helper threads and
 * libuv's pool: a fixed warm-up cost per process shows there) (/proc/PID/stat, /proc/PID/task/PID/stat; NaN where
 * not readable). */
function nodeCpuMs(): { user: number; system: number; main: number } {
  let user = 0;
  let system = 0;
  let main = 0;
  const ticks = (path: string) => {
    const f = readFileSync(path, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return [(Number(fields[11]) * 1000) / CLOCK_TICKS, (Number(fields[12]) * 1000) / CLOCK_TICKS] as const;
  };
  for (const pid of p.nodePids ?? []) {
    try {
      const [u, sy] = ticks(`/proc/${pid}/stat`);
      user += u;
      system += sy;
      const [mu, ms] = ticks(`/proc/${pid}/task/${pid}/stat`);
      main += mu + ms;
    } catch {
      return { user: NaN, system: NaN, main: NaN };
    }
  }
  return { user, system, main };
}

/** Read and write system calls of the node processes so far (/proc/PID/io; NaN where not readable). */
function nodeSyscalls(): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const pid of p.nodePids ?? []) {
    try {
      const f = readFileSync(`/proc/${pid}/io`, 'utf8');
      read += Number(/^syscr: (\d+)$/m.exec(f)?.[1] ?? NaN);
      write += Number(/^syscw: (\d+)$/m.exec(f)?.[1] ?? NaN);
    } catch {
      return { read: NaN, write: NaN };
    }
  }
  return { read, write };
}

/** Voluntary and involuntary context switches of these processes' main threads so far (/proc/PID/status). */
function switches(pids: readonly number[]): { woke: number; preempted: number } {
  if (pids.length === 0) return { woke: NaN, preempted: NaN };
  let woke = 0;
  let preempted = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/status`, 'utf8');
      woke += Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(f)?.[1] ?? NaN);
      preempted += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)$/m.exec(f)?.[1] ?? NaN);
    } catch {
      return { woke: NaN, preempted: NaN };
    }
  }
  return { woke, preempted };
}

/** CFS periods with runnable tasks, and those in which the quota ran out, summed over the nodes' cgroups. */
function throttling(): { periods: number; throttled: number } {
  let periods = 0;
  let throttled = 0;
  for (const f of p.cpuStatFiles ?? []) {
    const text = readFileSync(f, 'utf8');
    periods += Number(/^nr_periods (\d+)$/m.exec(text)?.[1] ?? NaN);
    throttled += Number(/^nr_throttled (\d+)$/m.exec(text)?.[1] ?? NaN);
  }
  return { periods, throttled };
}

const redis = new Redis(p.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
await redis.connect();
async function redisCounters(): Promise<{ ops: number; cpuMs: number; byCommand: Map<string, number>; inBytes: number }> {
  const stats = await redis.info('commandstats');
  let ops = 0;
  const byCommand = new Map<string, number>();
  for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (m[1] === 'info') continue;
    ops += Number(m[2]);
    byCommand.set(m[1]!, Number(m[2]));
  }
  const cpu = await redis.info('cpu');
  const v = (k: string) => Number(new RegExp(`^${k}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? NaN);
  const inBytes = Number(/^total_net_input_bytes:(\d+)/m.exec(await redis.info('stats'))?.[1] ?? NaN);
  return { ops, cpuMs: (v('used_cpu_sys') + v('used_cpu_user')) * 1000, byCommand, inBytes };
}

/** Redis' process, for its wake-ups (a Redis on another host: none, and its switches are NaN). */
const redisPid = [Number(/^process_id:(\d+)/m.exec(await redis.info('server'))?.[1] ?? NaN)].filter((x) => Number.isInteger(x) && x > 0);

const socks = Array.from({ length: n }, (_, i) => newSock(i));
await inBatches(n, 100, async (i) => {
  const s = socks[i]!;
  await open(s);
  s.up = true;
  s.markReady();
});
// As the remote client: a ping every half heartbeat from the start (the set-up takes a while on capped nodes),
// so that no link goes silent (a silent link hears nothing) and no socket is closed for silence (4008).
const alive = new Array<boolean>(n).fill(true);
const pinger = setInterval(() => {
  for (const [i, s] of socks.entries()) if (alive[i] && s.up) call(s, 'ping').catch(() => undefined);
}, heartbeatMs / 2);
// The set-up is not measured: small batches and a long timeout, so that a capped node on a busy machine gets through it.
await inBatches(n, 20, async (i) => {
  await setup(socks[i]!, 'login', { userID: p.users[i]!.userID, userSig: sig(p.users[i]!.userID) });
  socks[i]!.loggedIn = true;
});
// One socket at a time (the set-up is not what is measured). A subscription with no answer in 4 s leaves its
// socket out of the run (counted and reported): the socket is closed, it neither sets nor counts as a receiver.
let hung = 0;
await inBatches(n, 1, async (i) => {
  if (follows[i]!.size === 0) return;
  try {
    await setup(socks[i]!, 'subscribeUserStatus', { userIDList: [...follows[i]!].map((t) => p.users[t]!.userID) });
  } catch (e) {
    if (!/no answer/.test((e as Error).message)) throw e;
    alive[i] = false;
    hung++;
    socks[i]!.done = true;
    socks[i]!.ws?.terminate();
  }
});
const setters = alive.flatMap((a, i) => (a ? [i] : []));
if (setters.length < n / 2) throw new Error(`${hung} of ${n} subscriptions never answered: too few sockets left to measure`);
/** Who hears each setter: its own device and its subscribers (those left in the run). */
const audience: number[][] = Array.from({ length: n }, (_, u) => (alive[u] ? [u] : []));
for (const [i, f] of follows.entries()) if (alive[i]) for (const t of f) audience[t]!.push(i);
const setupReconnects = reconnects;
reconnects = {};
say(`${n} sockets logged in, ${p.subs} subscriptions each; ${hung} subscriptions never answered (those sockets left out); reconnects during the set-up ${JSON.stringify(setupReconnects)}`);

const q = (xs: number[], x: number) => {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(x * sorted.length))]!;
};

const r = rng(p.seed + 1);
let k = 0;
let saturation = NaN;
const phases: ClusterLoadPhase[] = [];
for (const ph of p.phases) {
  lat.length = 0;
  cross.length = 0;
  reconnects = {};
  log.resetDuplicates();
  const pushes0 = pushes;
  const k0 = k;
  let changes = 0;
  let failed = 0;
  let skipped = 0;
  const failedCodes: Record<string, number> = {};
  const before = await redisCounters();
  const cpu0 = nodeCpuMs();
  const sys0 = nodeSyscalls();
  const sw0 = { nodes: switches(p.nodePids ?? []), redis: switches(redisPid) };
  const thr0 = throttling();
  const mono0 = Number(process.hrtime.bigint() / 1000n);
  const own0 = process.cpuUsage();
  const start = performance.now();
  const end = start + ph.seconds * 1000;
  const one = async () => {
    let u = setters[below(r, setters.length)]!;
    // A device reconnecting makes no call meanwhile: another one does (counted).
    for (let tries = 0; !socks[u]!.up && tries < 20; tries++) u = setters[below(r, setters.length)]!;
    if (!socks[u]!.up) {
      skipped++;
      await new Promise((res) => setTimeout(res, 10));
      return;
    }
    const id = k++;
    if (id >= sentAt.length) {
      const a = new Float64Array(sentAt.length * 2);
      a.set(sentAt);
      sentAt = a;
    }
    log.sent(id, u);
    sentAt[id] = performance.now();
    try {
      await call(socks[u]!, 'setSelfStatus', { customStatus: `b${id}` });
      log.acknowledged(id);
      changes++;
    } catch (e) {
      failed++;
      const m = (e as Error).message;
      const code = /: (\d+) /.exec(m)?.[1] ?? (/closed/.test(m) ? 'closed' : 'timeout');
      failedCodes[code] = (failedCodes[code] ?? 0) + 1;
    }
  };
  const targetRate = ph.rateOf !== undefined ? ph.rateOf * saturation : null;
  if (targetRate === null) {
    const loop = async () => {
      while (performance.now() < end) await one();
    };
    await Promise.all(Array.from({ length: ph.outstanding ?? 32 }, loop));
  } else {
    // Open loop: calls at a fixed pace, whatever the answers' timing (at most 1024 in flight).
    const inFlight = new Set<Promise<void>>();
    let sent = 0;
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - start) / 1000) * targetRate);
      while (sent < due && inFlight.size < 1024) {
        sent++;
        const c = one().finally(() => inFlight.delete(c));
        inFlight.add(c);
      }
      await new Promise((res) => setTimeout(res, 2));
    }
    await Promise.all(inFlight);
  }
  const sendEnd = performance.now();
  const mono1 = Number(process.hrtime.bigint() / 1000n);
  const own = process.cpuUsage(own0);
  const cpu1 = nodeCpuMs();
  const sys1 = nodeSyscalls();
  const sw1 = { nodes: switches(p.nodePids ?? []), redis: switches(redisPid) };
  const thr1 = throttling();
  const k1 = k;
  const tally = () => log.tally(k0, k1, (u) => audience[u]!);
  // Heard within 5 s of the last call; what is still missing then is waited for 10 s more (late, or lost).
  let t5 = tally();
  while (t5.missing > 0 && performance.now() - sendEnd < 5000) {
    await new Promise((res) => setTimeout(res, 200));
    t5 = tally();
  }
  const after = await redisCounters();
  let t15 = t5;
  while (t15.missing > 0 && performance.now() - sendEnd < 15_000) {
    await new Promise((res) => setTimeout(res, 200));
    t15 = tally();
  }
  const seconds = (sendEnd - start) / 1000;
  const phase: ClusterLoadPhase = {
    name: ph.name,
    seconds,
    changes,
    failed,
    failedCodes,
    skipped,
    changesPerSec: changes / seconds,
    targetRate,
    pushes: pushes - pushes0,
    expected: t5.expected,
    heard: t5.exact,
    superseded: t5.superseded,
    missing: t5.missing,
    lateAfter5s: t5.missing - t15.missing,
    missingAfter15s: t15.missing,
    missingSample: t15.missingSample.map((m) => ({ change: m.k, setter: p.users[m.setter]!.userID, receiver: p.users[m.receiver]!.userID })),
    duplicates: t15.duplicates,
    unacknowledgedHeard: t15.unacknowledgedHeard,
    reconnects: { ...reconnects },
    p50: q(lat, 0.5),
    p99: q(lat, 0.99),
    crossPushes: cross.length,
    crossP50: q(cross, 0.5),
    crossP99: q(cross, 0.99),
    // INFO itself is left out; the reads of this worker are 4 INFO calls per phase.
    redisOpsPerChange: (after.ops - before.ops) / Math.max(1, changes),
    redisCpuMsPerChange: (after.cpuMs - before.cpuMs) / Math.max(1, changes),
    redisCommandsPerChange: Object.fromEntries([...after.byCommand].map(([k, n]) => [k, (n - (before.byCommand.get(k) ?? 0)) / Math.max(1, changes)]).filter(([, n]) => (n as number) > 0)),
    redisInBytesPerChange: (after.inBytes - before.inBytes) / Math.max(1, changes),
    nodeCpuMsPerChange: (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / Math.max(1, changes),
    nodeSystemMsPerChange: (cpu1.system - cpu0.system) / Math.max(1, changes),
    nodeMainThreadMsPerChange: (cpu1.main - cpu0.main) / Math.max(1, changes),
    switchesPerChange: {
      nodes: { woke: (sw1.nodes.woke - sw0.nodes.woke) / Math.max(1, changes), preempted: (sw1.nodes.preempted - sw0.nodes.preempted) / Math.max(1, changes) },
      redis: { woke: (sw1.redis.woke - sw0.redis.woke) / Math.max(1, changes), preempted: (sw1.redis.preempted - sw0.redis.preempted) / Math.max(1, changes) },
    },
    nodeSyscallsPerChange: { read: (sys1.read - sys0.read) / Math.max(1, changes), write: (sys1.write - sys0.write) / Math.max(1, changes) },
    monoUs: [mono0, mono1],
    generatorCpuShare: (own.user + own.system) / 1000 / (mono1 / 1000 - mono0 / 1000),
    throttledShare: (thr1.throttled - thr0.throttled) / (thr1.periods - thr0.periods),
  };
  if (ph.rateOf === undefined && !Number.isFinite(saturation)) saturation = phase.changesPerSec;
  phases.push(phase);
  say(
    `${ph.name}: ${changes} changes (${failed} failed ${JSON.stringify(failedCodes)}, ${skipped} skipped), ${phase.changesPerSec.toFixed(0)}/s${targetRate ? ` (target ${targetRate.toFixed(0)}/s)` : ''}, ` +
      `heard ${phase.heard}/${phase.expected} (superseded ${phase.superseded}, missing at 5 s ${phase.missing}, at 15 s ${phase.missingAfter15s}, duplicates ${phase.duplicates}), reconnects ${JSON.stringify(phase.reconnects)}, ` +
      `p50 ${phase.p50.toFixed(1)} ms p99 ${phase.p99.toFixed(1)} ms, cross-node p50 ${phase.crossP50.toFixed(1)} p99 ${phase.crossP99.toFixed(1)} ms, ` +
      `Redis ${phase.redisOpsPerChange.toFixed(2)} ops and ${(phase.redisCpuMsPerChange * 1000).toFixed(0)} µs CPU per change, nodes ${(phase.nodeCpuMsPerChange * 1000).toFixed(0)} µs CPU (${((phase.nodeSystemMsPerChange ?? NaN) * 1000).toFixed(0)} µs system, ${((phase.nodeMainThreadMsPerChange ?? NaN) * 1000).toFixed(0)} µs on the event loops) and ${phase.nodeSyscallsPerChange!.read.toFixed(1)} reads + ${phase.nodeSyscallsPerChange!.write.toFixed(1)} writes (syscalls) and ${phase.switchesPerChange!.nodes.woke.toFixed(2)} wake-ups + ${phase.switchesPerChange!.nodes.preempted.toFixed(2)} preemptions of the event loops per change (Redis ${phase.switchesPerChange!.redis.woke.toFixed(2)} + ${phase.switchesPerChange!.redis.preempted.toFixed(2)}), generator ${(phase.generatorCpuShare * 100).toFixed(0)}% of a core, throttled in ${(phase.throttledShare * 100).toFixed(0)}% of the nodes' periods; Redis per change: ${Object.entries(phase.redisCommandsPerChange ?? {}).map(([k, n]) => `${k} ${n.toFixed(2)}`).join(', ')}, ${phase.redisInBytesPerChange?.toFixed(0)} bytes in`,
  );
  if (phase.missingAfter15s > 0) say(`  missing after 15 s, e.g. ${JSON.stringify(phase.missingSample.slice(0, 5))}`);
}
clearInterval(pinger);
emitResult({ tag: p.tag, users: n, subs: p.subs, hung, setupReconnects, phases });
for (const s of socks) {
  s.done = true;
  s.ws?.terminate();
}
redis.disconnect();
process.exit(0);
