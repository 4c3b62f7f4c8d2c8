// `npm run bench`: runs the benchmark parts of issue 6, each measurement in its own worker process (with
// --expose-gc and a heap sized for it), prints progress, and writes docs/performance.md and
// bench/results/latest.json. Every figure is a ratio against a baseline measured in the same run.
//
//   npm run bench                       all parts, full sizes (about 20 minutes on 2 cores)
//   npm run bench -- --parts 1,4        some parts (1 fan-out, 2 memory, 3 network latency, 4 cost growth,
//                                       5 durable, 6 the journal's bytes per change, 7 connections held,
//                                       8 the Redis cluster: bench/cluster/part.ts)
//   npm run bench -- --quick            smaller sizes, fewer repeats
//   npm run bench:smoke                 tiny sizes: checks the harness end to end (writes to a temp file)
//   npm run bench -- --render           writes the report again from bench/results/latest.json
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { summarize } from './lib/cpuprofile';
import { RESULT_PREFIX, median } from './lib/measure';
import type { WorldSpec } from './lib/world';
import { clusterPart } from './cluster/part';
import { runConnections } from './net/connections';
import { runLatency } from './net/latency';
import { TARGETS, renderReport, type BenchResults, type FanoutRow } from './report';

type Scale = 'full' | 'quick' | 'smoke';

interface Options {
  parts: Set<number>;
  scale: Scale;
  out: string;
  json: string | null;
  /** Only write the report again from the results file (after editing bench/report.ts). */
  render: boolean;
}

const ALL_PARTS = [1, 2, 3, 4, 5, 6, 7, 8];

function parseOptions(argv: string[]): Options {
  const o: Options = { parts: new Set(ALL_PARTS), scale: 'full', out: 'docs/performance.md', json: 'bench/results/latest.json', render: false };
  let outGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') o.scale = 'quick';
    else if (a === '--smoke') o.scale = 'smoke';
    else if (a === '--parts') {
      const v = argv[++i] ?? '';
      const parts = v.split(',').map(Number);
      if (parts.length === 0 || parts.some((n) => !ALL_PARTS.includes(n))) {
        throw new Error(`--parts expects a comma-separated list of ${ALL_PARTS.join(',')}, got '${v}'`);
      }
      o.parts = new Set(parts);
    } else if (a === '--render') {
      o.render = true;
    } else if (a === '--out') {
      o.out = argv[++i] ?? '';
      outGiven = true;
    } else throw new Error(`unknown option ${a} (known: --parts ${ALL_PARTS.join(',')}  --quick  --smoke  --out FILE  --render)`);
  }
  // Results of a run written elsewhere go next to it, not over bench/results/latest.json.
  if (outGiven && o.out !== 'docs/performance.md') o.json = o.out.replace(/\.md$/, '') + '.json';
  if (o.scale === 'smoke') {
    if (!outGiven) o.out = join(mkdtempSync(join(tmpdir(), 'status-engine-bench-')), 'performance.md');
    o.json = null;
  }
  return o;
}

const opts = parseOptions(process.argv.slice(2));
if (opts.render) {
  const file = opts.json ?? 'bench/results/latest.json';
  writeFileSync(opts.out, renderReport(JSON.parse(readFileSync(file, 'utf8')) as BenchResults));
  process.stderr.write(`wrote ${opts.out} from ${file}\n`);
  process.exit(0);
}
const started = performance.now();
const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);

// ---------------------------------------------------------------------------------------------------------
// Worker processes. They run on a copy of the code taken at the start, so that a run measures one version
// even while the working tree changes under it (the repository is shared).

function snapshot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'status-engine-bench-code-'));
  for (const name of ['src', 'machines', 'bench', 'package.json', 'tsconfig.json']) {
    cpSync(name, join(dir, name), { recursive: true, filter: (from) => !from.includes(`${sep}results`) });
  }
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}
const code = snapshot();
process.on('exit', () => rmSync(code, { recursive: true, force: true }));

interface WorkerOptions {
  heapMb?: number;
  flags?: string[];
}

function nodeArgs(file: string, o: WorkerOptions): string[] {
  return ['--expose-gc', `--max-old-space-size=${o.heapMb ?? 2048}`, ...(o.flags ?? []), '--import', 'tsx', file];
}

/** Runs a worker to its end and returns the result it printed. Its progress (stderr) is passed through. */
function worker<T>(file: string, params: unknown, o: WorkerOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs(file, o), JSON.stringify(params)], { cwd: code, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let errTail = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      process.stderr.write(d);
      errTail = (errTail + d).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
      else reject(new Error(`${file} exited with ${code}${line ? '' : ' without a result'}:\n${errTail}`));
    });
  });
}

/** Starts a server process and waits for its `listening on URL` line. */
function server(args: string[], o: WorkerOptions = {}): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs(args[0]!, o), ...args.slice(1)], { cwd: code, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server ${args.join(' ')} did not start in 60 s:\n${err}`)), 60_000);
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        const stop = () =>
          new Promise<void>((res) => {
            if (child.exitCode !== null) return res();
            const hard = setTimeout(() => child.kill('SIGKILL'), 20_000);
            child.once('exit', () => {
              clearTimeout(hard);
              res();
            });
            child.kill('SIGTERM');
          });
        resolve({ url: m[1]!, child, stop });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!/listening on/.test(out)) reject(new Error(`server ${args.join(' ')} exited with ${code}:\n${err}`));
    });
  });
}

/** Runs bench/profile.ts: one driver alone, its timed loop profiled in-process. */
async function profiled(params: Record<string, unknown>, o: WorkerOptions, inclusive: string[]) {
  const res = await worker<{ summary: ReturnType<typeof summarize> }>('bench/profile.ts', { ...params, inclusive, top: 15 }, o);
  return res.summary;
}

/** tsx's loader thread writes a small profile of its own: the main thread's is the largest. */
function largestFile(dir: string): string {
  const files = readdirSync(dir).map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no profile in ${dir}`);
  return files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
}

// ---------------------------------------------------------------------------------------------------------
// The parts.

const SEED = 20_260_601;
const K = 1000;

const fanoutWorld = (size: number, extra: Partial<WorldSpec> = {}): WorldSpec => ({
  users: size,
  active: size,
  subs: 20,
  friends: 20,
  devices: 1,
  ops: 0,
  seed: SEED,
  pSet: 0.8,
  pLogout: 0.1,
  ...extra,
});

const VARIANTS = [
  { api: 'core', journal: true },
  { api: 'core', journal: false },
  { api: 'client', journal: true },
  { api: 'client', journal: false },
] as const;

/** Warm-up and round sizes by world size. */
function schedule(size: number, scale: Scale): { warmup: number; rounds: number; perRound: number } {
  if (scale === 'smoke') return { warmup: 100, rounds: 2, perRound: 100 };
  const per = size >= 100 * K ? 20 * K : 10 * K;
  return { warmup: per, rounds: scale === 'quick' ? 3 : 5, perRound: per };
}

async function part1(scale: Scale, r: BenchResults): Promise<void> {
  const sizes = scale === 'full' ? [10 * K, 100 * K] : scale === 'quick' ? [10 * K] : [300];
  const extra = scale === 'smoke' ? { subs: 5, friends: 4 } : {};
  r.fanout = [];
  // Each variant in several fresh processes (one process is one draw of the heaps' layout): the median one is kept.
  const repeats = scale === 'full' ? Math.max(1, Math.floor(Number(process.env.STATUS_ENGINE_BENCH_FANOUT_REPEAT ?? 3)) || 3) : 1;
  let i = 0;
  for (const size of sizes) {
    for (const v of VARIANTS) {
      const s = schedule(size, scale);
      log(`part 1 (${++i}/${sizes.length * VARIANTS.length}): ${size} users online, ${v.api} API, journal ${v.journal ? 'on' : 'off'}${repeats > 1 ? `, ${repeats} workers` : ''}`);
      const world = fanoutWorld(size, { ...extra, ops: s.warmup + s.rounds * s.perRound });
      const runs: FanoutResult[] = [];
      for (let w = 0; w < repeats; w++) {
        runs.push(
          await worker<FanoutResult>(
            'bench/fanout.ts',
            { tag: `fanout ${size} ${v.api}${v.journal ? '' : ' nojournal'}${repeats > 1 ? ` #${w + 1}` : ''}`, world, engine: v, warmup: s.warmup, rounds: s.rounds },
            { heapMb: size >= 100 * K ? 6144 : 2048 },
          ),
        );
      }
      const byRatio = [...runs].sort((a, b) => a.ratio - b.ratio);
      const res = byRatio[(byRatio.length - 1) >> 1]!;
      r.fanout.push({ size, api: v.api, journal: v.journal, ...res, workers: runs.map((x) => x.ratio) });
    }
  }
  const missed = r.fanout.some((f) => f.ratio < (f.api === 'client' ? TARGETS.fanout : TARGETS.core));
  if (missed && scale !== 'smoke') {
    r.fanoutProfiles = [];
    const size = 10 * K;
    const s = schedule(size, scale);
    for (const v of [VARIANTS[0], VARIANTS[2]]) {
      log(`part 1: profiling ${v.api} API (journal on) at ${size} users`);
      const p = await profiled(
        { tag: `profile ${v.api}`, world: fanoutWorld(size, { ops: s.warmup + 4 * s.perRound }), engine: v, warmup: s.warmup },
        { heapMb: 2048 },
        PROFILE_STEPS[v.api],
      );
      r.fanoutProfiles.push({ api: v.api, size, self: p.self, inclusive: p.inclusive, totalMs: p.totalMs });
    }
    log(`part 1: profiling the Promise-shaped baseline at ${size} users`);
    const bp = await profiled(
      { tag: 'profile baseline-promise', world: fanoutWorld(size, { ops: s.warmup + 4 * s.perRound }), engine: null, baselineApi: 'client', warmup: s.warmup },
      { heapMb: 2048 },
      ['change', 'deliver', 'setSelfStatus'],
    );
    r.fanoutProfiles.push({ api: 'baseline-promise', size, self: bp.self, inclusive: bp.inclusive, totalMs: bp.totalMs });
    log(`part 1: profiling the baseline at ${size} users`);
    const b = await profiled(
      { tag: 'profile baseline', world: fanoutWorld(size, { ops: s.warmup + 4 * s.perRound }), engine: null, warmup: s.warmup },
      { heapMb: 2048 },
      ['change', 'deliver'],
    );
    r.fanoutProfiles.push({ api: 'baseline', size, self: b.self, inclusive: b.inclusive, totalMs: b.totalMs });
  }
}

/** The engine's steps whose inclusive time the profile reports (function names in src/). */
const PROFILE_STEPS: Record<'core' | 'client', string[]> = {
  core: ['setSelfStatus', 'login', 'logout', 'run', 'step', 'transition', 'apply', 'toOthers', 'audience', 'journal', 'append', 'flush', 'deliverMany', 'sync'],
  client: ['runClient', 'attempt', 'setSelfStatus', 'step', 'toOthers', 'flush', 'publishMany', 'hear', 'emit', 'take'],
};

type FanoutResult = FanoutRow & { baseSetupMs: number; engSetupMs: number };

async function part2(scale: Scale, r: BenchResults): Promise<void> {
  const configs =
    scale === 'full'
      ? [
          { users: 100 * K, online: 100 * K },
          { users: 1000 * K, online: 100 * K },
          { users: 1000 * K, online: 1000 * K },
        ]
      : scale === 'quick'
        ? [
            { users: 100 * K, online: 100 * K },
            { users: 1000 * K, online: 100 * K },
          ]
        : [{ users: 2000, online: 500 }];
  const kinds = [
    { kind: 'baseline', journal: false },
    { kind: 'engine', journal: true },
    { kind: 'engine', journal: false },
  ] as const;
  // A million users online takes minutes to set up: the journal-off engine is left out there (the 100k rows
  // show what the journal adds).
  const skip = (c: { online: number }, kd: (typeof kinds)[number]) => c.online >= 1000 * K && kd.kind === 'engine' && !kd.journal;
  r.memory = [];
  let i = 0;
  for (const c of configs) {
    for (const k of kinds) {
      if (skip(c, k)) continue;
      log(`part 2 (${++i}): ${c.users} registered, ${c.online} online, ${k.kind}${k.kind === 'engine' ? ` journal ${k.journal ? 'on' : 'off'}` : ''}`);
      const res = await worker<MemoryResult>(
        'bench/memory.ts',
        { tag: `memory ${c.users}/${c.online} ${k.kind}`, kind: k.kind, journal: k.journal, users: c.users, online: c.online, subs: scale === 'smoke' ? 5 : 20, seed: SEED },
        { heapMb: c.online >= 1000 * K ? 12_288 : 4096 },
      );
      r.memory.push({ ...c, kind: k.kind, journal: k.journal, ...res });
    }
  }
}

async function part6(scale: Scale, r: BenchResults): Promise<void> {
  const size = scale === 'smoke' ? 300 : 10 * K;
  // Past the default window (100,000 entries, about two a change) so that what it keeps is its bound.
  const fill = scale === 'smoke' ? 500 : 80 * K;
  const batch = scale === 'smoke' ? 50 : 200;
  const batches = scale === 'smoke' ? 4 : 25;
  log(`part 6: the journal's bytes per change, ${size} users online`);
  const world = fanoutWorld(size, { ops: fill + batch * batches, ...(scale === 'smoke' ? { subs: 5, friends: 4 } : {}) });
  r.journal = await worker<NonNullable<BenchResults['journal']>>('bench/journal.ts', { tag: 'journal', world, batch, batches, fill }, { heapMb: 4096, flags: ['--max-semi-space-size=64'] });
}

interface MemoryResult {
  perRegistered: number;
  perOnline: number;
  totalBytes: number;
  heapUsed: number;
  processHeap: number;
}

async function part4(scale: Scale, r: BenchResults): Promise<void> {
  const small = scale === 'smoke';
  const base = small ? 200 : 10 * K;
  const sweeps: Array<{ sweep: string; value: number; world: WorldSpec }> = [];
  for (const users of small ? [200, 2000, 20_000] : [10 * K, 100 * K, 1000 * K]) {
    sweeps.push({ sweep: 'registered users (10k online)', value: users, world: fanoutWorld(base, { users }) });
  }
  for (const subs of small ? [2, 8, 32] : [5, 20, 80]) {
    sweeps.push({ sweep: 'subscriptions per user (no friends)', value: subs, world: fanoutWorld(base, { subs, friends: 0 }) });
  }
  for (const devices of [1, 2, 4]) {
    sweeps.push({ sweep: 'devices per user', value: devices, world: fanoutWorld(base, { devices, ...(small ? { subs: 8, friends: 8 } : {}) }) });
  }
  // The world of part 1 at other sizes (every user online): where the engine's extra per change shows and
  // where the baseline's own cache misses cover it (the core's target at 10k, docs/performance.md part 1).
  for (const online of small ? [100, 300, 1000] : [3 * K, 10 * K, 30 * K]) {
    sweeps.push({ sweep: 'users online (all registered)', value: online, world: fanoutWorld(online, small ? { subs: 5, friends: 4 } : {}) });
  }
  r.growth = [];
  let i = 0;
  for (const s of sweeps) {
    log(`part 4 (${++i}/${sweeps.length}): ${s.sweep} = ${s.value}`);
    const sc = small ? { warmup: 100, rounds: 2, perRound: 200 } : { warmup: 10 * K, rounds: scale === 'quick' ? 3 : 5, perRound: 10 * K };
    const res = await worker<FanoutResult>(
      'bench/fanout.ts',
      { tag: `growth ${s.sweep} ${s.value}`, world: { ...s.world, ops: sc.warmup + sc.rounds * sc.perRound }, engine: { api: 'core', journal: true }, warmup: sc.warmup, rounds: sc.rounds },
      { heapMb: s.world.users >= 1000 * K ? 4096 : 2048 },
    );
    r.growth.push({ sweep: s.sweep, value: s.value, ...res });
  }
}

async function part5(scale: Scale, r: BenchResults): Promise<void> {
  r.durable = [];
  for (const synchronous of ['NORMAL', 'FULL'] as const) {
    const users = scale === 'smoke' ? 50 : 1000;
    const per = scale === 'smoke' ? 50 : synchronous === 'FULL' ? 1000 : 4000;
    const rounds = scale === 'full' ? 5 : scale === 'quick' ? 3 : 2;
    log(`part 5: SqliteStore synchronous=${synchronous}, ${users} users online`);
    const world: WorldSpec = { ...fanoutWorld(users, { friends: 0, pSet: 1, pLogout: 0 }), subs: scale === 'smoke' ? 5 : 20, ops: per + rounds * per };
    const res = await worker<FanoutResult & { synchronous: string }>(
      'bench/durable.ts',
      { tag: `durable ${synchronous}`, synchronous, world, warmup: per, rounds },
      { heapMb: 2048 },
    );
    r.durable.push(res);
  }
}

async function part3(scale: Scale, r: BenchResults): Promise<void> {
  const res = await runLatency({ code, scale, seed: SEED, log });
  r.network = res.runs;
  r.networkProfiles = res.profiles;
}

async function part7(scale: Scale, r: BenchResults): Promise<void> {
  r.connections = await runConnections({ code, scale, seed: SEED, log });
}

// ---------------------------------------------------------------------------------------------------------

function machine() {
  const c = cpus();
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    loadBefore: loadavg(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: git(['status', '--porcelain', '--', 'src', 'machines']) !== '',
    ...(l3Bytes() !== undefined ? { l3Bytes: l3Bytes() } : {}),
  };
}

/** The last-level cache's size as Linux reports it (part 4's world-size sweep is read against it). */
function l3Bytes(): number | undefined {
  try {
    const m = /^(\d+)([KMG]?)$/.exec(readFileSync('/sys/devices/system/cpu/cpu0/cache/index3/size', 'utf8').trim());
    return m ? Number(m[1]) * ({ '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 } as Record<string, number>)[m[2]!]! : undefined;
  } catch {
    return undefined;
  }
}

const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const results: BenchResults = { date: new Date().toISOString(), command, scale: opts.scale, machine: machine(), parts: {} };
// A run of some parts keeps the other parts' figures from the last run (each part says when it was measured).
if (opts.json && opts.parts.size < ALL_PARTS.length && existsSync(opts.json)) {
  const before = JSON.parse(readFileSync(opts.json, 'utf8')) as BenchResults;
  if (before.scale === opts.scale) {
    for (const key of ['fanout', 'fanoutProfiles', 'memory', 'growth', 'durable', 'network', 'networkProfiles', 'connections', 'journal', 'cluster'] as const) {
      (results as unknown as Record<string, unknown>)[key] = before[key];
    }
    results.parts = { ...(before.parts ?? {}) };
  }
}
const parts: Array<[number, (s: Scale, r: BenchResults) => Promise<void>]> = [
  [1, part1],
  [2, part2],
  [4, part4],
  [5, part5],
  [6, part6],
  [3, part3],
  [7, part7],
  [
    8,
    async (s, r) => {
      r.cluster = await clusterPart(s, { root: code, log, previous: r.cluster });
      if (r.cluster.errors.length > 0) throw new Error(r.cluster.errors.join('; '));
    },
  ],
];
let failed = false;
results.failures = [];
for (const [n, run] of parts) {
  if (!opts.parts.has(n)) continue;
  const t0 = performance.now();
  const date = new Date().toISOString();
  const loadBefore = loadavg();
  try {
    await run(opts.scale, results);
    const durationSec = (performance.now() - t0) / 1000;
    results.parts![n] = { date, command, loadBefore, loadAfter: loadavg(), durationSec };
    log(`part ${n} done in ${durationSec.toFixed(0)} s`);
  } catch (e) {
    failed = true;
    const message = e instanceof Error ? e.message : String(e);
    results.failures.push({ part: n, message });
    log(`part ${n} FAILED: ${message}`);
  }
}
results.machine.loadAfter = loadavg();
results.durationSec = (performance.now() - started) / 1000;
// An --out elsewhere may name a folder that is not there yet: a run's figures are not lost to it at the end.
mkdirSync(dirname(resolve(opts.out)), { recursive: true });
writeFileSync(opts.out, renderReport(results));
log(`wrote ${opts.out}`);
if (opts.json) {
  mkdirSync(dirname(resolve(opts.json)), { recursive: true });
  writeFileSync(opts.json, JSON.stringify(results, null, 1) + '\n');
  log(`wrote ${opts.json}`);
}
process.exit(failed ? 1 : 0);
