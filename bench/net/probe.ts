// Before/after of one change to the send path, on a shared machine: two `serve` processes (one per source
// tree, e.g. a checkout of the old commit and this one) each with its own load generators, offered the
// same open-loop rate in turns (A, B, A, B ...), so both see the same machine. Per turn it reads what load
// does not blur: the server's CPU time and write system calls (/proc/PID/io syscw) per change, net of the
// idle heartbeat traffic measured beside it; and the latency, with the load average.
//   node --import tsx bench/net/probe.ts --base /tmp/old-tree [--target ws|sdk] [--clients 5000] [--rate 50] [--ms 8000] [--rounds 3]
//     [--heartbeat 10000] [--profile 1: a CPU profile of this tree's server instead]
//     [--base-flags '...' --flags '...': each server's node flags (default SERVE_NODE_FLAGS); with --base . a before/after of a flag]
//     [--warm RATE --warm-ms MS: each server first offered RATE for MS, as part 3's saturation search before its 10% step]
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { cpuMs, Fleet, importUsers, startServer, writeCalls, type Server } from './fleet';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
const here = resolve('.');
const trees = [args.get('base'), args.get('code') ?? here].filter((x): x is string => Boolean(x)).map((x) => resolve(x));
const target = (args.get('target') ?? 'ws') as 'ws' | 'sdk';
const clients = Number(args.get('clients') ?? 5000);
const rate = Number(args.get('rate') ?? 50);
const ms = Number(args.get('ms') ?? 8000);
const rounds = Number(args.get('rounds') ?? 3);
const subs = Number(args.get('subs') ?? 20);
// Part 3's heartbeat (10 s: a ping every 4 s a socket). Longer, the idle traffic blurs the per-change figures less.
const heartbeatMs = Number(args.get('heartbeat') ?? 10_000);
const flagsOf = (k: string) => (args.has(k) ? args.get(k)!.split(' ').filter(Boolean) : undefined);
const warm = Number(args.get('warm') ?? 0);
const warmMs = Number(args.get('warm-ms') ?? 30_000);
const SECRET = 'probe-secret-of-the-bench';
const SDK_APP_ID = 1_400_000_000;

const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

interface Rig {
  tree: string;
  server: Server;
  fleet: Fleet;
  id: number;
}

async function rig(tree: string, k: number, flags: string[] | undefined): Promise<Rig> {
  const server = await startServer(tree, [
    'src/cli.ts', 'serve', '--host', '127.0.0.1', '--port', '0', '--store', 'memory', '--switch', 'userStatus=on',
    '--secret-key', SECRET, '--sdkappid', String(SDK_APP_ID), '--log-level', 'warn',
    '--request-rate', '1000000', '--request-burst', '1000000', '--limit', 'rateLimit.requests=1000000', '--heartbeat-ms', String(heartbeatMs),
  ], { flags });
  await importUsers(server.url, { users: clients, secretKey: SECRET, sdkAppId: SDK_APP_ID });
  // The load generators are this tree's for both servers: only the server differs.
  const fleet = await Fleet.start(here, 2, { proto: target, url: server.url, users: clients, subs, seed: 7 + k, secretKey: SECRET, sdkAppId: SDK_APP_ID, heartbeatMs });
  await fleet.setup();
  if (warm > 0) await fleet.phase(1000, warm, warmMs, 3000);
  return { tree: `${tree}${flags ? ` [${flags.join(' ')}]` : ''}`, server, fleet, id: 0 };
}

/** The server's CPU ms and write calls, and the heartbeats the load generators sent, so far. */
async function read(r: Rig): Promise<{ cpu: number; w: number; beats: number }> {
  return { cpu: cpuMs(r.server.pid), w: writeCalls(r.server.pid), beats: await r.fleet.beats() };
}

/**
 * One turn: 3 s of heartbeats only (the CPU one heartbeat costs), then the phase. Each heartbeat frame is
 * answered by one write: the phase's writes less its heartbeats are the changes' (pushes, replies and, in
 * the SDK protocol, the replies to the pushes' acknowledgements); its CPU less its heartbeats' likewise.
 */
async function turn(r: Rig) {
  const i0 = await read(r);
  await sleep(3000);
  const i1 = await read(r);
  const cpuPerBeat = i1.beats > i0.beats ? (i1.cpu - i0.cpu) / (i1.beats - i0.beats) : 0;
  const load = loadavg()[0]!;
  const ph = await r.fleet.phase(++r.id, rate, ms, 3000);
  const p1 = await read(r);
  const beats = p1.beats - i1.beats;
  const cpu = p1.cpu - i1.cpu - cpuPerBeat * beats;
  const w = p1.w - i1.w - beats;
  return {
    changes: ph.changes,
    pushes: ph.delivered,
    expected: ph.expected,
    cpuPerChangeMs: cpu / ph.changes,
    writesPerChange: w / ph.changes,
    beats,
    p50: ph.latency.p50,
    p99: ph.latency.p99,
    p999: ph.latency.p999,
    load,
  };
}

if (args.has('profile')) {
  // A CPU profile of one tree's server at this rate, broken down (bench/net/breakdown.ts), instead of the turns.
  const { profile } = await import('./latency');
  const pr = await profile({ code: trees.at(-1)!, scale: 'quick', seed: 7, log: () => undefined }, target, clients, rate, ms, 2);
  console.log(`${trees.at(-1)} ${target} ${clients} @${rate}/s: busy ${pr.breakdown.busyMs.toFixed(0)} of ${pr.breakdown.wallMs.toFixed(0)} ms, p99 ${pr.latency.p99.toFixed(2)} ms`);
  for (const s of pr.breakdown.steps) console.log(`  ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.step}`);
  for (const s of pr.breakdown.top) console.log(`  ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.fn} ${s.where}`);
  process.exit(0);
}

const rigs: Rig[] = [];
try {
  for (const [k, t] of trees.entries()) rigs.push(await rig(t, k, flagsOf(k === trees.length - 1 ? 'flags' : 'base-flags')));
  const rows: Array<{ tree: string } & Awaited<ReturnType<typeof turn>>> = [];
  for (let i = 0; i < rounds; i++) {
    for (const r of i % 2 === 0 ? rigs : [...rigs].reverse()) {
      const x = await turn(r);
      rows.push({ tree: r.tree, ...x });
      console.log(`${r.tree.padEnd(22)} ${target} ${clients} @${rate}/s: cpu/change ${x.cpuPerChangeMs.toFixed(3)} ms, writes/change ${x.writesPerChange.toFixed(1)} (less ${x.beats} heartbeats), pushes ${x.pushes}/${x.expected}, p50 ${x.p50.toFixed(2)} p99 ${x.p99.toFixed(2)} p99.9 ${x.p999.toFixed(2)} ms, load ${x.load.toFixed(1)}`);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const t of rigs.map((r) => r.tree)) {
    const mine = rows.filter((x) => x.tree === t);
    console.log(`median ${t}: cpu/change ${med(mine.map((x) => x.cpuPerChangeMs)).toFixed(3)} ms, writes/change ${med(mine.map((x) => x.writesPerChange)).toFixed(1)}, p50 ${med(mine.map((x) => x.p50)).toFixed(2)} p99 ${med(mine.map((x) => x.p99)).toFixed(2)} ms`);
  }
} finally {
  for (const r of rigs) {
    await r.fleet.stop();
    await r.server.stop();
  }
}
