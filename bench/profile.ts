// Where the time goes: runs one world through one driver alone (no baseline) for `node --cpu-prof`, then
// prints the functions with the most self time and the inclusive time of the engine's main steps.
// bench/run.ts uses it when a target is missed; by hand:
//   node --expose-gc --cpu-prof --cpu-prof-dir=bench/.profiles --import tsx bench/profile.ts '{...}'
import { BaselineDriver, EngineDriver, type EngineDriverOptions } from './lib/drivers';
import { args, emitResult, gc, progress, timedCpu } from './lib/measure';
import { makeWorld, type WorldSpec } from './lib/world';

interface ProfileParams {
  tag: string;
  world: WorldSpec;
  /** null: the baseline. */
  engine: EngineDriverOptions | null;
  warmup: number;
}

const p = args<ProfileParams>();
const say = progress(p.tag);
const world = makeWorld(p.world);
const d = p.engine ? new EngineDriver(p.engine) : new BaselineDriver();
await d.setup(world, say);
await d.run(world, 0, p.warmup);
gc();
const { ms, cpuMs } = await timedCpu(() => d.run(world, p.warmup, p.world.ops));
say(`${d.name}: ${p.world.ops - p.warmup} ops in ${ms.toFixed(0)} ms (cpu ${cpuMs.toFixed(0)} ms), ${d.tally.count} delivered`);
emitResult({ tag: p.tag, driver: d.name, ms, cpuMs, ops: p.world.ops - p.warmup, delivered: d.tally.count });
await d.close();
