// Issue 12 (a retention pass in steps): SqliteStore copies the state into a new replay start a few rows at a
// time while writes go on (src/store/startTable.ts, src/store/retention.ts). Whatever is written meanwhile,
// the start it switches to is the state at the pass's seq, the same as a whole pass taken at that seq.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { TYPES } from '../../machines/spec';
import { SimulatedClock } from 'xstate';
import { createClient, createEngine, replay } from '../../src/index';
import type { CompactionReport } from '../../src/store/retention';
import { SqliteStore } from '../../src/store/sqlite';
import { commandEntry, settingsWith, statusRecord, subsRecord, timer } from './contract';
import { tempDir } from './tmp';

const tmp = tempDir('status-engine-startcopy-');
afterAll(() => tmp.remove());

let runs = 0;
const BASE = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];

type Op =
  | { t: 'status'; u: number; s: string }
  | { t: 'subs'; u: number; to: number[] }
  | { t: 'friend'; u: number; f: number; add: boolean }
  | { t: 'notice'; u: number; on: boolean }
  | { t: 'timer'; k: number; on: boolean }
  | { t: 'user' };

const user = fc.integer({ min: 0, max: BASE.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('status' as const), u: user, s: fc.string({ maxLength: 3 }) }),
  // An empty list deletes the row: deletes and new rows, so SQLite hands out freed rowids again.
  fc.record({ t: fc.constant('subs' as const), u: user, to: fc.array(user, { maxLength: 2 }) }),
  fc.record({ t: fc.constant('friend' as const), u: user, f: user, add: fc.boolean() }),
  fc.record({ t: fc.constant('notice' as const), u: user, on: fc.boolean() }),
  fc.record({ t: fc.constant('timer' as const), k: fc.integer({ min: 0, max: 5 }), on: fc.boolean() }),
  fc.constant({ t: 'user' as const }),
);

/** One command: a journal entry and the op's write, in one transaction (after which a running pass steps). */
function apply(store: SqliteStore, o: Op): void {
  const seq = store.lastSeq() + 1;
  store.transaction(() => {
    store.append(commandEntry(seq, 'u0'));
    if (o.t === 'status') store.putStatus(BASE[o.u]!, statusRecord(TYPES.USER_STATUS_ONLINE, o.s, seq));
    else if (o.t === 'subs') store.putSubscriptions(BASE[o.u]!, subsRecord(o.to.map((i) => BASE[i]!)), { added: [], removed: [] });
    else if (o.t === 'friend' && o.u !== o.f) (o.add ? store.addFriends : store.removeFriends).call(store, BASE[o.u]!, [BASE[o.f]!]);
    else if (o.t === 'notice') store.putNotice(BASE[o.u]!, o.on ? { userIDList: [BASE[(o.u + 1) % BASE.length]!], reason: 'subscriptions_cleared' } : undefined);
    else if (o.t === 'timer') (o.on ? store.putTimer(timer(`t|u${o.k}`, seq)) : store.deleteTimer(`t|u${o.k}`));
    else if (o.t === 'user') store.addUsers([`n${seq}`]);
  });
}

interface Internals {
  compactor: { stepRows: number; running: boolean; begin(seq: number, settings: unknown, engine: unknown): void };
  rs: { keep: (...a: unknown[]) => void; inserted: (...a: unknown[]) => void };
  db: Database.Database;
}
const inside = (s: SqliteStore) => s as unknown as Internals;

function open(name: string): SqliteStore {
  const store = new SqliteStore(tmp.file(name), { journalRetention: { maxEntries: 1_000_000 } });
  store.putSettings(settingsWith(true));
  store.addUsers(BASE);
  return store;
}

/**
 * Twins take the same ops. At the pass's seq one twin compacts at once (the whole state in one transaction)
 * and its start is read; the other copies in steps of `stepRows` while the ops after go on. Returns whether
 * the stepped start equals the whole one.
 */
async function twins(before: Op[], after: Op[], stepRows: number, breakIt?: (s: SqliteStore) => void): Promise<boolean> {
  const run = ++runs;
  const a = open(`a${run}.db`);
  const b = open(`b${run}.db`);
  try {
    for (const o of before) {
      apply(a, o);
      apply(b, o);
    }
    b.compact();
    const whole = b.replayStart();
    breakIt?.(a);
    inside(a).compactor.stepRows = stepRows;
    inside(a).compactor.begin(a.lastSeq(), a.getSettings(), { rates: [], links: [] });
    for (const o of after) apply(a, o);
    while (inside(a).compactor.running) apply(a, { t: 'status', u: 0, s: 'z' });
    const stepped = a.replayStart();
    return JSON.stringify(stepped) === JSON.stringify(whole);
  } finally {
    a.close();
    b.close();
  }
}

describe('a retention pass in steps (SqliteStore)', () => {
  it('EXT-3 the start a stepped pass switches to is the state at its seq, whatever is written while it copies (copy on write)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), fc.array(op, { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), async (before, after, rows) => {
        expect(await twins(before, after, rows)).toBe(true);
      }),
      { numRuns: 150, seed: 1201 },
    );
  });

  it('EXT-3 the property catches a pass that does not keep a row before a write (and one that copies a reused rowid)', async () => {
    const broken = async (what: 'keep' | 'inserted') => {
      const r = await fc.check(
        fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 40 }), fc.array(op, { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), async (before, after, rows) =>
          twins(before, after, rows, (s) => {
            inside(s).rs[what] = () => {};
          }),
        ),
        { numRuns: 300, seed: 1202 },
      );
      return r.failed;
    };
    expect(await broken('keep')).toBe(true);
    expect(await broken('inserted')).toBe(true);
  });

  it('EXT-3 a rowid SQLite hands out again below the start\'s last one is not copied into the start', async () => {
    // subscriptions rows 1..3; 2 deleted before the start; at the start 1 and 3. Then 3 is deleted and a new
    // row takes rowid 3 again (the highest plus one): the start must not get it.
    const ops: Op[] = [
      { t: 'subs', u: 0, to: [1] },
      { t: 'subs', u: 1, to: [2] },
      { t: 'subs', u: 2, to: [3] },
      { t: 'subs', u: 1, to: [] },
    ];
    const later: Op[] = [
      { t: 'subs', u: 2, to: [] },
      { t: 'subs', u: 3, to: [4] },
    ];
    expect(await twins(ops, later, 1)).toBe(true);
    expect(await twins(ops, later, 1, (s) => (inside(s).rs.inserted = () => {}))).toBe(false);
  });

  it('EXT-3 a pass cut short by a close (a crash) leaves the old start; the next one completes and deletes what the first left', async () => {
    const file = tmp.file('cut.db');
    let store = new SqliteStore(file, { journalRetention: { maxEntries: 10, slackEntries: 5 } });
    store.putSettings(settingsWith(true));
    store.addUsers(BASE);
    for (let i = 0; i < 30; i++) apply(store, { t: 'status', u: i % 6, s: `a${i}` });
    const first = store.replayStart();
    expect(first).toBeDefined();
    inside(store).compactor.stepRows = 1;
    inside(store).compactor.begin(store.lastSeq(), store.getSettings(), { rates: [], links: [] });
    apply(store, { t: 'status', u: 1, s: 'mid' });
    apply(store, { t: 'subs', u: 1, to: [2] });
    expect(inside(store).compactor.running).toBe(true);
    const seqBefore = store.lastSeq();
    store.close();

    store = new SqliteStore(file, { journalRetention: { maxEntries: 10, slackEntries: 5 } });
    expect(store.replayStart()).toEqual(first);
    expect(store.lastSeq()).toBe(seqBefore);
    const gens = () => inside(store).db.prepare<[], number>('SELECT COUNT(DISTINCT gen) FROM replay_start_items').pluck().get();
    expect(gens()).toBe(2); // the start in use, and the rows the cut-short pass had copied
    for (let i = 0; i < 20; i++) apply(store, { t: 'status', u: i % 6, s: `b${i}` });
    expect(store.lastCompaction).toMatchObject({ steps: 1 });
    expect(gens()).toBe(1);
    expect(store.replayStart()!.seq).toBeGreaterThan(seqBefore);
    store.close();
  });

  it('EXT-3 the entries written while a pass copies stay in the journal, so its start and the journal after it replay to the live engine', async () => {
    const clock = new SimulatedClock();
    const store = new SqliteStore(tmp.file('tail.db'), { journalRetention: { maxEntries: 0, slackEntries: 1 } });
    const engine = createEngine({ clock, store, switches: { userStatus: true }, limits: { rateLimit: { requests: 1000, windowMs: 1000 } } });
    await engine.registerUsers(BASE);
    inside(store).compactor.stepRows = 1;
    const passes: number[] = [];
    for (const [i, u] of BASE.entries()) {
      const c = createClient({ engine });
      await c.login({ userID: u });
      await c.setSelfStatus({ customStatus: `s${i}` });
      await c.subscribeUserStatus({ userIDList: BASE.filter((x) => x !== u).slice(0, 2) });
      if (i % 2 === 0) await c.logout();
      clock.increment(500);
      const last = store.lastCompaction;
      if (last && 'steps' in last && !passes.includes(last.snapshotSeq)) passes.push(last.snapshotSeq);
    }
    // Passes ran in several steps each, and each kept the entries after its start.
    expect(passes.length).toBeGreaterThan(1);
    const last = store.lastCompaction as CompactionReport;
    expect(last.steps).toBeGreaterThan(1);
    expect(store.firstSeq()).toBeLessThanOrEqual(last.snapshotSeq + 1);
    const c2 = new SimulatedClock();
    c2.set(clock.now());
    const again = await replay(await engine.journal(), { clock: c2, snapshot: await engine.replayStart() });
    expect(await again.exportState()).toEqual(await engine.exportState());
    await again.close();
    await engine.close();
    store.close();
  });

  it('EXT-3 a schema-3 file (one copy of the start, replay_start_rows) migrates: the same replay start, then passes in steps', () => {
    const file = tmp.file('v3.db');
    let store = open('v3.db');
    for (let i = 0; i < 20; i++) apply(store, { t: i % 2 ? 'status' : 'subs', u: i % 6, s: `v${i}`, to: [(i + 1) % 6] } as Op);
    store.compact();
    const start = store.replayStart();
    store.close();
    // Back to schema 3, as that release wrote it: the rows in their copy order, no generations.
    const db = new Database(file);
    db.exec(`
      CREATE TABLE replay_start_rows (part TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL);
      INSERT INTO replay_start_rows (part, key, value) SELECT part, key, value FROM replay_start_items WHERE key IS NOT NULL
        ORDER BY CASE part WHEN 'user' THEN 0 WHEN 'status' THEN 1 WHEN 'subscriptions' THEN 2 WHEN 'friend' THEN 3 WHEN 'notice' THEN 4 ELSE 5 END, ord;
      DROP TABLE replay_start_items;
      ALTER TABLE replay_start DROP COLUMN gen;
      PRAGMA user_version = 3;
    `);
    db.close();
    store = new SqliteStore(file, { journalRetention: { maxEntries: 1_000_000 } });
    expect(store.replayStart()).toEqual(start);
    inside(store).compactor.stepRows = 1;
    inside(store).compactor.begin(store.lastSeq(), store.getSettings(), { rates: [], links: [] });
    while (inside(store).compactor.running) apply(store, { t: 'subs', u: 2, to: [] });
    expect(store.replayStart()).toEqual(start);
    store.close();
  });
});

