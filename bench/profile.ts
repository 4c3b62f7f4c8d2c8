// Where the time goes: runs one world through one driver alone (no baseline), profiling only the timed loop
// (V8's sampling profiler, in-process), and returns the functions with the most self time and the inclusive
// time of the steps named in `inclusive`. bench/run.ts uses it when a target is missed. `write` also saves
// the .cpuprofile (open it in Chrome DevTools or speedscope).
import { writeFileSync } from 'node:fs';
import { profiled, summarize } from './lib/cpuprofile';
import { BaselineDriver, EngineDriver, type EngineDriverOptions } from './lib/drivers';
import { args, emitResult, gc, progress, timedCpu } from './lib/measure';
import { makeWorld, type WorldSpec } from './lib/world';

interface ProfileParams {
  tag: string;
  world: WorldSpec;
  /** null: the baseline. */
  engine: EngineDriverOptions | null;
  /** Which baseline when `engine` is null (default the plain one). */
  baselineApi?: 'core' | 'client';
  warmup: number;
  inclusive?: string[];
  top?: number;
  write?: string;
}

const p = args<ProfileParams>();
const say = progress(p.tag);
const world = makeWorld(p.world);
const d = p.engine ? new EngineDriver(p.engine) : new BaselineDriver(p.baselineApi);
await d.setup(world, say);
await d.run(world, 0, p.warmup);
gc();
let t = { ms: 0, cpuMs: 0 };
const profile = await profiled(async () => {
  t = await timedCpu(() => d.run(world, p.warmup, p.world.ops));
});
if (p.write) writeFileSync(p.write, JSON.stringify(profile));
const { ms, cpuMs } = t;
say(`${d.name}: ${p.world.ops - p.warmup} ops in ${ms.toFixed(0)} ms (cpu ${cpuMs.toFixed(0)} ms, profiled), ${d.tally.count} delivered`);
const summary = summarize(profile, { top: p.top ?? 15, inclusive: p.inclusive ?? [] });
emitResult({ tag: p.tag, driver: d.name, ms, cpuMs, ops: p.world.ops - p.warmup, delivered: d.tally.count, summary });
await d.close();
