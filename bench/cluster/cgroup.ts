// CPU caps for the scaling benchmark: one cgroup per node process with a CPU quota (cgroup v2 `cpu.max`,
// or v1's `cpu.cfs_quota_us` where the cpu controller is mounted as v1, as on this machine), so that 1, 2
// and 3 nodes each get the same fraction of a core and scaling shows on a 2-core machine. Fails with a
// clear message when no writable cpu controller is found; it never falls back to running uncapped.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PERIOD_US = 100_000;

export interface CpuCgroup {
  readonly path: string;
  readonly version: 1 | 2;
  /** The quota as a fraction of one core. */
  readonly fraction: number;
  /** Moves a process (all its threads) in. */
  add(pid: number): void;
  /** CPU time used by the group so far, µs. */
  usageUs(): number;
  /** Periods in which the group hit its quota (it was capped). */
  throttledPeriods(): number;
  /** Removes the group (its processes must have exited). */
  remove(): void;
}

/** `cpu.max` for a fraction of a core: "quota period" in µs. */
export function cpuMax(fraction: number, periodUs = PERIOD_US): string {
  if (!(fraction > 0) || fraction > 64) throw new Error(`a CPU cap is a fraction of a core in (0, 64], got ${fraction}`);
  return `${Math.max(1000, Math.round(fraction * periodUs))} ${periodUs}`;
}

/** Reads one counter from a cpu.stat-like file ("key value" lines). */
export function statValue(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Where a cpu controller can be written under `root` (default /sys/fs/cgroup): v2 first, then v1. */
export function findCpuHierarchy(root = '/sys/fs/cgroup'): { version: 1 | 2; dir: string; cpuacct: string | null } {
  const v2 = join(root, 'cgroup.controllers');
  if (existsSync(v2) && readFileSync(v2, 'utf8').split(/\s+/).includes('cpu')) return { version: 2, dir: root, cpuacct: null };
  const v1 = join(root, 'cpu');
  if (existsSync(join(v1, 'cpu.cfs_quota_us'))) {
    const acct = join(root, 'cpuacct');
    return { version: 1, dir: v1, cpuacct: existsSync(join(acct, 'cpuacct.usage')) ? acct : null };
  }
  throw new Error(
    `no cpu cgroup controller under ${root} (neither cgroup v2's cgroup.controllers listing "cpu" nor a v1 cpu hierarchy with cpu.cfs_quota_us): ` +
      'the scaling benchmark needs one it can write (run as root, or give the user a delegated cgroup)',
  );
}

/** Makes `<hierarchy>/<name>` capped to `fraction` of a core. */
export function cpuCgroup(name: string, fraction: number, root = '/sys/fs/cgroup'): CpuCgroup {
  const h = findCpuHierarchy(root);
  const path = join(h.dir, name);
  const acct = h.cpuacct === null ? null : join(h.cpuacct, name);
  const write = (file: string, value: string) => {
    try {
      writeFileSync(file, value);
    } catch (e) {
      throw new Error(`cannot write ${file} (${(e as Error).message}): the scaling benchmark needs a writable cpu cgroup`);
    }
  };
  try {
    mkdirSync(path, { recursive: true });
    if (acct) mkdirSync(acct, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create the cgroup ${path} (${(e as Error).message}): the scaling benchmark needs a writable cpu cgroup`);
  }
  if (h.version === 2) {
    // The controller must be enabled for the children of the parent.
    try {
      appendFileSync(join(h.dir, 'cgroup.subtree_control'), '+cpu');
    } catch {
      /* already on, or refused: writing cpu.max below says which */
    }
    write(join(path, 'cpu.max'), cpuMax(fraction));
  } else {
    write(join(path, 'cpu.cfs_period_us'), String(PERIOD_US));
    write(join(path, 'cpu.cfs_quota_us'), cpuMax(fraction).split(' ')[0]!);
  }
  return {
    path,
    version: h.version,
    fraction,
    add(pid) {
      write(join(path, 'cgroup.procs'), String(pid));
      if (acct) write(join(acct, 'cgroup.procs'), String(pid));
    },
    usageUs() {
      if (h.version === 2) return statValue(readFileSync(join(path, 'cpu.stat'), 'utf8'), 'usage_usec');
      if (acct) return Number(readFileSync(join(acct, 'cpuacct.usage'), 'utf8')) / 1000;
      return NaN;
    },
    throttledPeriods() {
      return statValue(readFileSync(join(path, 'cpu.stat'), 'utf8'), 'nr_throttled');
    },
    remove() {
      for (const dir of [path, acct]) {
        if (dir === null) continue;
        try {
          rmdirSync(dir);
        } catch {
          /* still has a process, or gone already */
        }
      }
    },
  };
}
