// Part 5 of the benchmarks (a worker process, started by bench/run.ts): acknowledged changes per second with
// status-engine on SqliteStore, against the baseline engine writing the same rows (a journal entry for the
// command, one for the transition, the user's status record, all JSON) to SQLite itself with better-sqlite3,
// one transaction per change, same WAL mode and synchronous setting, in the same process. A change counts as
// acknowledged when the call returns: the store has committed it by then.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite';
import { EngineDriver } from './lib/drivers';
import { args, compare, emitResult, progress } from './lib/measure';
import { RawSqliteBaseline } from './lib/raw-sqlite';
import { makeWorld, type WorldSpec } from './lib/world';

export interface DurableParams {
  tag: string;
  synchronous: 'NORMAL' | 'FULL';
  world: WorldSpec;
  warmup: number;
  rounds: number;
}

const p = args<DurableParams>();
const say = progress(p.tag);
const dir = mkdtempSync(join(tmpdir(), 'status-engine-bench-'));
try {
  const world = makeWorld(p.world);
  const base = new RawSqliteBaseline(join(dir, 'raw.db'), p.synchronous);
  const store = new SqliteStore(join(dir, 'engine.db'), { synchronous: p.synchronous });
  const eng = new EngineDriver({ journal: true, api: 'core', store });
  await base.setup(world);
  await eng.setup(world, say);
  say(`setup done (${p.world.active} users online); ${p.world.ops - p.warmup} changes follow, one transaction each`);
  const result = await compare(world, base, eng, { warmup: p.warmup, rounds: p.rounds, progress: say });
  emitResult({ tag: p.tag, synchronous: p.synchronous, world: p.world, engine: eng.name, baseline: base.name, ...result });
  await eng.close();
  await base.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
