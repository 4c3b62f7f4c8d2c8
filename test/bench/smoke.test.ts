// The benchmark code runs, and its baselines agree with status-engine on what is delivered. No timing is
// asserted here: the figures are bench/run.ts's business (npm run bench), on a quiet machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BaselineDriver, EngineDriver, type Driver } from '../../bench/lib/drivers';
import { compare } from '../../bench/lib/measure';
import { RawSqliteBaseline } from '../../bench/lib/raw-sqlite';
import { OP_LOGIN, OP_LOGOUT, makeWorld, type WorldSpec } from '../../bench/lib/world';
import { SqliteStore } from '../../src/store/sqlite';

const spec = (o: Partial<WorldSpec> = {}): WorldSpec => ({
  users: 120,
  active: 100,
  subs: 5,
  friends: 4,
  devices: 1,
  ops: 600,
  seed: 7,
  pSet: 0.6,
  pLogout: 0.2,
  ...o,
});

async function agree(w: ReturnType<typeof makeWorld>, base: Driver, eng: Driver) {
  await base.setup(w);
  await eng.setup(w);
  const r = await compare(w, base, eng, { warmup: 100, rounds: 2 });
  await eng.close();
  await base.close();
  return r;
}

describe('bench harness', () => {
  it('NTF-2 the world mixes setSelfStatus, login and logout, and logs in only logged-out devices', () => {
    const w = makeWorld(spec());
    const kinds = new Set(w.kind);
    expect(kinds.has(OP_LOGIN) && kinds.has(OP_LOGOUT)).toBe(true);
    const up = new Uint8Array(w.spec.active).fill(1);
    for (let i = 0; i < w.spec.ops; i++) {
      const d = w.dev[i]!;
      if (w.kind[i] === OP_LOGIN) expect(up[d]).toBe(0);
      else expect(up[d]).toBe(1);
      if (w.kind[i] === OP_LOGIN) up[d] = 1;
      if (w.kind[i] === OP_LOGOUT) up[d] = 0;
    }
  });

  it('NTF-2 the baseline and the engine (core API, journal on) deliver the same notifications', async () => {
    const r = await agree(makeWorld(spec()), new BaselineDriver(), new EngineDriver({ api: 'core', journal: true }));
    expect(r.delivered).toBeGreaterThan(1000);
    expect(r.rounds).toHaveLength(2);
  });

  it('NTF-2 the Promise-shaped baseline and the engine (Promise API, journal on) deliver the same notifications', async () => {
    const r = await agree(makeWorld(spec({ devices: 2 })), new BaselineDriver('client'), new EngineDriver({ api: 'client', journal: true }));
    expect(r.delivered).toBeGreaterThan(1000);
  });

  it('NTF-2 the baseline and the engine (Promise API, journal off, 3 devices a user) deliver the same notifications', async () => {
    const r = await agree(makeWorld(spec({ devices: 3 })), new BaselineDriver(), new EngineDriver({ api: 'client', journal: false }));
    expect(r.delivered).toBeGreaterThan(1000);
  });

  it('NTF-2 a wrong baseline is caught: a delivery count that differs fails the comparison', async () => {
    const w = makeWorld(spec());
    const base = new BaselineDriver();
    const eng = new EngineDriver({ api: 'core', journal: true });
    await base.setup(w);
    await eng.setup(w);
    base.tally.count++;
    await expect(compare(w, base, eng, { warmup: 10, rounds: 1 })).rejects.toThrow(/delivered/);
    await eng.close();
  });

  it('NTF-2 the raw SQLite baseline and the engine on SqliteStore deliver the same notifications', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'status-engine-bench-test-'));
    try {
      const w = makeWorld(spec({ pSet: 1, pLogout: 0, friends: 0, ops: 300 }));
      const store = new SqliteStore(join(dir, 'engine.db'), { synchronous: 'NORMAL' });
      const r = await agree(w, new RawSqliteBaseline(join(dir, 'raw.db'), 'NORMAL'), new EngineDriver({ api: 'core', journal: true, store }));
      expect(r.delivered).toBeGreaterThan(300);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
