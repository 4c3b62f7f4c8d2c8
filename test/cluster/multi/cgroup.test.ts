// The scaling benchmark's CPU caps (bench/cluster/cgroup.ts) on fabricated cgroup trees: v2 writes cpu.max
// and enables the controller, v1 writes cfs_quota_us/cfs_period_us, a tree without a cpu controller is a
// clear error (never an uncapped run), and a bad fraction is refused.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuCgroup, cpuMax, findCpuHierarchy, statValue } from '../../../bench/cluster/cgroup';

let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));
const fresh = () => (root = mkdtempSync(join(tmpdir(), 'cgroup-')));

describe('cpu caps (cgroup)', () => {
  it('cpu.max of a fraction of a core', () => {
    expect(cpuMax(0.3)).toBe('30000 100000');
    expect(cpuMax(1.5)).toBe('150000 100000');
    expect(() => cpuMax(0)).toThrow(/fraction of a core/);
    expect(() => cpuMax(Number.NaN)).toThrow(/fraction of a core/);
  });

  it('v2: enables cpu for the children, writes cpu.max, moves a pid, reads usage_usec', () => {
    fresh();
    writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    writeFileSync(join(root, 'cgroup.subtree_control'), '');
    const g = cpuCgroup('se-n1', 0.25, root);
    expect(g.version).toBe(2);
    expect(readFileSync(join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+cpu');
    expect(readFileSync(join(root, 'se-n1', 'cpu.max'), 'utf8')).toBe('25000 100000');
    g.add(4242);
    expect(readFileSync(join(root, 'se-n1', 'cgroup.procs'), 'utf8')).toBe('4242');
    writeFileSync(join(root, 'se-n1', 'cpu.stat'), 'usage_usec 123456\nuser_usec 1\nnr_throttled 7\n');
    expect(g.usageUs()).toBe(123456);
    expect(g.throttledPeriods()).toBe(7);
  });

  it('v1 (the cpu controller mounted apart): cfs quota and period, cpuacct for usage', () => {
    fresh();
    mkdirSync(join(root, 'cpu'));
    writeFileSync(join(root, 'cpu', 'cpu.cfs_quota_us'), '-1');
    mkdirSync(join(root, 'cpuacct'));
    writeFileSync(join(root, 'cpuacct', 'cpuacct.usage'), '0');
    expect(findCpuHierarchy(root)).toEqual({ version: 1, dir: join(root, 'cpu'), cpuacct: join(root, 'cpuacct') });
    const g = cpuCgroup('se-n2', 0.4, root);
    expect(readFileSync(join(root, 'cpu', 'se-n2', 'cpu.cfs_quota_us'), 'utf8')).toBe('40000');
    expect(readFileSync(join(root, 'cpu', 'se-n2', 'cpu.cfs_period_us'), 'utf8')).toBe('100000');
    g.add(77);
    expect(readFileSync(join(root, 'cpuacct', 'se-n2', 'cgroup.procs'), 'utf8')).toBe('77');
    writeFileSync(join(root, 'cpuacct', 'se-n2', 'cpuacct.usage'), '5000000');
    expect(g.usageUs()).toBe(5000);
  });

  it('no cpu controller: a clear error', () => {
    fresh();
    writeFileSync(join(root, 'cgroup.controllers'), 'memory pids\n');
    expect(() => cpuCgroup('x', 0.5, root)).toThrow(/no cpu cgroup controller under .*needs one it can write/);
  });

  it('reads counters from cpu.stat text', () => {
    expect(statValue('nr_periods 10\nnr_throttled 3\n', 'nr_throttled')).toBe(3);
    expect(statValue('nr_periods 10\n', 'nr_throttled')).toBeNaN();
  });
});
