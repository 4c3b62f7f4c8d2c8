// `npm run bench -- --parts 8`: the cluster part (issue 13 item 7). Real processes: a redis-server of its
// own (appendfsync always) and 1-3 `status-engine serve --redis` nodes (test/cluster/multi/cluster.ts).
// Measures throughput with 1, 2 and 3 nodes each capped to the same fraction of a core (bench/cluster/
// cgroup.ts), set-to-notify latency (all and cross-node) at 10% and 50% of the 3-node saturation, Redis
// operations and CPU per change, failover time (kill -9 to the first acknowledged call of a user of a
// killed node's shard) over 20 kills, graceful handoff time (SIGTERM to the first acknowledged call after
// the handoff), and the full chaos run: a fleet of recording clients under load through every kill, checked
// by test/cluster/multi/checker.ts. Runnable alone: `node --import tsx bench/cluster/part.ts [--quick|--smoke]`.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../src/client/index';
import type { Client } from '../../src/client/types';
import { EVENT } from '../../src/events';
import { shardOf } from '../../src/cluster/shardMap';
import { checkHistory, summarize, type ChaosReport } from '../../test/cluster/multi/checker';
import { Cluster, type NodeProcess } from '../../test/cluster/multi/cluster';
import { Fleet, retrying } from '../../test/cluster/multi/fleet';
import { SDK_APP_ID, SECRET, sig } from '../../test/server/proc';
import { cpuCgroup, type CpuCgroup } from './cgroup';
import type { ClusterLoadParams, ClusterLoadPhase } from './load';
import { RESULT_PREFIX } from '../lib/measure';

export type Scale = 'full' | 'quick' | 'smoke';

export interface ClusterBench {
  date: string;
  shards: number;
  /** The flags every node ran with (after --redis/--node-id/--shards). */
  nodeArgs: string[];
  load: { before: number[]; after: number[] };
  /** No subscriptions. */
  scaling?: ScalingResult;
  /** 5 subscriptions each. */
  scalingSubs?: ScalingResult;
  latency?: { nodes: number; hungSubscriptions: number; capped: boolean; saturation: number; phases: ClusterLoadPhase[] };
  redis?: { opsPerChange: number; cpuUsPerChange: number; at: string };
  failover?: Sample;
  handoff?: Sample & { failedCalls: number };
  chaos?: { kicked: number; kickedSample: Array<{ userID: string; type: string; code: number; message: string }>; reloginFailed?: Array<{ userID: string; message: string }>; kills: number; sigstops: number; devices: number; acks: number; failures: number; failureCodes: Record<string, number>; report: Omit<ChaosReport, 'ok'> & { ok: boolean }; summary: string };
  errors: string[];
  /** When each step ran (a run of some steps keeps the others' figures, and says when they were measured). */
  steps?: Record<string, { date: string; load: number[] }>;
}

export interface ScalingResult {
  capFraction: number;
  cgroup: string;
  users: number;
  subs: number;
  outstandingPerNode?: number;
  /** Seconds of the same load each row ran before its measured phase (fresh node processes warm up their JIT in
   * it); absent in older runs: 0. */
  warmUpSeconds?: number;
  rows: Array<{
    nodes: number;
    hungSubscriptions: number;
    changesPerSec: number;
    failed: number;
    /** Older runs: throttled periods over the whole load run. */
    throttledPeriods?: number;
    /** The share of the nodes' busy CFS periods in which their quota ran out, during the calls. */
    throttledShare?: number;
    nodeCpuMsPerChange: number;
    /** Changes per second in the warm-up phase before it (absent without one). */
    warmUpChangesPerSec?: number;
    /** nodes × cap / node CPU per change: the rate the caps allow at that cost, if each node got its whole cap. */
    cpuBoundPerSec?: number;
    redisOpsPerChange?: number;
    redisCpuUsPerChange?: number;
    phase?: ClusterLoadPhase;
  }>;
  ratio3to1: number;
  cpuBoundRatio3to1?: number;
  /** The same 3/1 ratio over the warm-up phase (fresh processes, the JIT warming up): the figure before stop 13. */
  coldRatio3to1?: number;
  /** STATUS_ENGINE_BENCH_CLUSTER_REPEAT=N > 1: each round's ratios and rows (ratio3to1 is then their median). */
  rounds?: Array<{ ratio3to1: number; cpuBoundRatio3to1: number; rows: Array<{ nodes: number; changesPerSec: number; nodeCpuMsPerChange: number; throttledShare?: number }> }>;
}

export interface Sample {
  n: number;
  samplesMs: number[];
  p50: number;
  p99: number;
  max: number;
}

const SHARDS = 16;
/** Short timings so that a kill costs seconds, not the defaults' tens of seconds (see cluster-contract.md). */
export const TIMING_ARGS = [
  '--heartbeat-ms', '2000', '--limit', 'webHeartbeatTimeoutMs=5000',
  // The load generators are a few sockets sending as fast as they can: lift the per-socket budget (as part 3 does).
  '--request-rate', '1000000', '--request-burst', '1000000',
];
const WEB_TIMEOUT_MS = 5000;
/** Each node's CPU cap in the scaling step, a fraction of one core. */
const CAP = 0.2;
/** Calls in flight per node in the scaling step's closed loop. */
const OUTSTANDING_PER_NODE = Number(process.env.STATUS_ENGINE_BENCH_CLUSTER_OUTSTANDING ?? 256);
/** Added for the scaling step only. */
export const SCALING_ARGS = ['--lease-ms', '10000'];

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
const sample = (xs: number[]): Sample => ({ n: xs.length, samplesMs: xs.map((x) => Math.round(x)), p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: Math.max(...xs) });

/** Runs bench/cluster/load.ts in its own process (from `root`) and returns its phases. */
function runLoad(root: string, params: ClusterLoadParams): Promise<ClusterLoadPhase[] & { hung?: number; setupReconnects?: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=2048', '--import', 'tsx', 'bench/cluster/load.ts', JSON.stringify(params)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      process.stderr.write(d);
      err = (err + d).slice(-4000);
    });
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) {
        const res = JSON.parse(line.slice(RESULT_PREFIX.length)) as { phases: ClusterLoadPhase[]; hung: number; setupReconnects: Record<string, number> };
        resolve(Object.assign(res.phases, { hung: res.hung, setupReconnects: res.setupReconnects }));
      } else
        reject(new Error(`bench/cluster/load.ts exited with ${code}:\n${err}`));
    });
  });
}

/** Registers users through REST, again while a shard has no owner in the answering node's view (75001/75006/75007:
 * a node just (re)started, or a takeover not yet seen everywhere, even after `settled()`). */
async function registered(cluster: Cluster, userIDs: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await cluster.register(userIDs);
    } catch (e) {
      if (attempt >= 50 || !/"ErrorCode":7500[167]\b/.test((e as Error).message)) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** `count` user ids, and for each the index of the node owning its shard now. */
async function placedUsers(cluster: Cluster, prefix: string, count: number): Promise<Array<{ userID: string; owner: number }>> {
  const owners = await cluster.owners();
  const index = new Map(cluster.nodes.map((x, i) => [x.id, i]));
  return Array.from({ length: count }, (_, i) => {
    const userID = `${prefix}${i}`;
    return { userID, owner: index.get(owners.get(shardOf(userID, cluster.shards)) ?? '') ?? 0 };
  });
}

/** A user id whose shard `node` owns now. */
async function userOwnedBy(cluster: Cluster, node: NodeProcess, prefix: string): Promise<string> {
  const owners = await cluster.owners();
  for (let i = 0; i < 100_000; i++) {
    const u = `${prefix}${i}`;
    if (owners.get(shardOf(u, cluster.shards)) === node.id) return u;
  }
  throw new Error(`no user found on ${node.id}`);
}

interface Ctx {
  root: string;
  scale: Scale;
  log: (msg: string) => void;
  out: ClusterBench;
}

/** The scaling step twice: no subscriptions (each change heard by its own device: the durable single-writer
 * work) and 5 each (most of a change's deliveries cross nodes). STATUS_ENGINE_BENCH_CLUSTER_SUBS=5 runs one. */
async function scalingSteps(ctx: Ctx): Promise<void> {
  const variants = process.env.STATUS_ENGINE_BENCH_CLUSTER_SUBS?.split(',').map(Number) ?? [0, 5];
  for (const subs of variants) {
    const r = await scaling(ctx, subs);
    if (subs === 0) ctx.out.scaling = r;
    else ctx.out.scalingSubs = r;
  }
}

async function scaling(ctx: Ctx, subs: number): Promise<ScalingResult> {
  const cap = CAP;
  const users = ctx.scale === 'smoke' ? 60 : 200;
  const seconds = ctx.scale === 'smoke' ? 2 : ctx.scale === 'quick' ? 5 : 8;
  // Each row runs the same load for `warmUp` seconds before the measured phase (STATUS_ENGINE_BENCH_CLUSTER_WARMUP=S
  // to change it, 0: none). Every row starts fresh node processes, and a fresh process's first seconds are its JIT
  // warming up: the threads besides the event loop (V8's compiler and GC helpers), in the node's capped cgroup, took
  // 82-89 µs per change at 1 node and 188-202 at 3 (three processes compile the same code, the cross-node path too)
  // in the first 8 s, 22-49 after (stop 13, docs/cluster.md "Session 13"). Measured from the first call, the ratio was a start-up figure, not a service's throughput.
  const warmUp = Number(process.env.STATUS_ENGINE_BENCH_CLUSTER_WARMUP ?? (ctx.scale === 'smoke' ? 0 : ctx.scale === 'quick' ? 3 : 8));
  const rows: ScalingResult['rows'] = [];
  let cgroupKind = '';
  // STATUS_ENGINE_BENCH_CLUSTER_NODES=1,3: only those rows (experiments; the ratio needs 1 and 3).
  const counts = process.env.STATUS_ENGINE_BENCH_CLUSTER_NODES?.split(',').map(Number) ?? [1, 2, 3];
  // STATUS_ENGINE_BENCH_CLUSTER_REPEAT=N: the rows N times in rounds (1, 2, 3, 1, 2, 3, ...), so that the rows of one
  // round see about the same machine; the ratio is then the median of the rounds' own 3/1 ratios (see below).
  const repeat = Math.max(1, Number(process.env.STATUS_ENGINE_BENCH_CLUSTER_REPEAT ?? 1) || 1);
  const rounds: Array<ScalingResult['rows']> = [];
  for (let round = 0; round < repeat; round++) for (const [at, nodes] of counts.entries()) {
    if (at === 0) rounds.push([]);
    // STATUS_ENGINE_BENCH_CLUSTER_UNCAPPED=1: no cgroups (profiling: a capped node's samples carry its throttled
    // pauses; CPU per change is still measured, throughput and ratios are not the step's figures then).
    const uncapped = process.env.STATUS_ENGINE_BENCH_CLUSTER_UNCAPPED === '1';
    ctx.log(`cluster: throughput, ${nodes} node(s) ${uncapped ? 'UNCAPPED' : `capped to ${cap} core each`}, ${subs} subscriptions each`);
    const groups: CpuCgroup[] = [];
    const tag = `status-engine-bench-${process.pid}`;
    let cluster: Cluster | undefined;
    try {
      if (!uncapped) for (let i = 1; i <= nodes; i++) groups.push(cpuCgroup(`${tag}-n${i}`, cap));
      cgroupKind = uncapped ? 'none (STATUS_ENGINE_BENCH_CLUSTER_UNCAPPED=1)' : `cgroup v${groups[0]!.version} (${groups[0]!.version === 2 ? 'cpu.max' : 'cpu.cfs_quota_us'}), ${groups[0]!.path.replace(/-n1$/, '-nN')}`;
      // A longer lease here: a node held to 0.2 core at saturation can miss a 2 s renewal and rebuild its shards,
      // and this step measures throughput, not failover.
      // STATUS_ENGINE_BENCH_CLUSTER_PROF=DIR: the nodes write V8 CPU profiles to DIR/xN-sS (N nodes, S subscriptions) when they stop
      // (bench/cluster/profile-node.mjs; bench/lib/cpuprofile.ts reads them).
      const prof = process.env.STATUS_ENGINE_BENCH_CLUSTER_PROF;
      const env0 = { NODE_OPTIONS: process.env.NODE_OPTIONS, STATUS_ENGINE_PROFILE_DIR: process.env.STATUS_ENGINE_PROFILE_DIR };
      if (prof) {
        process.env.NODE_OPTIONS = `${env0.NODE_OPTIONS ?? ''} --import ${join(ctx.root, 'bench/cluster/profile-node.mjs')}`.trim();
        process.env.STATUS_ENGINE_PROFILE_DIR = join(prof, `x${nodes}-s${subs}`);
      }
      try {
        cluster = await Cluster.start({ nodes, shards: SHARDS, args: [...ctx.out.nodeArgs, ...SCALING_ARGS], root: ctx.root, onSpawn: (id, pid) => groups[Number(id.slice(1)) - 1]?.add(pid) });
      } finally {
        for (const [k, v] of Object.entries(env0)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
      await cluster.enableUserStatus();
      const placed = await placedUsers(cluster, 'sc', users);
      await registered(cluster, placed.map((u) => u.userID));
      // A profiled node starts sampling now (profile-node.mjs, on SIGUSR2): the profile holds the load, not start-up.
      if (prof) for (const x of cluster.nodes) process.kill(x.pid!, 'SIGUSR2');
      const phs = await runLoad(ctx.root, {
        tag: `cluster x${nodes}`,
        // Straight to the owner: the scaling figure is the nodes' work, not a relay hop (the latency rows go through any node).
        users: placed.map((u) => ({ ...u, url: cluster!.nodes[u.owner]!.ws })),
        subs,
        seed: 20_260_601,
        secretKey: SECRET,
        sdkAppId: SDK_APP_ID,
        redis: cluster.redis!.url,
        nodePids: cluster.nodes.map((x) => x.pid!),
        cpuStatFiles: groups.map((g) => join(g.path, 'cpu.stat')),
        // Enough in flight that the capped nodes, not the round trip, set the pace: 256 per node (with a fixed 256,
        // three nodes had a third of the queue each and were throttled in fewer of their periods than one node).
        phases: [...(warmUp > 0 ? [{ name: 'warm-up', seconds: warmUp, outstanding: OUTSTANDING_PER_NODE * nodes }] : []), { name: 'saturation', seconds, outstanding: OUTSTANDING_PER_NODE * nodes }],
      });
      const ph = phs[phs.length - 1];
      rounds[round]!.push({
        nodes,
        hungSubscriptions: phs.hung ?? 0,
        changesPerSec: ph!.changesPerSec,
        ...(phs.length > 1 ? { warmUpChangesPerSec: phs[0]!.changesPerSec } : {}),
        failed: ph!.failed,
        throttledShare: ph!.throttledShare,
        nodeCpuMsPerChange: ph!.nodeCpuMsPerChange,
        cpuBoundPerSec: (nodes * cap * 1000) / ph!.nodeCpuMsPerChange,
        redisOpsPerChange: ph!.redisOpsPerChange,
        redisCpuUsPerChange: ph!.redisCpuMsPerChange * 1000,
        phase: ph!,
      });
      if (nodes === 3 && subs === 0) ctx.out.redis = { opsPerChange: ph!.redisOpsPerChange, cpuUsPerChange: ph!.redisCpuMsPerChange * 1000, at: `3 nodes capped, saturation, ${users} users × ${subs} subscriptions` };
    } finally {
      // A profiled node writes its profile on exit: SIGTERM (a graceful stop) rather than the kill -9 of stop().
      if (process.env.STATUS_ENGINE_BENCH_CLUSTER_PROF) await Promise.all((cluster?.nodes ?? []).map((x) => x.term()));
      await cluster?.stop();
      for (const g of groups) g.remove();
    }
  }
  // Each node count's row: the median of its rounds by node CPU per change (one round: that row).
  for (const nodes of counts) {
    const all = rounds.map((r) => r.find((x) => x.nodes === nodes)).filter((x) => x !== undefined);
    all.sort((a, b) => a.nodeCpuMsPerChange - b.nodeCpuMsPerChange);
    if (all.length > 0) rows.push(all[(all.length - 1) >> 1]!);
  }
  const ratioOf = (rs: ScalingResult['rows'], key: 'changesPerSec' | 'cpuBoundPerSec' | 'warmUpChangesPerSec') => (rs.find((x) => x.nodes === 3)?.[key] ?? NaN) / (rs.find((x) => x.nodes === 1)?.[key] ?? NaN);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1] ?? NaN;
  const one = { capFraction: cap, cgroup: cgroupKind, users, subs, outstandingPerNode: OUTSTANDING_PER_NODE, warmUpSeconds: warmUp, rows };
  const cold = warmUp > 0 ? { coldRatio3to1: median(rounds.map((r) => ratioOf(r, 'warmUpChangesPerSec'))) } : {};
  if (repeat === 1) return { ...one, ratio3to1: ratioOf(rows, 'changesPerSec'), cpuBoundRatio3to1: ratioOf(rows, 'cpuBoundPerSec'), ...cold };
  return {
    ...one,
    // Paired: each round's 3-node rate over its own 1-node rate, the median of those (not the ratio of the rows
    // shown, which are each count's median round and may come from different rounds).
    ratio3to1: median(rounds.map((r) => ratioOf(r, 'changesPerSec'))),
    cpuBoundRatio3to1: median(rounds.map((r) => ratioOf(r, 'cpuBoundPerSec'))),
    ...cold,
    rounds: rounds.map((r) => ({ ratio3to1: ratioOf(r, 'changesPerSec'), cpuBoundRatio3to1: ratioOf(r, 'cpuBoundPerSec'), rows: r.map((x) => ({ nodes: x.nodes, changesPerSec: x.changesPerSec, nodeCpuMsPerChange: x.nodeCpuMsPerChange, throttledShare: x.throttledShare })) })),
  };
}

async function latency(ctx: Ctx): Promise<void> {
  const users = ctx.scale === 'smoke' ? 60 : 200;
  const seconds = ctx.scale === 'smoke' ? 2 : ctx.scale === 'quick' ? 4 : 6;
  ctx.log('cluster: cross-node set-to-notify latency, 3 nodes, clients spread over the nodes');
  const cluster = await Cluster.start({ nodes: 3, shards: SHARDS, args: ctx.out.nodeArgs, root: ctx.root });
  try {
    await cluster.enableUserStatus();
    const placed = await placedUsers(cluster, 'lt', users);
    await registered(cluster, placed.map((u) => u.userID));
    const phases = await runLoad(ctx.root, {
      tag: 'cluster latency',
      // As behind a load balancer: user i's socket on node i % 3, whichever owns it (most go through a relay).
      users: placed.map((u, i) => ({ ...u, url: cluster.nodes[i % 3]!.ws })),
      subs: 3,
      seed: 20_260_602,
      secretKey: SECRET,
      sdkAppId: SDK_APP_ID,
      redis: cluster.redis!.url,
      nodePids: cluster.nodes.map((x) => x.pid!),
      phases: [
        { name: 'saturation', seconds, outstanding: 256 },
        { name: '10% of saturation', seconds, rateOf: 0.1 },
        { name: '50% of saturation', seconds, rateOf: 0.5 },
      ],
    });
    ctx.out.latency = { nodes: 3, hungSubscriptions: phases.hung ?? 0, capped: false, saturation: phases[0]!.changesPerSec, phases };
  } finally {
    await cluster.stop();
  }
}

/** A probe device: logs in as `userID` through `urls`, and counts its drops (its socket closed under it). */
async function probe(userID: string, urls: string[]): Promise<{ client: Client; drops: () => number; set: () => Promise<boolean> }> {
  const client = createClient({ url: urls, requestTimeoutMs: 1500, reconnect: { minDelayMs: 20, maxDelayMs: 200 } });
  let drops = 0;
  client.on(EVENT.NET_STATE_CHANGE, (e) => {
    if (e.data.state !== 'connected') drops++;
  });
  await retrying(() => client.login({ userID, userSig: sig(userID) }));
  let n = 0;
  const set = async () => {
    try {
      await client.setSelfStatus({ customStatus: `probe-${++n}` });
      return true;
    } catch {
      return false;
    }
  };
  return { client, drops: () => drops, set };
}

/** Kill -9 (or SIGTERM) of a node, timed to the first acknowledged call of a user of its shard after it. */
async function timeOneTakeover(cluster: Cluster, victim: NodeProcess, how: 'kill' | 'term', k: number): Promise<{ ms: number; failed: number }> {
  const userID = await userOwnedBy(cluster, victim, `fo${k}-`);
  await registered(cluster, [userID]);
  const others = cluster.nodes.filter((x) => x !== victim);
  const p = await probe(userID, others.map((x) => x.ws));
  try {
    let ready = false;
    for (let i = 0; i < 50 && !ready; i++) if (!(ready = await p.set())) await new Promise((r) => setTimeout(r, 200));
    if (!ready) throw new Error(`the probe of ${userID} could not set its status before the ${how}`);
    const drops0 = p.drops();
    const t0 = performance.now();
    const gone = how === 'kill' ? victim.kill9() : victim.term();
    let failed = 0;
    for (;;) {
      const ok = await p.set();
      // After SIGTERM the old owner may still answer until it hands over: count only an ack after the drop.
      if (ok && (how === 'kill' || p.drops() > drops0)) return { ms: performance.now() - t0, failed };
      if (!ok) failed++;
      if (performance.now() - t0 > 60_000) throw new Error(`no acknowledged call for ${userID} within 60 s of the ${how}`);
      if (!ok) await new Promise((r) => setTimeout(r, 10));
      void gone;
    }
  } finally {
    await p.client.destroy();
  }
}

async function failoverAndChaos(ctx: Ctx): Promise<void> {
  const kills = ctx.scale === 'smoke' ? 2 : ctx.scale === 'quick' ? 6 : 20;
  // 20 SIGTERMs: enough for a p99 (the highest of 20) rather than a handful.
  const terms = ctx.scale === 'smoke' ? 2 : ctx.scale === 'quick' ? 6 : 20;
  const devices = ctx.scale === 'smoke' ? 12 : 30;
  ctx.log(`cluster: failover (${kills} kill -9), handoff (${terms} SIGTERM), chaos checker over ${devices} devices under load`);
  const cluster = await Cluster.start({ nodes: 3, shards: SHARDS, args: ctx.out.nodeArgs, root: ctx.root });
  const fleet = new Fleet((h) => cluster.urlsFrom(h));
  let stop = false;
  let loading: Promise<void> = Promise.resolve();
  try {
    const ids = Array.from({ length: devices }, (_, i) => `ch${i}`);
    const doomedIds = Array.from({ length: 4 }, (_, i) => `ghost${i}`);
    await cluster.enableUserStatus();
    await registered(cluster, [...ids, ...doomedIds]);
    const ds = await fleet.login(ids, (i) => i % 3);
    for (const [i, d] of ds.entries()) await fleet.follow(d, [ids[(i + 1) % devices]!, ids[(i + 7) % devices]!, doomedIds[i % doomedIds.length]!]);
    // Devices that know only node 1: when it is killed they never come back (no ghost allowed).
    const doomed = await fleet.login(doomedIds, () => 0, { pinned: true });
    loading = fleet.load(ds, 8, () => stop);

    const failover: number[] = [];
    for (let k = 0; k < kills; k++) {
      const victim = cluster.nodes[k % 3]!;
      const r = await timeOneTakeover(cluster, victim, 'kill', k);
      failover.push(r.ms);
      ctx.log(`  kill -9 ${victim.id} (${k + 1}/${kills}): first acknowledged call on the new owner after ${r.ms.toFixed(0)} ms`);
      if (k === 0) for (const d of doomed) await fleet.abandon(d); // their node is dead; they never return
      victim.spawn();
      await cluster.settled();
    }
    ctx.out.failover = sample(failover);

    const handoff: number[] = [];
    let failedCalls = 0;
    for (let k = 0; k < terms; k++) {
      const victim = cluster.nodes[k % 3]!;
      const r = await timeOneTakeover(cluster, victim, 'term', 100 + k);
      handoff.push(r.ms);
      failedCalls += r.failed;
      ctx.log(`  SIGTERM ${victim.id} (${k + 1}/${terms}): first acknowledged call after the handoff ${r.ms.toFixed(0)} ms (${r.failed} calls failed meanwhile)`);
      await victim.term();
      victim.spawn();
      await cluster.settled();
    }
    ctx.out.handoff = { ...sample(handoff), failedCalls };

    // SIGSTOP of a node for longer than a takeover, under the same load: it wakes fenced.
    const frozen = cluster.nodes[1]!;
    frozen.pause();
    await cluster.settled().catch(() => undefined); // the others take its shards (it is not in their live set)
    frozen.resume();
    await cluster.settled();

    stop = true;
    await loading;
    // A device refused its resume is counted (the issue wants none), then logged in again as an app would.
    const kicked = [...fleet.kicked];
    // A login that fails then is a finding of the run (recorded and reported), not a reason to lose the chaos figures.
    const reloginFailed: Array<{ userID: string; message: string }> = [];
    for (const d of ds.filter((x) => kicked.some((k) => k.userID === x.userID))) {
      try {
        await fleet.relogin(d);
      } catch (e) {
        reloginFailed.push({ userID: d.userID, message: (e as Error).message.slice(0, 200) });
        ctx.log(`  the login again of kicked device ${d.userID} failed: ${(e as Error).message}`);
      }
    }
    await fleet.settle();
    // Ghosts: the doomed devices went with the first kill, long more than 2 x the web heartbeat timeout ago.
    await new Promise((r) => setTimeout(r, 2 * WEB_TIMEOUT_MS));
    const truth = await cluster.queryStatus([...ids, ...doomedIds]);
    const report = checkHistory(fleet.history(truth));
    const failureCodes: Record<string, number> = {};
    for (const f of fleet.failures) failureCodes[f.code] = (failureCodes[f.code] ?? 0) + 1;
    ctx.out.chaos = { kicked: kicked.length, kickedSample: kicked.slice(0, 5), reloginFailed, kills, sigstops: 1, devices: devices + doomedIds.length, acks: fleet.acks.length, failures: fleet.failures.length, failureCodes, report: { ...report, lost: report.lost.slice(0, 20), reused: report.reused.slice(0, 20), duplicates: report.duplicates.slice(0, 20), regressions: report.regressions.slice(0, 20), staleViews: report.staleViews.slice(0, 20) }, summary: summarize(report).split('\n')[0]! };
    ctx.log(`  chaos: ${fleet.acks.length} acknowledged, ${fleet.failures.length} failed calls, ${kicked.length} resumes refused ${JSON.stringify(kicked.slice(0, 3))}; ${summarize(report).split('\n')[0]}`);
  } finally {
    stop = true;
    await loading.catch(() => undefined);
    await fleet.destroy();
    await cluster.stop();
  }
}

/** `STATUS_ENGINE_BENCH_CLUSTER_STEPS=scaling,latency,failover` runs only those steps; the others' figures are kept from `previous`. */
export async function clusterPart(scale: Scale, o: { root: string; log: (msg: string) => void; previous?: ClusterBench }): Promise<ClusterBench> {
  const only = process.env.STATUS_ENGINE_BENCH_CLUSTER_STEPS?.split(',');
  const keep = only && o.previous ? o.previous : undefined;
  const out: ClusterBench = {
    date: new Date().toISOString(),
    shards: SHARDS,
    // STATUS_ENGINE_BENCH_CLUSTER_NODE_ARGS: more flags for every node (experiments; the report names them).
    nodeArgs: [...TIMING_ARGS, ...(process.env.STATUS_ENGINE_BENCH_CLUSTER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    load: { before: loadavg(), after: [] },
    errors: [],
    ...(keep ? { scaling: keep.scaling, scalingSubs: keep.scalingSubs, redis: keep.redis, latency: keep.latency, failover: keep.failover, handoff: keep.handoff, chaos: keep.chaos } : {}),
  };
  if (keep) {
    const was = { date: keep.date, load: keep.load.before };
    out.steps = { scaling: keep.steps?.scaling ?? was, latency: keep.steps?.latency ?? was, failover: keep.steps?.failover ?? was };
  } else out.steps = {};
  const ctx: Ctx = { root: o.root, scale, log: o.log, out };
  for (const [name, step] of [
    ['scaling', scalingSteps],
    ['latency', latency],
    ['failover', failoverAndChaos],
  ] as const) {
    if (only && !only.includes(name)) continue;
    out.steps[name] = { date: new Date().toISOString(), load: loadavg() };
    try {
      await step(ctx);
    } catch (e) {
      out.errors.push(`${name}: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`);
      o.log(`cluster: ${name} FAILED: ${(e as Error).message}`);
    }
  }
  out.load.after = loadavg();
  return out;
}

// Alone: `node --import tsx bench/cluster/part.ts [--quick|--smoke]` prints the results as JSON.
if (process.argv[1]?.endsWith('bench/cluster/part.ts')) {
  const scale: Scale = process.argv.includes('--smoke') ? 'smoke' : process.argv.includes('--quick') ? 'quick' : 'full';
  const t0 = performance.now();
  const r = await clusterPart(scale, { root: process.cwd(), log: (m) => process.stderr.write(`[cluster ${((performance.now() - t0) / 1000).toFixed(0)}s] ${m}\n`) });
  process.stdout.write(JSON.stringify(r, null, 1) + '\n');
  process.exit(r.errors.length > 0 ? 1 : 0);
}
