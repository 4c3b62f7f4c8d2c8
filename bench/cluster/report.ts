// docs/performance.md's cluster section (part 8, bench/cluster/part.ts): the figures of issue 13 item 7
// against its targets, what was run, and how to run it again. Rendered by bench/report.ts.
import type { ClusterBench } from './part';

export const CLUSTER_TARGETS = { failoverP99Ms: 6000, handoffMs: 1000, scaling3to1: 2.4 } as const;

const ms = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 1 : 0)} ms`);
const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const met = (ok: boolean) => (ok ? 'met' : '**missed**');

/** The rows of the report's Targets table. */
export function clusterTargetRows(c: ClusterBench): string[] {
  const rows: string[] = [];
  if (c.chaos) rows.push(`| 8 | acknowledged writes lost in the chaos run (${c.chaos.kills} kill -9 under load) | 0 | ${/lost (\d+)/.exec(c.chaos.summary)?.[1] ?? c.chaos.report.lost.length} (${c.chaos.summary}) | ${met((/lost (\d+)/.exec(c.chaos.summary)?.[1] ?? String(c.chaos.report.lost.length)) === '0')} |`);
  if (c.failover) rows.push(`| 8 | failover, kill -9 to the first acknowledged call on the new owner, p99 over ${c.failover.n} kills | < 6 s | ${ms(c.failover.p99)} (p50 ${ms(c.failover.p50)}) | ${met(c.failover.p99 < CLUSTER_TARGETS.failoverP99Ms)} |`);
  if (c.handoff) rows.push(`| 8 | graceful handoff, SIGTERM to the first acknowledged call after it, p99 over ${c.handoff.n} | < 1 s | ${ms(c.handoff.p99)} (p50 ${ms(c.handoff.p50)}) | ${met(c.handoff.p99 < CLUSTER_TARGETS.handoffMs)} |`);
  if (c.scaling) rows.push(`| 8 | throughput, 3 nodes / 1 node, each capped to ${c.scaling.capFraction} core | ≥ 2.4 | ${f2(c.scaling.ratio3to1)} | ${met(c.scaling.ratio3to1 >= CLUSTER_TARGETS.scaling3to1)} |`);
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
  if (c.errors.length > 0) out.push('Steps that did not complete:', '', ...c.errors.map((e) => `- \`${e}\``), '');
  if (c.scaling) {
    const s = c.scaling;
    out.push(
      '### Throughput with 1, 2 and 3 nodes under equal CPU caps',
      '',
      `Each node process in its own cgroup capped to ${s.capFraction} of a core (${s.cgroup}); Redis and the load generator are not capped;`,
      'the nodes ran with `--lease-ms 10000` here (a node held to 0.2 core at saturation can miss a 2 s renewal: this step is about throughput).',
      `${s.users} users online, one socket each opened straight to the node owning the user's shard, ${s.subs} subscriptions each (none: across nodes some`,
      'subscriptions never answer today, see the closing note; each change is heard by its own device only),',
      'setSelfStatus calls 256 at a time for the whole phase (closed loop: the saturation of the capped nodes).',
      '',
      '| nodes | acknowledged changes/s | × 1 node | failed calls | periods throttled | node CPU per change | subscriptions that never answered (sockets left out) |',
      '|---|---|---|---|---|---|---|',
    );
    const base = s.rows[0]?.changesPerSec ?? NaN;
    for (const r of s.rows) out.push(`| ${r.nodes} | ${n0(r.changesPerSec)} | ${f2(r.changesPerSec / base)} | ${r.failed} | ${r.throttledPeriods} | ${ms(r.nodeCpuMsPerChange)} | ${r.hungSubscriptions ?? 0} of ${s.users} |`);
    out.push('');
  }
  if (c.redis) out.push(`Redis per change (${c.redis.at}, from INFO commandstats and INFO cpu): ${f2(c.redis.opsPerChange)} commands, ${n0(c.redis.cpuUsPerChange)} µs of Redis CPU.`, '');
  if (c.latency) {
    out.push(
      '### Set-to-notify latency across nodes',
      '',
      `${c.latency.nodes} nodes, not capped; user i's socket on node i mod 3 whatever node owns it (as behind a load balancer: most sockets are relayed to`,
      `their owner); 3 subscriptions each. Saturation (256 calls in flight) was ${n0(c.latency.saturation)} changes/s; the other phases send at a fixed pace.`,
      `"cross-node": pushes whose setter and receiver are owned by different nodes. ${c.latency.hungSubscriptions ?? 0} of the subscriptions never answered (those sockets were left out).`,
      '',
      '| phase | changes/s | pushes heard / expected | p50 | p99 | cross-node p50 | cross-node p99 | Redis commands per change |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const p of c.latency.phases) out.push(`| ${p.name} | ${n0(p.changesPerSec)} | ${n0(p.pushes)} / ${n0(p.expected)} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.crossP50)} | ${ms(p.crossP99)} | ${f2(p.redisOpsPerChange)} |`);
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
      `(codes: ${Object.entries(r.failureCodes).map(([k, v]) => `${k} × ${v}`).join(', ') || 'none'}); ${r.kicked} resumes refused (kickedOut${r.kickedSample[0] ? `, e.g. ${r.kickedSample[0].type} ${r.kickedSample[0].code}` : ''}: those devices were logged in again before the check).`,
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
