// Timing helpers shared by the benchmark parts: forced GC between phases, the interleaved baseline/engine
// comparison (so that noise from a shared machine hits both alike), medians, and the JSON line a worker
// process hands back to bench/run.ts.
import { performance } from 'node:perf_hooks';
import type { Driver } from './drivers';
import { changesIn, type World } from './world';

const gcFn = (globalThis as { gc?: () => void }).gc;

export function gc(): void {
  if (gcFn) {
    gcFn();
    gcFn();
  }
}

export const hasGc = (): boolean => gcFn !== undefined;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function timed(fn: () => void | Promise<void>): Promise<number> {
  return (await timedCpu(fn)).ms;
}

/** Wall time and the process's CPU time (user + system, all threads) of `fn`, in ms. On a shared machine
 * the CPU time is the steadier of the two: time spent waiting for a core does not count. */
export async function timedCpu(fn: () => void | Promise<void>): Promise<{ ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

export interface Round {
  ops: number;
  changes: number;
  /** Notifications delivered in this round (equal for both, checked). */
  delivered: number;
  baseMs: number;
  engMs: number;
  baseCpuMs: number;
  engCpuMs: number;
}

export interface Comparison {
  rounds: Round[];
  /** Median over rounds of engine throughput / baseline throughput (wall time). */
  ratio: number;
  /** The same on CPU time. */
  cpuRatio: number;
  /** Medians over rounds, per second. */
  engChangesPerSec: number;
  engDeliveredPerSec: number;
  baseChangesPerSec: number;
  baseDeliveredPerSec: number;
  /** Medians over rounds, nanoseconds. */
  engNsPerChange: number;
  engNsPerDelivery: number;
  baseNsPerChange: number;
  baseNsPerDelivery: number;
  delivered: number;
  checksumsEqual: boolean;
}

/**
 * Runs ops [warmup, ops) of the world on both drivers, in `rounds` phases; in each phase both run the same
 * slice, one after the other (which goes first alternates), each after a full GC. Warm-up runs untimed.
 * Throws if the two ever disagree on what was delivered.
 */
export async function compare(
  w: World,
  base: Driver,
  eng: Driver,
  o: { warmup: number; rounds: number; progress?: (msg: string) => void },
): Promise<Comparison> {
  const check = (where: string) => {
    if (base.tally.count !== eng.tally.count || base.tally.sum !== eng.tally.sum) {
      throw new Error(
        `${where}: ${base.name} delivered ${base.tally.count} (version sum ${base.tally.sum}), ` +
          `${eng.name} delivered ${eng.tally.count} (version sum ${eng.tally.sum})`,
      );
    }
  };
  check('setup');
  await base.run(w, 0, o.warmup);
  await eng.run(w, 0, o.warmup);
  check('warm-up');
  const total = w.spec.ops - o.warmup;
  const rounds: Round[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const from = o.warmup + Math.floor((total * r) / o.rounds);
    const to = o.warmup + Math.floor((total * (r + 1)) / o.rounds);
    const before = base.tally.count;
    let b = { ms: 0, cpuMs: 0 };
    let e = { ms: 0, cpuMs: 0 };
    const order = r % 2 === 0 ? [base, eng] : [eng, base];
    for (const d of order) {
      gc();
      const t = await timedCpu(() => d.run(w, from, to));
      if (d === base) b = t;
      else e = t;
    }
    check(`round ${r + 1}`);
    const round: Round = {
      ops: to - from,
      changes: changesIn(w, from, to),
      delivered: base.tally.count - before,
      baseMs: b.ms,
      engMs: e.ms,
      baseCpuMs: b.cpuMs,
      engCpuMs: e.cpuMs,
    };
    rounds.push(round);
    o.progress?.(
      `round ${r + 1}/${o.rounds}: ${round.ops} ops, ${round.delivered} delivered; ` +
        `${base.name} ${b.ms.toFixed(0)} ms (cpu ${b.cpuMs.toFixed(0)}), ${eng.name} ${e.ms.toFixed(0)} ms (cpu ${e.cpuMs.toFixed(0)}), ` +
        `ratio ${(b.ms / e.ms).toFixed(3)} (cpu ${(b.cpuMs / e.cpuMs).toFixed(3)})`,
    );
  }
  const per = (f: (r: Round) => number) => median(rounds.map(f));
  return {
    rounds,
    ratio: per((r) => r.baseMs / r.engMs),
    cpuRatio: per((r) => r.baseCpuMs / r.engCpuMs),
    engChangesPerSec: per((r) => (r.changes * 1000) / r.engMs),
    engDeliveredPerSec: per((r) => (r.delivered * 1000) / r.engMs),
    baseChangesPerSec: per((r) => (r.changes * 1000) / r.baseMs),
    baseDeliveredPerSec: per((r) => (r.delivered * 1000) / r.baseMs),
    engNsPerChange: per((r) => (r.engMs * 1e6) / r.changes),
    engNsPerDelivery: per((r) => (r.engMs * 1e6) / r.delivered),
    baseNsPerChange: per((r) => (r.baseMs * 1e6) / r.changes),
    baseNsPerDelivery: per((r) => (r.baseMs * 1e6) / r.delivered),
    delivered: base.tally.count,
    checksumsEqual: true,
  };
}

/** A worker's result: one line on stdout that bench/run.ts picks up. */
export const RESULT_PREFIX = 'BENCH_RESULT ';
export function emitResult(result: unknown): void {
  process.stdout.write(RESULT_PREFIX + JSON.stringify(result) + '\n');
}

/** Progress goes to stderr, so that stdout carries only the result. */
export function progress(tag: string): (msg: string) => void {
  const t0 = performance.now();
  return (msg) => process.stderr.write(`  [${tag} ${((performance.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
}

/** Reads the worker's parameters: one JSON argument. */
export function args<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('usage: <worker> \'{"...": ...}\' (bench/run.ts passes the parameters)');
  return JSON.parse(raw) as T;
}
