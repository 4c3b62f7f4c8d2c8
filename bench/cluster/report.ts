// docs/performance.md's cluster section (part 8, bench/cluster/part.ts): the figures of issue 13 item 7
// against its targets, what was run, and how to run it again. Rendered by bench/report.ts.
import type { ClusterLoadPhase } from './load';
import type { ClusterBench, ScalingResult } from './part';

export const CLUSTER_TARGETS = { failoverP99Ms: 6000, handoffMs: 1000, scaling3to1: 2.4 } as const;

const ms = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 1 : 0)} ms`);
const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
/** The ratio over the rows' warm-up phases too (fresh processes, JIT warming), when the run had them. */
const cold = (s: ScalingResult) => (s.coldRatio3to1 === undefined ? '' : `; in the ${s.warmUpSeconds} s warm-up before it ${f2(s.coldRatio3to1)}`);
const met = (ok: boolean) => (ok ? 'met' : '**missed**');

/** The rows of the report's Targets table. */
export function clusterTargetRows(c: ClusterBench): string[] {
  const rows: string[] = [];
  if (c.chaos) rows.push(`| 8 | acknowledged writes lost in the chaos run (${c.chaos.kills} kill -9 under load) | 0 | ${/lost (\d+)/.exec(c.chaos.summary)?.[1] ?? c.chaos.report.lost.length} (${c.chaos.summary}) | ${met((/lost (\d+)/.exec(c.chaos.summary)?.[1] ?? String(c.chaos.report.lost.length)) === '0')} |`);
  if (c.failover) rows.push(`| 8 | failover, kill -9 to the first acknowledged call on the new owner, p99 over ${c.failover.n} kills | < 6 s | ${ms(c.failover.p99)} (p50 ${ms(c.failover.p50)}) | ${met(c.failover.p99 < CLUSTER_TARGETS.failoverP99Ms)} |`);
  if (c.handoff) rows.push(`| 8 | graceful handoff, SIGTERM to the first acknowledged call after it, p99 over ${c.handoff.n} | < 1 s | ${ms(c.handoff.p99)} (p50 ${ms(c.handoff.p50)}) | ${met(c.handoff.p99 < CLUSTER_TARGETS.handoffMs)} |`);
  for (const s of [c.scaling, c.scalingSubs]) {
    if (!s) continue;
    const cpu = (s.cpuBoundRatio3to1 === undefined ? '' : `; from CPU per change ${f2(s.cpuBoundRatio3to1)}`) + cold(s);
    rows.push(`| 8 | throughput, 3 nodes / 1 node, each capped to ${s.capFraction} core, ${s.subs} subscriptions each | ≥ 2.4 | ${f2(s.ratio3to1)} measured${cpu} | ${met(s.ratio3to1 >= CLUSTER_TARGETS.scaling3to1)} |`);
  }
  return rows;
}

export function clusterSection(c: ClusterBench): string[] {
  const out = [
    '## 8. Several nodes on Redis (issue 13)',
    '',
    `Measured ${c.date}, load average ${c.load.before.map((x) => x.toFixed(2)).join(', ')} before, ${c.load.after.map((x) => x.toFixed(2)).join(', ')} after`,
    '(the machine is shared with other jobs: absolute rates are low and noisy; timings include waiting for a core).',
    `Real processes: one \`redis-server\` of the run's own (appendonly, appendfsync always) and \`status-engine serve --redis URL --node-id nN --shards ${c.shards}\``,
    `nodes with \`${c.nodeArgs.join(' ')}\`; clients speak the client protocol over WebSockets.`,
    '',
  ];
  const steps = Object.entries(c.steps ?? {});
  if (steps.length > 0) {
    out.push(`Steps: ${steps.map(([name, st]) => `${name} started ${st.date} (load ${st.load[0]?.toFixed(1) ?? 'n/a'})`).join('; ')} (a step not run this time keeps its figures from the run named).`, '');
  }
  if (c.errors.length > 0) out.push('Steps that did not complete:', '', ...c.errors.map((e) => `- \`${e}\``), '');
  if (c.scaling || c.scalingSubs) {
    const first = (c.scaling ?? c.scalingSubs)!;
    out.push(
      '### Throughput with 1, 2 and 3 nodes under equal CPU caps',
      '',
      `Each node process in its own cgroup capped to ${first.capFraction} of a core (${first.cgroup}); Redis and the load generator are not capped;`,
      'the nodes ran with `--lease-ms 10000` here (a node held to 0.2 core at saturation can miss a 2 s renewal: this step is about throughput).',
      `${first.users} users online, one socket each opened straight to the node owning the user's shard; setSelfStatus calls ${first.outstandingPerNode ?? 256} in flight`,
      `per node${first.outstandingPerNode ? '' : ' (older run: 256 in all)'} for the whole phase (closed loop)${first.warmUpSeconds ? `, measured after ${first.warmUpSeconds} s of the same load (each row's node processes are fresh: their JIT warms up in it)` : ', measured from the first call (fresh node processes: their JIT warm-up is in the figures)'}. "throttled": the share of the nodes' busy CFS periods in which their quota ran out`,
      '(near 100%: the caps set the pace; well below: the machine did not give the nodes their share, and the measured ratio understates the caps).',
      '"CPU-bound": nodes × cap ÷ node CPU per change, the rate the caps allow at the measured cost per change (node CPU from /proc, during the calls only).',
      '"heard": pushes heard by their receivers (own device and subscribers) as such / expected; "later": a later version of that setter heard instead',
      '(a resume after a silent link or a reconnect hands the current status once, EXT-2); "missing": neither, 5 s after the last call (bench/cluster/heard.ts).',
      '',
    );
    for (const s of [c.scaling, c.scalingSubs]) if (s) out.push(...scalingTable(s));
  }
  if (c.redis) out.push(`Redis per change (${c.redis.at}, from INFO commandstats and INFO cpu): ${f2(c.redis.opsPerChange)} commands, ${n0(c.redis.cpuUsPerChange)} µs of Redis CPU.`, '');
  if (c.scalingSubs) out.push('What a cross-node delivery costs and what was done to lower it, each step measured before/after: docs/cluster.md, "What a cross-node delivery costs".', '');
  if (c.latency) {
    out.push(
      '### Set-to-notify latency across nodes',
      '',
      `${c.latency.nodes} nodes, not capped; user i's socket on node i mod 3 whatever node owns it (as behind a load balancer: most sockets are relayed to`,
      `their owner); 3 subscriptions each. Saturation (256 calls in flight) was ${n0(c.latency.saturation)} changes/s; the other phases send at a fixed pace.`,
      `"cross-node": pushes whose setter and receiver are owned by different nodes. ${c.latency.hungSubscriptions ?? 0} of the subscriptions never answered (those sockets were left out).`,
      'A socket closed under a device (1012 when its shard changed owner, or its node went away) reconnects (1012: to the same node, else the next) and resumes',
      'with its versions, as the remote client does; its calls in flight fail ("closed"), its pushes missed meanwhile come with the resume (timed from their call).',
      'Redis commands per change include the cluster\'s own background commands (membership, leases), spread over fewer changes at the slower phases.',
      '',
      '| phase | changes/s | heard / expected (later, missing, duplicates) | reconnects | p50 | p99 | cross-node p50 | cross-node p99 | Redis commands per change |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const p of c.latency.phases) out.push(`| ${p.name} | ${n0(p.changesPerSec)} | ${heard(p)} | ${reconnects(p)} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.crossP50)} | ${ms(p.crossP99)} | ${f2(p.redisOpsPerChange)} |`);
    out.push('');
  }
  if (c.failover || c.handoff) {
    out.push('### Failover and graceful handoff', '', '| event | n | p50 | p99 | max |', '|---|---|---|---|---|');
    if (c.failover) out.push(`| kill -9 of a node → first acknowledged call of a user of its shard (on the new owner) | ${c.failover.n} | ${ms(c.failover.p50)} | ${ms(c.failover.p99)} | ${ms(c.failover.max)} |`);
    if (c.handoff) out.push(`| SIGTERM of a node → first acknowledged call after its handoff (${c.handoff.failedCalls} calls failed in all meanwhile) | ${c.handoff.n} | ${ms(c.handoff.p50)} | ${ms(c.handoff.p99)} | ${ms(c.handoff.max)} |`);
    out.push(
      '',
      'The probe is a remote client logged in as a user whose shard the victim owns, with the URLs of the other nodes; it calls',
      'setSelfStatus in a loop (1.5 s request timeout) from the signal on. After each kill the node is started again and the cluster',
      'settles (every shard owned once) before the next.',
      '',
    );
  }
  if (c.chaos) {
    const r = c.chaos;
    // The stored lists are cut to 20 entries each; the summary line has the full counts.
    const count = (name: string, listed: number | undefined) => new RegExp(`${name} (\\d+)`).exec(r.summary)?.[1] ?? String(listed ?? 'n/a');
    out.push(
      '### The chaos run',
      '',
      `${r.devices} web devices (remote clients with the three URLs, each homed on one node; 4 of them know only node n1 and never come back`,
      `after its first kill), each following 3 others, 8 setSelfStatus calls in flight throughout the ${r.kills} kill -9, the SIGTERMs and ${r.sigstops} SIGSTOP`,
      `above; then quiescence, 2 × the web heartbeat timeout, and the truth from REST. ${n0(r.acks)} calls acknowledged, ${n0(r.failures)} failed`,
      `(codes: ${Object.entries(r.failureCodes).map(([k, v]) => `${k} × ${v}`).join(', ') || 'none'}); ${r.kicked} resumes refused (kickedOut${r.kickedSample[0] ? `, e.g. ${r.kickedSample[0].type} ${r.kickedSample[0].code}` : ''}: those devices were logged in again before the check` +
        `${r.reloginFailed && r.reloginFailed.length > 0 ? `; **${r.reloginFailed.length} of those logins failed**, e.g. \`${r.reloginFailed[0]!.message}\`` : ''}).`,
      'The checker (test/cluster/multi/checker.ts):',
      '',
      '| acknowledged writes lost | versions reused (heard ≠ acknowledged) | duplicates applied or delivered | version regressions | views ≠ truth | ghosts |',
      '|---|---|---|---|---|---|',
      `| ${count('lost', r.report.lost.length)} | ${count('reused versions', r.report.reused?.length)} | ${count('duplicates', r.report.duplicates.length)} | ${count('regressions', r.report.regressions.length)} | ${count('stale views', r.report.staleViews.length)} | ${count('ghosts', r.report.ghosts.length)} |`,
      '',
    );
  }
  out.push('Run it again: `npm run bench -- --parts 8` (or alone, JSON on stdout: `node --import tsx bench/cluster/part.ts [--quick]`; as root, for the cgroups).', '');
  return out;
}

const heard = (p: ClusterLoadPhase | undefined) =>
  p === undefined || p.heard === undefined ? (p ? `${n0(p.pushes)} / ${n0(p.expected)} pushes (older run)` : 'n/a') : `${n0(p.heard)} / ${n0(p.expected)} (${n0(p.superseded)}, ${n0(p.missing)}, ${n0(p.duplicates)})`;
const reconnects = (p: ClusterLoadPhase) => {
  const r = Object.entries(p.reconnects ?? {});
  return r.length === 0 ? (p.reconnects ? '0' : 'n/a') : r.map(([code, k]) => `${k} × ${code}`).join(', ');
};
const syscalls = (p: ClusterLoadPhase | undefined) => (p?.nodeSyscallsPerChange === undefined ? 'n/a' : `${p.nodeSyscallsPerChange.read.toFixed(1)} + ${p.nodeSyscallsPerChange.write.toFixed(1)}`);
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${Math.round(100 * x)}%`);

/** The event loops' share of the node CPU (the rest: V8's compiler and GC helper threads), where measured. */
const loops = (p: ClusterLoadPhase | undefined) => (p?.nodeMainThreadMsPerChange === undefined ? '' : ` (${Math.round(p.nodeMainThreadMsPerChange * 1000)} on the event loops)`);

function scalingTable(s: ScalingResult): string[] {
  const base = s.rows.find((r) => r.nodes === 1);
  const out = [
    `${s.subs === 0 ? 'No subscriptions (each change heard by its own device only: the durable single-writer work)' : `${s.subs} subscriptions each (most deliveries cross nodes)`}: 3 nodes / 1 node **${f2(s.ratio3to1)}** measured${s.cpuBoundRatio3to1 === undefined ? '' : `, ${f2(s.cpuBoundRatio3to1)} from CPU per change`}${cold(s)}.`,
    ...(s.rounds === undefined
      ? []
      : [
          `The median of ${s.rounds.length} rounds, each its own 3-node rate over its own 1-node rate (rows run 1, 2, 3 nodes per round): ${s.rounds.map((r) => f2(r.ratio3to1)).join(', ')}` +
            ` (from CPU per change ${s.rounds.map((r) => f2(r.cpuBoundRatio3to1)).join(', ')}). Each row below is that node count's median round by CPU per change.`,
        ]),
    '',
    '| nodes | acknowledged changes/s | × 1 node | throttled | node CPU per change | CPU-bound changes/s | × 1 node | Redis commands per change | node syscalls per change (read + write) | failed calls | heard / expected (later, missing, duplicates) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of s.rows) {
    out.push(
      `| ${r.nodes} | ${n0(r.changesPerSec)} | ${f2(r.changesPerSec / (base?.changesPerSec ?? NaN))} | ${r.throttledShare === undefined ? `${r.throttledPeriods ?? 'n/a'} periods` : pct(r.throttledShare)} | ` +
        `${r.nodeCpuMsPerChange < 1 ? `${Math.round(r.nodeCpuMsPerChange * 1000)} µs` : ms(r.nodeCpuMsPerChange)}${loops(r.phase)} | ${r.cpuBoundPerSec === undefined ? 'n/a' : n0(r.cpuBoundPerSec)} | ` +
        `${r.cpuBoundPerSec === undefined ? 'n/a' : f2(r.cpuBoundPerSec / (base?.cpuBoundPerSec ?? NaN))} | ${r.redisOpsPerChange === undefined ? 'n/a' : f2(r.redisOpsPerChange)} | ${syscalls(r.phase)} | ${r.failed} | ${heard(r.phase)} |`,
    );
  }
  out.push('');
  return out;
}
