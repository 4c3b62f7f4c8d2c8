// A development tool, not a part of `npm run bench`: one driver alone in its process (the core or the Map/Set
// baseline) on part 1's world, so that its time per operation is not the other's too. Part 1 runs both in one
// process, interleaved, which is fair to noise but lets each one's heap evict the other's from the caches.
// Prints each round's wall time per operation, the median and the fastest round, and the median round's time
// per operation of each kind (each operation timed alone, in the even rounds: two clock reads on top of each).
//   node --expose-gc --import tsx bench/solo.ts core|baseline [online (10000)] [rounds (20)]
import { BaselineDriver, EngineDriver } from './lib/drivers';
import { gc, median } from './lib/measure';
import { makeWorld, OP_LOGIN, OP_LOGOUT, OP_SET } from './lib/world';

const which = process.argv[2];
if (which !== 'core' && which !== 'baseline') throw new Error('usage: bench/solo.ts core|baseline [online] [rounds]');
const online = Number(process.argv[3] ?? 10_000);
const rounds = Number(process.argv[4] ?? 20);
const per = 10_000;
// Part 1's world (bench/run.ts fanoutWorld): 20 subscriptions and 20 friends each, 80% sets, 10% logouts.
const world = makeWorld({ users: online, active: online, subs: 20, friends: 20, devices: 1, ops: per * (rounds + 1), seed: 20_260_601, pSet: 0.8, pLogout: 0.1 });
const d = which === 'core' ? new EngineDriver({ api: 'core', journal: true }) : new BaselineDriver('core');
await d.setup(world);
await d.run(world, 0, per);
const us: number[] = [];
const byKind: Array<Record<number, number>> = [];
for (let r = 1; r <= rounds; r++) {
  gc();
  // Odd rounds whole (their time per operation), even rounds one operation at a time (the split by kind).
  const t0 = performance.now();
  if (r % 2 === 1) await d.run(world, r * per, (r + 1) * per);
  else {
    const sum: Record<number, number> = { [OP_SET]: 0, [OP_LOGIN]: 0, [OP_LOGOUT]: 0 };
    const n: Record<number, number> = { [OP_SET]: 0, [OP_LOGIN]: 0, [OP_LOGOUT]: 0 };
    for (let i = r * per; i < (r + 1) * per; i++) {
      const k = world.kind[i]!;
      const s = performance.now();
      const done = d.run(world, i, i + 1); // the core's and the baseline's are synchronous: no await in the timing
      sum[k]! += performance.now() - s;
      if (done) await done;
      n[k]!++;
    }
    byKind.push({ [OP_SET]: (sum[OP_SET]! * 1000) / n[OP_SET]!, [OP_LOGIN]: (sum[OP_LOGIN]! * 1000) / n[OP_LOGIN]!, [OP_LOGOUT]: (sum[OP_LOGOUT]! * 1000) / n[OP_LOGOUT]! });
    continue;
  }
  us.push(((performance.now() - t0) * 1000) / per);
}
const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
const kind = (k: number) => median(byKind.map((x) => x[k]!)).toFixed(2);
process.stdout.write(`${which} ${online} online, whole rounds: ${us.map((x) => x.toFixed(1)).join(' ')} µs/op\n`);
process.stdout.write(`  median ${median(us).toFixed(2)}, fastest ${Math.min(...us).toFixed(2)} µs/op; by kind (median): set ${kind(OP_SET)}, login ${kind(OP_LOGIN)}, logout ${kind(OP_LOGOUT)} µs; ${d.tally.count} delivered; load ${load}\n`);
await d.close();
