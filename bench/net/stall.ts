// Where the tail comes from: one `serve` (this tree) with 5k clients at a fixed open-loop rate, its event
// loop watched from inside (a preload: monitorEventLoopDelay, turns that held the loop, GC pauses with their
// times) and, with --profile, a CPU profile whose long busy stretches are broken down by function.
//   node --import tsx bench/net/stall.ts [--target ws|sdk] [--clients 5000] [--rate 200] [--ms 20000] [--profile 1] [--out DIR] [--agents 2]
//     [--warm RATE --warm-ms MS: a phase at RATE first, as part 3's saturation search before its 10% step]
//     [--slow US: each push slower than US lined up with the server's and the load generators' pauses (default 3000)]
//     [--node-flags '--max-semi-space-size=64 ...': the server's node flags instead of SERVE_NODE_FLAGS ('' for node's defaults)]
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { Profile } from '../lib/cpuprofile';
import { Fleet, importUsers, SERVE_NODE_FLAGS, startServer } from './fleet';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const target = (args.get('target') ?? 'ws') as 'ws' | 'sdk';
const clients = Number(args.get('clients') ?? 5000);
const rate = Number(args.get('rate') ?? 200);
const ms = Number(args.get('ms') ?? 20_000);
const out = resolve(args.get('out') ?? `/tmp/stall-${process.pid}`);
const code = resolve(args.get('code') ?? '.');
const warm = Number(args.get('warm') ?? 0);
const warmMs = Number(args.get('warm-ms') ?? 30_000);
const slowUs = Number(args.get('slow') ?? 3000);
// The server's node flags: SERVE_NODE_FLAGS unless given ('' for none: node's defaults).
const nodeFlags = args.has('node-flags') ? args.get('node-flags')!.split(' ').filter(Boolean) : SERVE_NODE_FLAGS;
mkdirSync(out, { recursive: true });
const SECRET = 'stall-secret-of-the-bench';
const SDK_APP_ID = 1_400_000_000;
const heartbeatMs = 10_000;

/** The preload: the loop's delay each 5 s, each turn that held it over 3 ms (a 2 ms interval's lateness), each GC pause over 1 ms. */
const WATCH = `
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { appendFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import v8 from 'node:v8';
const out = process.env.STALL_OUT;
if (out && process.env.STALL_ALLOC) {
  // SIGURG starts V8's sampling heap profiler (garbage included), the next one writes what it saw.
  const s = new Session();
  s.connect();
  let on = false;
  process.on('SIGURG', () => {
    if (!on) {
      s.post('HeapProfiler.enable');
      s.post('HeapProfiler.startSampling', { samplingInterval: 8192, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      on = true;
    } else s.post('HeapProfiler.stopSampling', (err, r) => writeFileSync(out + '.alloc.json', JSON.stringify(err ? { err: String(err) } : r.profile)));
  });
}
// Every time below is CLOCK_MONOTONIC in seconds, the load generators' clock, so that their slow pushes line up.
const T = () => Number(process.hrtime.bigint() / 1000n) / 1e6;
const OFF = T() - performance.now() / 1000;
if (out) {
  // The driver marks the phase's start and end (SIGURG), so that the summary counts only what happened in it.
  process.on('SIGURG', () => appendFileSync(out, 'mark ' + T().toFixed(4) + ' old=' + (v8.getHeapSpaceStatistics().find((x) => x.space_name === 'old_space').space_used_size / 1e6).toFixed(1) + 'MB\\n'));
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const log = (s) => appendFileSync(out, s + '\\n');
  // With the process's CPU time over the same span: a turn that held the loop ran (CPU ~ wall), one that
  // waited for a core (the machine's other work) did not.
  let last = T();
  let lastCpu = process.cpuUsage();
  setInterval(() => {
    const now = T();
    const cpu = process.cpuUsage();
    const late = (now - last) * 1000 - 2;
    if (late > 3) log('late ' + now.toFixed(4) + ' ' + late.toFixed(1) + ' ' + ((cpu.user + cpu.system - lastCpu.user - lastCpu.system) / 1000).toFixed(1));
    last = now;
    lastCpu = cpu;
  }, 2).unref();
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) log('gc ' + (OFF + e.startTime / 1000).toFixed(4) + ' ' + e.duration.toFixed(1) + ' kind=' + e.detail?.kind + ' heap=' + (process.memoryUsage().heapUsed / 1e6).toFixed(0) + 'MB');
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    log('eld ' + T().toFixed(1) + ' p50 ' + (h.percentile(50) / 1e6).toFixed(2) + ' p99 ' + (h.percentile(99) / 1e6).toFixed(2) + ' p99.9 ' + (h.percentile(99.9) / 1e6).toFixed(2) + ' max ' + (h.max / 1e6).toFixed(2));
    h.reset();
  }, 5000).unref();
}
`;

const preload = join(out, 'watch.mjs');
writeFileSync(preload, WATCH);
const flags = [...nodeFlags, '--import', preload, ...(args.has('profile') ? ['--cpu-prof', `--cpu-prof-dir=${out}`, '--cpu-prof-interval', '200'] : [])];
process.env.STALL_OUT = join(out, 'loop.log');
if (args.has('alloc')) process.env.STALL_ALLOC = '1';
const server = await startServer(code, [
  'src/cli.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--store', 'memory', '--switch', 'userStatus=on',
  '--secret-key', SECRET, '--sdkappid', String(SDK_APP_ID), '--log-level', 'warn',
  '--request-rate', '1000000', '--request-burst', '1000000', '--limit', 'rateLimit.requests=1000000', '--heartbeat-ms', String(heartbeatMs),
], { flags });
let fleet: Fleet | null = null;
try {
  await importUsers(server.url, { users: clients, secretKey: SECRET, sdkAppId: SDK_APP_ID });
  // The load generators are this tree's (the one running this script), whichever server is under test.
  fleet = await Fleet.start(resolve('.'), Number(args.get('agents') ?? 2), { proto: target, url: server.url, users: clients, subs: 20, seed: 7, secretKey: SECRET, sdkAppId: SDK_APP_ID, heartbeatMs, slowUs });
  await fleet.setup();
  if (warm > 0) {
    const w = await fleet.phase(100, warm, warmMs, 3000);
    console.log(`warm-up at ${warm}/s for ${warmMs} ms: p50 ${w.latency.p50.toFixed(2)} p99 ${w.latency.p99.toFixed(2)} ms, ${w.delivered}/${w.expected}`);
    await new Promise((r) => setTimeout(r, 1000));
  } else await new Promise((r) => setTimeout(r, 2000));
  const load = loadavg()[0]!;
  process.kill(server.pid, 'SIGURG');
  const b0 = await fleet.beats();
  const ph = await fleet.phase(1, rate, ms, 3000);
  const beats = (await fleet.beats()) - b0;
  process.kill(server.pid, 'SIGURG');
  // The end mark is written when the server's loop gets to it (a stalled server later than 200 ms).
  const marks = () => readFileSync(join(out, 'loop.log'), 'utf8').split('\n').filter((l) => l.startsWith('mark ')).length;
  for (let i = 0; i < 100 && marks() < 2; i++) await new Promise((r) => setTimeout(r, 100));
  pauses(readFileSync(join(out, 'loop.log'), 'utf8'), ph.changes);
  lineUp(readFileSync(join(out, 'loop.log'), 'utf8'), ph.slow, ph.agentPauses, ph.latency.p99, ph.delivered);
  if (args.has('alloc')) {
    const file = join(out, 'loop.log.alloc.json');
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    allocations(JSON.parse(readFileSync(file, 'utf8')) as AllocNode & { head: AllocNode }, ph.changes, beats);
  }
  console.log(`${target} ${clients} @${rate}/s for ${ms} ms: p50 ${ph.latency.p50.toFixed(2)} p99 ${ph.latency.p99.toFixed(2)} p99.9 ${ph.latency.p999.toFixed(2)} max ${ph.latency.maxMs.toFixed(2)} ms, ${ph.delivered}/${ph.expected}, load ${load.toFixed(2)}`);
} finally {
  await fleet?.stop();
  await server.stop();
}
console.log(readFileSync(join(out, 'loop.log'), 'utf8').split('\n').filter((l) => l.startsWith('eld')).join('\n'));
if (args.has('profile')) {
  const file = readdirSync(out).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(out, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  // The phase's marks are CLOCK_MONOTONIC seconds, as are the profile's µs timestamps (V8's TimeTicks).
  const marks = readFileSync(join(out, 'loop.log'), 'utf8').split('\n').filter((l) => l.startsWith('mark ')).map((l) => Number(l.split(' ')[1]) * 1e6);
  longStretches(JSON.parse(readFileSync(file, 'utf8')) as Profile, marks.at(-2) ?? 0, marks.at(-1) ?? Infinity);
}

/** Busy stretches (no idle sample) over 3 ms: their length and what ran in them, by self time and by top frame of src/. */
function longStretches(p: Profile, fromUs: number, toUs: number): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (id: number) => {
    const cf = byId.get(id)!.callFrame;
    return `${cf.functionName || '(anon)'} ${cf.url.replace(/.*\/(src|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`;
  };
  /** The outermost frame of this tree's src/ (what the turn was for). */
  const root = (id: number) => {
    let best = id;
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) if (/\/src\//.test(byId.get(x)!.callFrame.url)) best = x;
    return name(best);
  };
  let t = p.startTime;
  let run: Array<[number, number]> = [];
  let runStart = t;
  const stretches: Array<{ at: number; ms: number; samples: Array<[number, number]> }> = [];
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    const id = p.samples[i]!;
    const idle = byId.get(id)!.callFrame.functionName === '(idle)';
    if (idle) {
      if (run.length && t - runStart > 3000 && runStart >= fromUs && t <= toUs) stretches.push({ at: (runStart - p.startTime) / 1e6, ms: (t - runStart) / 1000, samples: run });
      run = [];
      runStart = t;
    } else run.push([id, p.timeDeltas[i + 1] ?? 0]);
  }
  console.log(`${stretches.length} busy stretches over 3 ms in the phase`);
  for (const s of stretches.sort((a, b) => b.ms - a.ms).slice(0, 12)) {
    const self = new Map<string, number>();
    const roots = new Map<string, number>();
    for (const [id, dt] of s.samples) {
      self.set(name(id), (self.get(name(id)) ?? 0) + dt);
      const r = root(id);
      roots.set(r, (roots.get(r) ?? 0) + dt);
    }
    const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${(v / 1000).toFixed(1)} ${k}`).join(' | ');
    console.log(`at ${(s.at - (fromUs - p.startTime) / 1e6).toFixed(2)} s into the phase: ${s.ms.toFixed(1)} ms\n   self: ${top(self)}\n   from: ${top(roots)}`);
  }
}

interface AllocNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocNode[];
}

/** Bytes allocated in the phase (garbage included), per change, by leaf function and by the outermost frame of src/. */
function allocations(p: { head: AllocNode }, changes: number, beats: number): void {
  const self = new Map<string, number>();
  const mine = new Map<string, number>();
  let total = 0;
  const nm = (cf: AllocNode['callFrame']) => `${cf.functionName || '(anon)'} ${cf.url.replace(/.*\/(src|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`;
  const walk = (n: AllocNode, src: string | null, near: string | null) => {
    const here = /\/src\//.test(n.callFrame.url) ? nm(n.callFrame) : null;
    const outer = src ?? here;
    const inner = here ?? near;
    if (n.selfSize > 0) {
      total += n.selfSize;
      const k = nm(n.callFrame);
      self.set(k, (self.get(k) ?? 0) + n.selfSize);
      const m = `${inner ?? '(no src frame)'}`;
      mine.set(m, (mine.get(m) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, outer, inner);
  };
  walk(p.head, null, null);
  console.log(`allocated ${(total / 1e6).toFixed(1)} MB in the phase: ${(total / changes).toFixed(0)} B per change (${changes} changes, ${beats} heartbeats)`);
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `  ${(v / changes).toFixed(0).padStart(7)} B/change ${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
  console.log(`by function:\n${top(self)}\nby nearest frame of src/:\n${top(mine)}`);
}

/** GC pauses and turns that held the loop over 3 ms, between the phase's marks. */
function pauses(log: string, changes: number): void {
  const lines = log.split('\n');
  const marks = lines.filter((l) => l.startsWith('mark ')).map((l) => Number(l.split(' ')[1]));
  const [from, to] = [marks.at(-2) ?? 0, marks.at(-1) ?? Infinity];
  const gc = new Map<string, number[]>();
  const late: number[] = [];
  for (const l of lines) {
    const f = l.split(' ');
    const at = Number(f[1]);
    if (!(at >= from && at <= to)) continue;
    if (f[0] === 'gc') gc.set(f[3]!, [...(gc.get(f[3]!) ?? []), Number(f[2])]);
    if (f[0] === 'mark') console.log(`old space used at a mark: ${f[2]}`);
    if (f[0] === 'late') late.push(Number(f[2]));
  }
  const kinds: Record<string, string> = { 'kind=1': 'scavenge', 'kind=2': 'minor mark-compact', 'kind=4': 'mark-compact', 'kind=8': 'incremental marking', 'kind=16': 'weak callbacks' };
  for (const [k, all] of gc) {
    const xs = all.filter((x) => x > 1);
    console.log(`GC ${kinds[k] ?? k}: ${all.length} (${xs.length} over 1 ms; ${(all.length / (changes / 1000)).toFixed(1)} per 1,000 changes), ${all.reduce((a, b) => a + b, 0).toFixed(0)} ms in all, longest ${Math.max(...all).toFixed(1)} ms`);
  }
  late.sort((a, b) => b - a);
  console.log(`turns over 3 ms: ${late.length}, ${late.reduce((a, b) => a + b, 0).toFixed(0)} ms in all, longest ${late.slice(0, 5).map((x) => x.toFixed(1)).join(', ')} ms`);
}

/**
 * Each slow push (sent → received, CLOCK_MONOTONIC) against what overlapped it: a GC pause in the server (by
 * kind), a turn of the server's loop held over 3 ms without one, a pause of a load generator (its GC or a late
 * turn: it sent late, or read late), or nothing seen. The pushes over the phase's p99 are counted apart.
 */
function lineUp(log: string, slow: number[], agentPauses: number[][], p99Ms: number, delivered: number): void {
  const kinds: Record<string, string> = { 'kind=1': 'scavenge', 'kind=2': 'minor mark-compact', 'kind=4': 'mark-compact', 'kind=8': 'incremental marking', 'kind=16': 'weak callbacks' };
  type Span = { from: number; to: number; what: string };
  const server: Span[] = [];
  for (const l of log.split('\n')) {
    const f = l.split(' ');
    if (f[0] === 'gc') server.push({ from: Number(f[1]) * 1e6, to: Number(f[1]) * 1e6 + Number(f[2]) * 1000, what: `server GC ${kinds[f[3]!] ?? f[3]}` });
    // CPU over the span (all the server's threads) under half its wall time: the server was waiting for a core.
    if (f[0] === 'late') server.push({ from: Number(f[1]) * 1e6 - (Number(f[2]) + 2) * 1000, to: Number(f[1]) * 1e6, what: Number(f[3]) < 0.5 * (Number(f[2]) + 2) ? 'server waiting for a core' : 'server turn held, running (no GC in it)' });
  }
  const agents: Span[] = [];
  for (const xs of agentPauses) for (let i = 0; i < xs.length; i += 3) agents.push({ from: xs[i]! - xs[i + 1]!, to: xs[i]!, what: xs[i + 2] === 0 ? 'load generator turn held' : 'load generator GC' });
  const gcs = server.filter((x) => x.what.startsWith('server GC'));
  const overlaps = (a: Span, from: number, to: number) => a.from < to && a.to > from;
  const tally = (minUs: number) => {
    const m = new Map<string, number>();
    let n = 0;
    for (let i = 0; i < slow.length; i += 2) {
      const [from, lat] = [slow[i]!, slow[i + 1]!];
      if (lat < minUs) continue;
      n++;
      const to = from + lat;
      const g = gcs.find((x) => overlaps(x, from, to));
      const t = g ?? server.find((x) => overlaps(x, from, to)) ?? agents.find((x) => overlaps(x, from, to));
      const k = t?.what ?? 'nothing seen';
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return `${n} pushes: ` + [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v} (${((100 * v) / Math.max(1, n)).toFixed(0)}%)`).join(', ');
  };
  console.log(`slow pushes of ${delivered} (over ${(slowUs / 1000).toFixed(1)} ms): ${tally(slowUs)}`);
  console.log(`over the p99 (${p99Ms.toFixed(2)} ms): ${tally(p99Ms * 1000)}`);
  const ag = agents.filter((x) => x.to - x.from > 3000);
  console.log(`load generator pauses over 3 ms: ${ag.length}, longest ${ag.map((x) => (x.to - x.from) / 1000).sort((a, b) => b - a).slice(0, 5).map((x) => x.toFixed(1)).join(', ')} ms`);
}
