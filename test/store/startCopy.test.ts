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
import { coreOf } from '../../src/engine/engine';
import { MemoryStore } from '../../src/store/memory';
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

/** `n` users with a status record each (`prefix` and their number), in one transaction; returns their ids. */
function withStatusRows(store: SqliteStore, prefix: string, n: number): string[] {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  store.transaction(() => {
    store.addUsers(ids);
    for (const u of ids) store.putStatus(u, statusRecord(TYPES.USER_STATUS_ONLINE, 'x', 0));
  });
  return ids;
}

/** One command: a journal entry and the op's write, in one transaction (after which a running pass steps). */
function apply(store: SqliteStore, o: Op): void {
  const seq = store.lastSeq() + 1;
  store.transaction(() => {
    store.append(commandEntry(seq, 'u0'));
    write(store, o, seq);
  });
}

function write(store: SqliteStore, o: Op, seq: number): void {
  if (o.t === 'status') store.putStatus(BASE[o.u]!, statusRecord(TYPES.USER_STATUS_ONLINE, o.s, seq));
  else if (o.t === 'subs') store.putSubscriptions(BASE[o.u]!, subsRecord(o.to.map((i) => BASE[i]!)), { added: [], removed: [] });
  else if (o.t === 'friend' && o.u !== o.f) (o.add ? store.addFriends : store.removeFriends).call(store, BASE[o.u]!, [BASE[o.f]!]);
  else if (o.t === 'notice') store.putNotice(BASE[o.u]!, o.on ? { userIDList: [BASE[(o.u + 1) % BASE.length]!], reason: 'subscriptions_cleared' } : undefined);
  else if (o.t === 'timer') (o.on ? store.putTimer(timer(`t|u${o.k}`, seq)) : store.deleteTimer(`t|u${o.k}`));
  else if (o.t === 'user') store.addUsers([`n${seq}`]);
}

interface Internals {
  compactor: { stepRows: number; running: boolean; begin(seq: number, settings: unknown, engine: () => unknown): void };
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
    inside(a).compactor.begin(a.lastSeq(), a.getSettings(), () => ({ rates: [], links: [] }));
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

  it('EXT-3 a pass cut short by a close (a crash) leaves the old start; at the next open what it left is deleted in steps, with no new copy', async () => {
    const file = tmp.file('cut.db');
    const options = { journalRetention: { maxEntries: 10, slackEntries: 400 } };
    let store = new SqliteStore(file, options);
    store.putSettings(settingsWith(true));
    store.addUsers(BASE);
    for (let i = 0; i < 30; i++) apply(store, { t: 'status', u: i % 6, s: `a${i}` });
    store.compact();
    const first = store.replayStart()!;
    inside(store).compactor.stepRows = 1;
    inside(store).compactor.begin(store.lastSeq(), store.getSettings(), () => ({ rates: [], links: [] }));
    apply(store, { t: 'status', u: 1, s: 'mid' });
    apply(store, { t: 'subs', u: 1, to: [2] });
    expect(inside(store).compactor.running).toBe(true);
    const seqBefore = store.lastSeq();
    store.close();

    store = new SqliteStore(file, options);
    expect(store.replayStart()).toEqual(first);
    expect(store.lastSeq()).toBe(seqBefore);
    const gens = () => inside(store).db.prepare<[], number>('SELECT COUNT(DISTINCT gen) FROM replay_start_items').pluck().get();
    expect(gens()).toBe(2); // the start in use, and the rows the cut-short pass had copied
    // The open found them: a pass that only deletes runs after the next command (the journal is not due).
    expect(inside(store).compactor.running).toBe(true);
    apply(store, { t: 'status', u: 2, s: 'after' });
    expect(inside(store).compactor.running).toBe(false);
    expect(gens()).toBe(1);
    expect(store.replayStart()).toEqual(first);
    expect(store.lastCompaction).toMatchObject({ snapshotSeq: first.seq, steps: 1 });
    // And the store goes on: a whole pass switches to a later start.
    store.compact();
    expect(store.replayStart()!.seq).toBeGreaterThan(seqBefore);
    expect(gens()).toBe(1);
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
    inside(store).compactor.begin(store.lastSeq(), store.getSettings(), () => ({ rates: [], links: [] }));
    while (inside(store).compactor.running) apply(store, { t: 'subs', u: 2, to: [] });
    expect(store.replayStart()).toEqual(start);
    store.close();
  });

  it('EXT-3 against the state itself: the start in the file is, after every command, the state tables as they were at its seq (nested rollbacks, reopens, compact() in the middle of a pass)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ops: fc.array(op, { minLength: 1, maxLength: 3 }), nested: fc.boolean(), rollback: fc.boolean(), then: fc.constantFrom('go', 'go', 'go', 'go', 'go', 'go', 'reopen', 'compact') }), { minLength: 20, maxLength: 120 }),
        fc.integer({ min: 1, max: 30 }),
        async (commands, rows) => {
          const file = tmp.file(`oracle${++runs}.db`);
          const options = { journalRetention: { maxEntries: 15, slackEntries: 200 } };
          // The oracle: the state tables, read with SQL when a pass begins.
          const oracle = new Map<number, string>();
          const tables = (s: SqliteStore) => {
            const db = inside(s).db;
            const read = (sql: string) => db.prepare(sql).raw().all().filter((r) => (r as unknown[])[0] !== null);
            return JSON.stringify([
              read('SELECT user_id, friend_id FROM friends ORDER BY rowid'), read('SELECT user_id, notice FROM notices ORDER BY rowid'),
              read('SELECT user_id, record FROM status ORDER BY rowid'), read('SELECT user_id, record FROM subscriptions ORDER BY rowid'),
              read('SELECT key, timer FROM timers ORDER BY rowid'), read("SELECT id, '' FROM users ORDER BY rowid"),
            ]);
          };
          const inFile = (s: SqliteStore) => {
            const db = inside(s).db;
            const h = db.prepare<[], { seq: number; gen: number }>('SELECT seq, gen FROM replay_start WHERE id = 1').get();
            if (!h) return undefined;
            const part = (p: string) => db.prepare<[number, string]>('SELECT key, value FROM replay_start_items WHERE gen = ? AND part = ? AND key IS NOT NULL ORDER BY ord').raw().all(h.gen, p);
            return { seq: h.seq, text: JSON.stringify(['friend', 'notice', 'status', 'subscriptions', 'timer', 'user'].map(part)) };
          };
          const watch = (s: SqliteStore) => {
            const c = inside(s).compactor;
            c.stepRows = rows;
            const begin = c.begin.bind(c);
            c.begin = (seq, ...rest) => {
              oracle.set(seq, tables(s));
              begin(seq, ...rest);
            };
            return s;
          };
          let store = watch(new SqliteStore(file, options));
          store.putSettings(settingsWith(true));
          store.addUsers(BASE);
          try {
            for (const c of commands) {
              const seq = store.lastSeq() + 1;
              try {
                store.transaction(() => {
                  store.append(commandEntry(seq, 'u0'));
                  const run = () => c.ops.forEach((o) => write(store, o, seq));
                  if (c.nested) {
                    try {
                      store.transaction(() => {
                        run();
                        if (c.rollback) throw new Error('inner (test)');
                      });
                    } catch {
                      // the inner part is undone, the outer goes on
                    }
                  } else run();
                  if (c.rollback && !c.nested) throw new Error('outer (test)');
                });
              } catch {
                // a command that rolled back
              }
              if (c.then === 'reopen') {
                store.close();
                store = watch(new SqliteStore(file, options));
              } else if (c.then === 'compact') store.compact();
              const start = inFile(store);
              if (start && oracle.has(start.seq)) expect(start.text).toBe(oracle.get(start.seq));
              // A start and every entry after it: the journal runs unbroken from at most the start's next seq.
              const n = inside(store).db.prepare<[], number>('SELECT COUNT(*) FROM journal').pluck().get()!;
              expect(n).toBe(store.lastSeq() - store.firstSeq() + 1);
              if (start) expect(store.firstSeq()).toBeLessThanOrEqual(start.seq + 1);
            }
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: 60, seed: 1203 },
    );
  });

  it.each([
    ['by count', { maxEntries: 100, slackEntries: 100 }, (st: SqliteStore) => st.lastSeq() - st.firstSeq() + 1, 100 + 100 + 50],
    // commandEntry's times are 1 ms apart: the age's slack (a tenth: 100 ms) is 100 entries at this rate.
    ['by age', { maxAgeMs: 1000 }, (st: SqliteStore) => st.lastSeq() - st.firstSeq(), 1000 + 100 + 50],
  ] as const)('EXT-3 a pass always ends within the slack (its steps sized to it, %s): the journal stays near its bound however large the state', (_, retention, size, bound) => {
    const store = new SqliteStore(tmp.file(`slack-${_.replace(' ', '-')}.db`), { journalRetention: retention });
    store.putSettings(settingsWith(true));
    withStatusRows(store, 's', 1500);
    // 1,000 rows a step would take 6 commands for this state's ~6,000 rows copied and deleted; say 10 rows a
    // step stand for it (a state 100 times larger): 600 commands a pass, where the slack is 100 entries.
    inside(store).compactor.stepRows = 10;
    let largest = 0;
    let busy = 0;
    for (let i = 0; i < 4000; i++) {
      apply(store, { t: 'status', u: i % BASE.length, s: `v${i}` });
      if (inside(store).compactor.running) busy++;
      if (i > 1500) largest = Math.max(largest, size(store));
    }
    expect(largest).toBeLessThanOrEqual(bound);
    expect(busy).toBeLessThan(4000 / 2);
    expect(store.lastCompaction).toMatchObject({ dropped: expect.any(Number) });
    store.close();
  });

  it('EXT-3 a pass by age at a low rate still runs in steps (a step takes at most 16 times the usual rows, and the age slack counts at least a step)', () => {
    const store = new SqliteStore(tmp.file('lowrate.db'), { journalRetention: { maxAgeMs: 60_000 } });
    store.putSettings(settingsWith(true));
    withStatusRows(store, 'l', 3000);
    inside(store).compactor.stepRows = 10;
    const c = inside(store).compactor as unknown as { pass: { rows: number } | null };
    let largest = 0;
    let passes = 0;
    for (let i = 0; i < 200; i++) {
      // One command every 5 s: the age's slack (6 s) is about one entry at this rate.
      const seq = store.lastSeq() + 1;
      store.transaction(() => {
        store.append({ ...commandEntry(seq, 'u0'), at: 1000 + i * 5000 });
        store.putStatus('l0', statusRecord(TYPES.USER_STATUS_ONLINE, `v${i}`, seq));
      });
      if (c.pass) largest = Math.max(largest, c.pass.rows);
      if (store.lastCompaction && 'steps' in store.lastCompaction) passes++;
    }
    expect(passes).toBeGreaterThan(0);
    expect(largest).toBeGreaterThanOrEqual(10);
    expect(largest).toBeLessThanOrEqual(160);
    store.close();
  });

  it('EXT-3 a capture the store has read is not kept by the engine as well (only the store holds what it read)', async () => {
    const store = new MemoryStore({ journalMaxEntries: 40 });
    const clock = new SimulatedClock();
    const engine = createEngine({ clock, store, switches: { userStatus: true }, limits: { rateLimit: { requests: 1000, windowMs: 1000 } } });
    await engine.registerUsers(BASE);
    const c = createClient({ engine });
    await c.login({ userID: 'u0' });
    for (let i = 0; i < 40; i++) await c.setSelfStatus({ customStatus: `c${i}` });
    const compaction = (coreOf(engine) as unknown as { compaction: { unread: { read: unknown } | null } }).compaction;
    expect(compaction.unread?.read).toEqual(expect.any(Function)); // taken, not read
    expect(store.replayStart()).toBeDefined();
    expect(compaction.unread?.read ?? null).toBeNull();
    await engine.close();
  });

  it('EXT-3 a step looks at its rows and no more, however many of them writes kept already', () => {
    const store = open('budget.db');
    const ids = withStatusRows(store, 'b', 500);
    const c = inside(store).compactor as unknown as { stepRows: number; begin: Internals['compactor']['begin']; pass: { copy: { done: number[]; at: number } } };
    c.stepRows = 1;
    c.begin(store.lastSeq(), store.getSettings(), () => ({ rates: [], links: [] }));
    const copy = c.pass.copy;
    // Every status row written (and so kept) before the copy reaches it, in one transaction (no step between).
    store.transaction(() => {
      for (const u of ids) store.putStatus(u, statusRecord(TYPES.USER_STATUS_ONLINE, 'y', 1));
    });
    const rs = (store as unknown as { rs: { copy(c: unknown, rows: number): number } }).rs;
    // (The writes' own step copied a row: a step after each command.) The users' part, whole, and nothing more:
    const users = inside(store).db.prepare<[number], number>('SELECT COUNT(*) FROM users WHERE rowid > ?').pluck().get(copy.done[0]!)!;
    expect(rs.copy(copy, users)).toBe(users);
    expect(copy.at).toBe(1);
    const from = copy.done[1]!;
    expect(rs.copy(copy, 10)).toBe(10);
    const rowids = inside(store).db.prepare<[number, number], number>('SELECT COUNT(*) FROM status WHERE rowid > ? AND rowid <= ?').pluck().get(from, copy.done[1]!);
    expect(rowids).toBe(10);
    store.close();
  });

  it('EXT-3 the cut by age finds the first entry at or after the bound (by halving over seqs), as a scan of the journal does', () => {
    const store = new SqliteStore(tmp.file('age.db'), { journalRetention: { maxAgeMs: 1_000_000 } });
    store.putSettings(settingsWith(true));
    let at = 1000;
    const times: number[] = [];
    for (let seq = 1; seq <= 300; seq++) {
      at += [0, 0, 1, 7, 50][seq % 5]!; // equal times in runs, and jumps
      times.push(at);
      store.transaction(() => store.append({ ...commandEntry(seq, 'u0'), at }));
    }
    const rs = (store as unknown as { rs: { cut(r: { maxEntries: number; maxAgeMs: number }, lastSeq: number, newestAt: number): number } }).rs;
    const db = inside(store).db;
    db.prepare('DELETE FROM journal WHERE seq < 40').run(); // a journal cut before, as retention leaves it
    for (let t = 900; t <= at + 10; t += 3) {
      const scan = db.prepare<[number], number | null>('SELECT MIN(seq) FROM journal WHERE at >= ?').pluck().get(t) ?? 301;
      expect(rs.cut({ maxEntries: Number.MAX_SAFE_INTEGER, maxAgeMs: 1 }, 300, t + 1)).toBe(Math.max(scan, Number.MIN_SAFE_INTEGER));
    }
    store.close();
  });

  it('EXT-3 a pass that cannot begin (its reads fail) leaves the command landed and the engine going; it is tried again after the slack', async () => {
    const clock = new SimulatedClock();
    const store = new SqliteStore(tmp.file('begin.db'), { journalRetention: { maxEntries: 5, slackEntries: 10 } });
    const engine = createEngine({ clock, store, switches: { userStatus: true }, limits: { rateLimit: { requests: 1000, windowMs: 1000 } } });
    await engine.registerUsers(BASE);
    const rs = (store as unknown as { rs: { begin: (...a: unknown[]) => unknown } }).rs;
    const begin = rs.begin.bind(rs);
    let fail = true;
    rs.begin = (...a) => {
      if (fail) throw new Error('disk I/O error (test)');
      return begin(...a);
    };
    const c = createClient({ engine });
    await c.login({ userID: 'u0' });
    for (let i = 0; i < 10; i++) await c.setSelfStatus({ customStatus: `f${i}` });
    expect(store.lastCompaction).toMatchObject({ error: expect.objectContaining({ message: 'disk I/O error (test)' }) });
    fail = false;
    for (let i = 0; i < 15; i++) await c.setSelfStatus({ customStatus: `g${i}` });
    expect(store.lastCompaction).toMatchObject({ dropped: expect.any(Number) });
    const again = await replay(await engine.journal(), { snapshot: await engine.replayStart() });
    expect(await again.exportState()).toEqual(await engine.exportState());
    await again.close();
    await engine.close();
    store.close();
  });
});

