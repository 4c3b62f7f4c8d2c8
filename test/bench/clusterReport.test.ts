// Part 8's report (bench/cluster/report.ts): the targets rows say met only on the measured figure, and a
// run stored before the heard accounting and the subscriptions variant still renders. No timing here.
import { describe, expect, it } from 'vitest';
import { clusterSection, clusterTargetRows } from '../../bench/cluster/report';
import type { ClusterBench, ScalingResult } from '../../bench/cluster/part';

const scaling = (subs: number, rates: [number, number], cpuUs: [number, number]): ScalingResult => ({
  capFraction: 0.2,
  cgroup: 'cgroup v1',
  users: 10,
  subs,
  outstandingPerNode: 256,
  rows: [1, 3].map((nodes, i) => ({ nodes, hungSubscriptions: 0, changesPerSec: rates[i]!, failed: 0, throttledShare: 0.9, nodeCpuMsPerChange: cpuUs[i]! / 1000, cpuBoundPerSec: (nodes * 0.2 * 1e6) / cpuUs[i]! })),
  ratio3to1: rates[1] / rates[0],
  cpuBoundRatio3to1: (3 * cpuUs[0]) / cpuUs[1],
});

describe('bench/cluster report', () => {
  it('the scaling target is judged on the measured ratio, for both variants; the CPU-bound one is shown beside it', () => {
    const c: ClusterBench = { date: 'd', shards: 16, nodeArgs: [], load: { before: [1], after: [1] }, errors: [], scaling: scaling(0, [100, 250], [200, 220]), scalingSubs: scaling(5, [100, 230], [200, 240]) };
    const rows = clusterTargetRows(c);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/0 subscriptions each \| ≥ 2\.4 \| 2\.50 measured; from CPU per change 2\.73 \| met/);
    expect(rows[1]).toMatch(/5 subscriptions each \| ≥ 2\.4 \| 2\.30 measured; from CPU per change 2\.50 \| \*\*missed\*\*/);
    const text = clusterSection(c).join('\n');
    expect(text).toContain('No subscriptions');
    expect(text).toContain('5 subscriptions each (most deliveries cross nodes)');
  });

  it('a run with warm-up phases shows the ratio over them beside the measured one; the target is judged on the measured one only', () => {
    const warm = { ...scaling(5, [100, 250], [200, 220]), warmUpSeconds: 8, coldRatio3to1: 1.7 };
    const c: ClusterBench = { date: 'd', shards: 16, nodeArgs: [], load: { before: [1], after: [1] }, errors: [], scaling: warm };
    const [row] = clusterTargetRows(c);
    expect(row).toMatch(/2\.50 measured; from CPU per change 2\.73; in the 8 s warm-up before it 1\.70 \| met/);
    expect(clusterSection(c).join('\n')).toContain('in the 8 s warm-up before it 1.70');
  });

  it('a run stored before this report (no heard accounting, one scaling variant) still renders', () => {
    // The shape of bench/results/latest.json's cluster key as part 8 wrote it before (13:56 UTC run).
    const phase = { name: 'saturation', seconds: 6, changes: 600, failed: 0, failedCodes: {}, changesPerSec: 100, targetRate: null, pushes: 1800, expected: 1810, p50: 5, p99: 100, crossPushes: 900, crossP50: 5, crossP99: 100, redisOpsPerChange: 2.2, redisCpuMsPerChange: 0.025 };
    const old = {
      date: 'd',
      shards: 16,
      nodeArgs: [],
      load: { before: [1], after: [1] },
      errors: [],
      scaling: { capFraction: 0.2, cgroup: 'v1', users: 200, subs: 0, rows: [{ nodes: 1, hungSubscriptions: 0, changesPerSec: 788, failed: 0, throttledPeriods: 120, nodeCpuMsPerChange: 0.3 }], ratio3to1: 2.6 },
      latency: { nodes: 3, hungSubscriptions: 0, capped: false, saturation: 100, phases: [phase] },
    } as unknown as ClusterBench;
    const text = clusterSection(old).join('\n');
    expect(text).toContain('1,800 / 1,810 pushes (older run)');
    expect(text).toContain('120 periods');
    expect(clusterTargetRows(old)).toHaveLength(1);
  });
});
