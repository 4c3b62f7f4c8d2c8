// Part 6 of the benchmarks (a worker process, started by bench/run.ts): what the in-memory journal costs per
// change, in bytes. Allocated: the heap's growth over a small batch of changes in which no GC ran (a large
// young generation, --max-semi-space-size, and batches with a GC in them are thrown away). Kept: the heap the
// engine holds (after a forced GC) once a run has filled the journal's window, against the same engine with
// the journal off. The
// baseline (bench/baseline.ts) is measured the same way in the same process.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { BaselineDriver, EngineDriver, type Driver } from './lib/drivers';
import { args, emitResult, gc, hasGc, median, progress } from './lib/measure';
import { changesIn, makeWorld, type World, type WorldSpec } from './lib/world';

export interface JournalParams {
  tag: string;
  world: WorldSpec;
  /** Operations per allocation batch (small enough that the young generation holds them). */
  batch: number;
  batches: number;
  /** Operations run before the retained heap is read (past the journal's window). */
  fill: number;
}

const p = args<JournalParams>();
const say = progress(p.tag);
if (!hasGc()) throw new Error('run with node --expose-gc');
const world = makeWorld(p.world);

const gcs: Array<{ start: number; end: number }> = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcs.push({ start: e.startTime, end: e.startTime + e.duration });
}).observe({ entryTypes: ['gc'] });
const tick = () => new Promise((r) => setImmediate(r));

/** Bytes allocated per change: the median over the batches that no GC interrupted. */
async function allocated(d: Driver, w: World, from: number): Promise<{ perChange: number; clean: number }> {
  const per: number[] = [];
  let at = from;
  for (let b = 0; b < p.batches; b++) {
    gc();
    await tick();
    const h0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    await d.run(w, at, at + p.batch);
    const t1 = performance.now();
    const h1 = process.memoryUsage().heapUsed;
    await tick();
    if (!gcs.some((g) => g.end >= t0 && g.start <= t1)) per.push((h1 - h0) / changesIn(w, at, at + p.batch));
    at += p.batch;
  }
  return { perChange: median(per), clean: per.length };
}

async function heapAfter(d: Driver, w: World, ops: number): Promise<number> {
  await d.run(w, 0, ops);
  gc();
  await tick();
  gc();
  return process.memoryUsage().heapUsed;
}

const rows: Array<{ name: string; allocPerChange: number; cleanBatches: number; retainedBytes: number }> = [];
let entriesKept = 0;
const allocFrom = p.fill;
const drivers: Array<() => Driver> = [
  () => new BaselineDriver('core'),
  () => new EngineDriver({ api: 'core', journal: false }),
  () => new EngineDriver({ api: 'core', journal: true }),
  // What users call: the Promise API (journal on, its default) against the Promise-shaped baseline.
  () => new BaselineDriver('client'),
  () => new EngineDriver({ api: 'client', journal: true }),
];
/** One driver from nothing: its heap (what it holds after `fill` operations) and its allocation per change.
 * A function, so that nothing of the previous driver is still referenced when the next one starts. */
async function measure(make: () => Driver): Promise<void> {
  gc();
  await tick();
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const d = make();
  await d.setup(world);
  const retained = (await heapAfter(d, world, p.fill)) - h0;
  const a = await allocated(d, world, allocFrom);
  say(`${d.name}: ${a.perChange.toFixed(0)} B allocated per change (${a.clean}/${p.batches} batches without a GC), holds ${(retained / 2 ** 20).toFixed(1)} MiB after ${p.fill} ops`);
  rows.push({ name: d.name, allocPerChange: a.perChange, cleanBatches: a.clean, retainedBytes: retained });
  if (d instanceof EngineDriver && d.options.journal && d.options.api === 'core') entriesKept = d.core.journal().length;
  await d.close();
}
for (const make of drivers) await measure(make);
const row = (name: string) => {
  const r = rows.find((x) => x.name === name);
  if (!r) throw new Error(`no row ${name}`);
  return r;
};
const [base, off, on] = [row('baseline'), row('core-nojournal'), row('core')];
const changes = changesIn(world, 0, p.fill);
emitResult({
  tag: p.tag,
  world: p.world,
  changes,
  rows,
  /** What the journal adds per change, allocated, and what it keeps per change of its window (bytes). */
  journalAllocPerChange: on.allocPerChange - off.allocPerChange,
  journalRetained: on.retainedBytes - off.retainedBytes,
  entriesKept,
  bytesPerEntryKept: (on.retainedBytes - off.retainedBytes) / Math.max(1, entriesKept),
  allocRatioOn: on.allocPerChange / base.allocPerChange,
  allocRatioOff: off.allocPerChange / base.allocPerChange,
  allocRatioClient: row('client').allocPerChange / row('baseline-promise').allocPerChange,
});
process.exit(0);
