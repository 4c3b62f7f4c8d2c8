// Parts 1 and 4 of the benchmarks (a worker process, started by bench/run.ts): the embedded fan-out of one
// world through the baseline and one status-engine variant in the same process, interleaved round by round.
import { BaselineDriver, EngineDriver, type EngineDriverOptions } from './lib/drivers';
import { args, compare, emitResult, gc, hasGc, progress } from './lib/measure';
import { makeWorld, type WorldSpec } from './lib/world';

export interface FanoutParams {
  tag: string;
  world: WorldSpec;
  engine: EngineDriverOptions;
  warmup: number;
  rounds: number;
}

const p = args<FanoutParams>();
const say = progress(p.tag);
if (!hasGc()) say('warning: run with node --expose-gc (phases start without a forced GC)');
const world = makeWorld(p.world);
say(`world: ${p.world.users} users, ${p.world.active} online, ${p.world.ops} ops`);
// The Promise API is measured against the Promise-shaped baseline, the core against the plain one.
const base = new BaselineDriver(p.engine.api);
const eng = new EngineDriver(p.engine);
const t0 = performance.now();
await base.setup(world);
const baseSetupMs = performance.now() - t0;
gc();
const t1 = performance.now();
await eng.setup(world, say);
const engSetupMs = performance.now() - t1;
say(`setup: baseline ${baseSetupMs.toFixed(0)} ms, ${eng.name} ${engSetupMs.toFixed(0)} ms`);
const result = await compare(world, base, eng, { warmup: p.warmup, rounds: p.rounds, progress: say });
emitResult({ tag: p.tag, world: p.world, engine: eng.name, baseSetupMs, engSetupMs, ...result });
await eng.close();
process.exit(0);
