// Issue 9, compaction: the journal's growth bounded by a retention, and replay still correct from what is
// kept (the replay start plus the entries after it). In memory the ring keeps a replay start ahead of its
// window; SqliteStore's `journalRetention` writes the start and deletes the entries before its bound in one
// transaction. Every clock is simulated.
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SimulatedClock } from 'xstate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient, createEngine, ErrorCode, replay, type Client, type Engine, type Snapshot } from '../../src/index';
import { checkCommand, runPragma } from '../../src/store/integrity';
import { coreOf } from '../../src/engine/engine';
import { MemoryStore } from '../../src/store/memory';
import { SqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite';
import { tempDir } from './tmp';

v8.setFlagsFromString('--expose-gc');

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const SETTINGS = { switches: { userStatus: true, friendStatusNotify: true }, limits: { rateLimit: { requests: 1000, windowMs: 1000 }, subscriptionClearAfterLogoutMs: 5000 } };

/** `rounds` of logins, statuses, subscriptions, logouts and timers firing: about 40 journal entries a round. */
async function busy(engine: Engine, clock: SimulatedClock, rounds: number): Promise<Client[]> {
  const clients: Client[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [i, u] of USERS.entries()) {
      const c = createClient({ engine, platform: i % 3 === 0 ? 'ios' : 'web' });
      await c.login({ userID: u });
      await c.setSelfStatus({ customStatus: `r${r}` });
      await c.subscribeUserStatus({ userIDList: USERS.filter((x) => x !== u).slice(0, 2) });
      if ((r + i) % 2 === 0) await c.logout();
      else clients.push(c);
      if (i === 2) c.disconnect('network_lost');
    }
    clock.increment(2000);
  }
  return clients;
}

/** The journal's rows in the file, read through the store's own connection (it holds the file's lock). */
const journalRows = (store: SqliteStore) =>
  (store as unknown as { db: Database.Database }).db.prepare<[], { n: number; min: number | null }>('SELECT COUNT(*) AS n, MIN(seq) AS min FROM journal').get()!;

/** A live engine's devices hold their links in sessions, a replay's without: the same links, in another order. */
const comparable = (s: Snapshot) => ({ ...s, at: 0, engine: { ...s.engine, links: [...s.engine.links].sort((a, b) => (a[0] < b[0] ? -1 : 1)) } });

describe('in memory: the ring keeps a replay start ahead of its window', () => {
  it('EXT-3 past the window, journal() with replayStart() replays to exactly the live state', async () => {
    const clock = new SimulatedClock();
    const engine = createEngine({ clock, ...SETTINGS, journal: { maxEntries: 40 } });
    await engine.registerUsers(USERS);
    await engine.addFriends('alice', ['bob', 'carol']);
    expect(await engine.replayStart()).toBeNull(); // the journal is whole yet
    await busy(engine, clock, 6);
    const info = await engine.journalInfo();
    const journal = await engine.journal();
    expect(journal.length).toBeLessThanOrEqual(40);
    expect(info.firstSeq).toBe(journal[0]!.seq);
    expect(info.firstSeq).toBeGreaterThan(1);
    // The start is never behind the window: every entry after it is still kept.
    expect(info.snapshotSeq).not.toBeNull();
    expect(info.snapshotSeq!).toBeGreaterThanOrEqual(info.firstSeq - 1);
    const snapshot = await engine.replayStart();
    expect(snapshot!.seq).toBe(info.snapshotSeq);
    const c2 = new SimulatedClock();
    c2.set(clock.now());
    const again = await replay(journal, { clock: c2, snapshot });
    expect(await again.exportState()).toEqual(await engine.exportState());
    expect(comparable(await again.snapshot())).toEqual(comparable(await engine.snapshot()));
    // ... and stays the same as the pending timers fire.
    clock.increment(10_000);
    c2.increment(10_000);
    expect(await again.exportState()).toEqual(await engine.exportState());
    // Without the start, the kept journal is refused, naming where it starts.
    await expect(replay(journal, { clock: c2 })).rejects.toMatchObject({ code: ErrorCode.INVALID_PARAMETER, message: expect.stringContaining(`start at seq ${journal[0]!.seq}`) });
    await again.close();
    await engine.close();
  });

  it('EXT-3 an engine that closes while its store outlives it is not kept alive by the store\'s unread replay start (its rate windows read at close)', async () => {
    // A cluster shard replays its tail on a throwaway engine, then opens the real one on the same store: the
    // start the store took during the replay read the throwaway's windows lazily, and so held that engine.
    const gc = vm.runInNewContext('gc') as () => void;
    const clock = new SimulatedClock();
    const store = new MemoryStore({ journalMaxEntries: 40 });
    let engine: Engine | null = createEngine({ clock, store, ...SETTINGS });
    await engine.registerUsers(USERS);
    await busy(engine, clock, 3); // past the window: the store took a start, not read yet
    expect(store.replayStartSeq()).toBeDefined();
    const windows = new WeakRef((coreOf(engine) as unknown as { rates: object }).rates);
    const rates = (await engine.snapshot()).engine.rates;
    const live = await engine.exportState();
    await engine.close();
    engine = null;
    for (let i = 0; i < 5 && windows.deref() !== undefined; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    expect(windows.deref()).toBeUndefined();
    // And the start reads as before: the windows at its seq (those the engine held then), the state replays.
    const start = store.replayStart()!;
    expect(start.engine.rates.length).toBeGreaterThan(0);
    expect(start.engine.rates.every(([k]) => rates.some(([r]) => r === k))).toBe(true);
    const again = await replay(store.readJournal(0, Infinity), { snapshot: start });
    expect(await again.exportState()).toEqual(live);
    await again.close();
  });

  it('EXT-3 the replay start keeps the friends as they were at its seq, whatever changes them after (copy on write), rolled-back changes included', async () => {
    const clock = new SimulatedClock();
    const store = new MemoryStore({ journalMaxEntries: 40 });
    const engine = createEngine({ clock, store, ...SETTINGS });
    await engine.registerUsers(USERS);
    await engine.addFriends('alice', ['bob', 'carol']);
    await engine.addFriends('dave', ['erin']);
    await busy(engine, clock, 6);
    const start = (await engine.journalInfo()).snapshotSeq;
    expect(start).not.toBeNull();
    const friendsAt = (s: Snapshot | null) => new Map(s!.friends.map(([id, f]) => [id, [...f].sort()]));
    // The start is read only now: it is still the capture that shares the store's sets.
    store.addFriends('alice', ['dave']);
    store.removeFriends('alice', ['bob']);
    store.removeFriends('dave', ['erin']);
    expect(() =>
      store.transaction(() => {
        store.addFriends('frank', ['alice']);
        store.removeFriends('alice', ['carol']);
        throw new Error('refused');
      }),
    ).toThrow('refused');
    expect([...store.friendsOf('alice')!].sort()).toEqual(['carol', 'dave']);
    expect(store.friendsOf('frank')).toBeUndefined();
    const snapshot = await engine.replayStart();
    expect(snapshot!.seq).toBe(start);
    expect(friendsAt(snapshot).get('alice')).toEqual(['bob', 'carol']);
    expect(friendsAt(snapshot).get('dave')).toEqual(['erin']);
    expect(friendsAt(snapshot).has('frank')).toBe(false);
    await engine.close();
  });

  it('EXT-3 the replay start read late is the one read at once: nothing changed after it was taken reaches it (copy on write)', async () => {
    // Two engines with the same calls on the same simulated clock: one reads its start as soon as it is taken, the
    // other changes every part of the state the start holds first (records written in place, subscriptions, friends,
    // timers armed, fired and cancelled, a notice, users, settings, rate windows, a rolled-back transaction).
    // Device ids come from crypto.randomUUID: the same sequence for each twin.
    let uuids = 0;
    const ids = vi.spyOn(globalThis.crypto, 'randomUUID').mockImplementation(() => `00000000-0000-4000-8000-${String(++uuids).padStart(12, '0')}` as `${string}-${string}-${string}-${string}-${string}`);
    const twin = async () => {
      uuids = 0;
      const clock = new SimulatedClock();
      const store = new MemoryStore({ journalMaxEntries: 40 });
      const engine = createEngine({ clock, store, ...SETTINGS });
      await engine.registerUsers(USERS);
      await engine.addFriends('alice', ['bob', 'carol']);
      const clients = await busy(engine, clock, 4);
      // Calls until a new start is taken: then the ring has room for 40 entries before the next one.
      const was = (await engine.journalInfo()).snapshotSeq;
      for (let i = 0; (await engine.journalInfo()).snapshotSeq === was; i++) await clients[0]!.setSelfStatus({ customStatus: `s${i}` });
      return { clock, store, engine, clients };
    };
    const a = await twin();
    const b = await twin();
    const seq = (await a.engine.journalInfo()).snapshotSeq;
    expect(seq).not.toBeNull();
    expect((await b.engine.journalInfo()).snapshotSeq).toBe(seq);
    const atOnce = await a.engine.replayStart();

    const [c0, c1] = b.clients;
    await c0!.setSelfStatus({ customStatus: 'after the start' }); // a record written in place
    await c1!.subscribeUserStatus({ userIDList: ['frank', 'erin'] });
    await c1!.unsubscribeUserStatus({ userIDList: [USERS[0]!] });
    const zed = createClient({ engine: b.engine });
    await b.engine.registerUsers(['zed']);
    await zed.login({ userID: 'zed' }); // a record put where there was none, a rate window
    await zed.subscribeUserStatus({ userIDList: ['alice'] });
    await zed.logout(); // UNSUB-5's timer armed
    await b.engine.addFriends('dave', ['erin']);
    await b.engine.removeFriends('alice', ['bob']);
    await b.engine.configure({ limits: { customStatusMaxBytes: 64 } });
    expect(() =>
      b.store.transaction(() => {
        b.store.addFriends('zed', ['alice']);
        b.store.putNotice('zed', { ended: [] } as never);
        throw new Error('refused');
      }),
    ).toThrow('refused');
    b.clock.increment(60_000); // timers fire (zed's subscriptions cleared, a notice kept for it), the start's pending ones too
    expect((await b.engine.journalInfo()).snapshotSeq).toBe(seq); // still the same start: no later one was taken

    const byKey = (s: Snapshot | null) => {
      const sort = <T extends [string, unknown]>(xs: T[]) => [...xs].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      // Keys written after the start come back in another order (src/store/before.ts); the timers keep theirs.
      return { ...s!, status: sort(s!.status), subscriptions: sort(s!.subscriptions), friends: sort(s!.friends), notices: sort(s!.notices), engine: { rates: sort(s!.engine.rates), links: sort(s!.engine.links) } };
    };
    const readLate = await b.engine.replayStart();
    expect(byKey(readLate)).toEqual(byKey(atOnce));
    // And it is still a start the kept journal replays from to the live state.
    const c = new SimulatedClock();
    c.set(b.clock.now());
    const again = await replay(await b.engine.journal(), { clock: c, snapshot: readLate });
    expect(await again.exportState()).toEqual(await b.engine.exportState());
    await again.close();
    await a.engine.close();
    await b.engine.close();
    ids.mockRestore();
  });

  it("EXT-3 the rate windows swept after the replay start was taken are still in it (LIM-1's sweep of a map of over 1,024 windows)", async () => {
    let uuids = 0;
    const ids = vi.spyOn(globalThis.crypto, 'randomUUID').mockImplementation(() => `00000000-0000-4000-8000-${String(++uuids).padStart(12, '0')}` as `${string}-${string}-${string}-${string}-${string}`);
    const users = Array.from({ length: 1100 }, (_, i) => `u${i}`);
    const twin = async (sweep: boolean) => {
      uuids = 0;
      const clock = new SimulatedClock();
      const engine = createEngine({ clock, store: new MemoryStore({ journalMaxEntries: 50 }), ...SETTINGS });
      await engine.registerUsers(users);
      const clients: Client[] = [];
      for (const u of users) {
        const c = createClient({ engine });
        await c.login({ userID: u }); // a login window per device: 1,100 of them
        clients.push(c);
      }
      const was = (await engine.journalInfo()).snapshotSeq;
      for (let i = 0; (await engine.journalInfo()).snapshotSeq === was; i++) await clients[0]!.setSelfStatus({ customStatus: `s${i}` });
      const seq = (await engine.journalInfo()).snapshotSeq;
      if (sweep) {
        clock.increment(5000); // every window's calls are past it: the next commit sweeps them all away
        await clients[1]!.getUserStatus({ userIDList: ['u2'] });
        expect((await engine.journalInfo()).snapshotSeq).toBe(seq);
      }
      const start = await engine.replayStart();
      await engine.close();
      return start!;
    };
    const atOnce = await twin(false);
    const late = await twin(true);
    expect(atOnce.engine.rates.length).toBeGreaterThanOrEqual(1100);
    expect(late.engine.rates).toEqual(atOnce.engine.rates);
    ids.mockRestore();
  });

  it('EXT-3 a tail that does not start right after the snapshot is refused with the seqs', async () => {
    const clock = new SimulatedClock();
    const engine = createEngine({ clock, ...SETTINGS });
    await engine.registerUsers(USERS);
    const snapshot = await engine.snapshot();
    await busy(engine, clock, 1);
    const tail = (await engine.journal()).filter((e) => e.seq > snapshot.seq + 3);
    const err = await replay(tail, { snapshot }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'entries' });
    expect((err as Error).message).toContain(`snapshot at seq ${snapshot.seq}: the next must be seq ${snapshot.seq + 1}; these start at seq ${snapshot.seq + 4}`);
    // A snapshot that is not one: 6017 naming the field.
    await expect(replay([], { snapshot: { ...snapshot, format: 99 } })).rejects.toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'snapshot.format' });
    await expect(replay([], { snapshot: { ...snapshot, timers: [{ key: 1 }] } as never })).rejects.toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'snapshot.timers[0]' });
    await engine.close();
  });
});

describe('SqliteStore journalRetention', () => {
  const tmp = tempDir();
  const open: Array<{ engine: Engine; store: SqliteStore }> = [];
  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.engine.close();
      o.store.close();
    }
  });
  const start = (file: string, clock: SimulatedClock, options: SqliteStoreOptions = {}) => {
    const store = new SqliteStore(file, options);
    const engine = createEngine({ store, clock, ...SETTINGS });
    open.push({ engine, store });
    return { engine, store };
  };
  const stop = async (o: { engine: Engine; store: SqliteStore }) => {
    open.splice(open.indexOf(o), 1);
    await o.engine.close();
    o.store.close();
  };

  it('bad options are 6017 naming the option and its limit', () => {
    const file = tmp.file('bad.db');
    const bad = (journalRetention: unknown) => {
      try {
        new SqliteStore(file, { journalRetention } as SqliteStoreOptions).close();
      } catch (e) {
        return e;
      }
      return null;
    };
    expect(bad({ maxEntries: -1 })).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'journalRetention.maxEntries', limit: 1e12 });
    expect(bad({ maxEntries: 1.5 })).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'journalRetention.maxEntries' });
    expect(bad({ maxAgeMs: 0 })).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'journalRetention.maxAgeMs' });
    expect(bad({ maxEntries: 10, slackEntries: 0 })).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'journalRetention.slackEntries' });
    expect(bad({ keep: 10 })).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'journalRetention.keep' });
    expect(bad({})).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'journalRetention' });
    expect(bad('10')).toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'journalRetention' });
    // Nothing was written by a refused open.
    expect(fs.existsSync(file)).toBe(false);
  });

  it('EXT-3 past the retention the file keeps a bounded journal; reopened, replay from the start + tail = the live state', async () => {
    fs.mkdirSync(path.join(tmp.dir, 'kept'));
    const file = path.join(tmp.dir, 'kept', 'status-engine.db');
    const clock = new SimulatedClock();
    const retention = { maxEntries: 60, slackEntries: 20 };
    const first = start(file, clock, { journalRetention: retention });
    await first.engine.registerUsers(USERS);
    await first.engine.addFriends('alice', ['bob', 'carol']);
    await busy(first.engine, clock, 12); // several hundred entries
    const info = await first.engine.journalInfo();
    expect(info.lastSeq).toBeGreaterThan(400);
    expect(info.lastSeq - info.firstSeq + 1).toBeLessThanOrEqual(60 + 20);
    expect(info.snapshotSeq).toBeGreaterThanOrEqual(info.firstSeq - 1);
    expect(first.store.lastCompaction).toMatchObject({ dropped: expect.any(Number) });
    expect(journalRows(first.store).n).toBe(info.lastSeq - info.firstSeq + 1);
    const live = await first.engine.exportState();
    const liveSnapshot = await first.engine.snapshot();
    await stop(first);

    // The file is sound, and `status-engine check` says so.
    expect(runPragma(file, 'integrity_check')).toEqual([]);
    const out: string[] = [];
    expect(await checkCommand(path.dirname(file), { out: (s) => out.push(s), err: (s) => out.push(s) })).toBe(0);

    const second = start(file, clock, { journalRetention: retention });
    expect(await second.engine.journalInfo()).toEqual(info);
    const kept = await second.engine.journal();
    const snapshot = await second.engine.replayStart();
    const c2 = new SimulatedClock();
    c2.set(clock.now());
    const again = await replay(kept, { clock: c2, snapshot });
    expect(await again.exportState()).toEqual(live);
    // The engine's memory (rate windows, links) was in the start: the replay holds all of the live engine.
    expect(comparable(await again.snapshot())).toEqual(comparable(liveSnapshot));
    await again.close();
  });

  it('EXT-3 the database stops growing: the journal rows stay within the bound however long it runs', async () => {
    const file = tmp.file('bounded.db');
    const clock = new SimulatedClock();
    const o = start(file, clock, { journalRetention: { maxEntries: 100, slackEntries: 50 } });
    await o.engine.registerUsers(USERS);
    const counts: number[] = [];
    for (let i = 0; i < 8; i++) {
      await busy(o.engine, clock, 3);
      counts.push(journalRows(o.store).n);
    }
    expect(Math.max(...counts)).toBeLessThanOrEqual(150);
    expect((await o.engine.journalInfo()).lastSeq).toBeGreaterThan(800);
  });

  it('EXT-3 maxAgeMs: entries older than the bound (by the engine clock) go', async () => {
    const file = tmp.file('age.db');
    const clock = new SimulatedClock();
    const o = start(file, clock, { journalRetention: { maxAgeMs: 10_000 } });
    await o.engine.registerUsers(USERS);
    await busy(o.engine, clock, 20); // 2 s a round: 40 s
    const oldest = (await o.engine.journal({ limit: 1 }))[0]!;
    const newest = (await o.engine.journal()).at(-1)!;
    expect(newest.at - oldest.at).toBeLessThanOrEqual(10_000 + 1000);
    expect(oldest.seq).toBeGreaterThan(1);
    const again = await replay(await o.engine.journal(), { snapshot: await o.engine.replayStart() });
    expect(await again.exportState()).toEqual(await o.engine.exportState());
    await again.close();
  });

  it('EXT-3 a pass that fails at its switch changes nothing (the switch and what follows it in the step roll back), and the next one works', async () => {
    const file = tmp.file('crash.db');
    const clock = new SimulatedClock();
    const o = start(file, clock, { journalRetention: { maxEntries: 1_000_000 } });
    await o.engine.registerUsers(USERS);
    await busy(o.engine, clock, 2);
    o.store.compact();
    await busy(o.engine, clock, 2);
    const before = { rows: journalRows(o.store), start: await o.engine.replayStart(), info: await o.engine.journalInfo() };
    // The head is written at the switch, after the copy, in the step that deletes after it: a failure there must undo the step.
    const rs = (o.store as unknown as { rs: { q: { putHead: { run: () => never } } } }).rs;
    const putHead = rs.q.putHead;
    rs.q.putHead = { run: () => { throw new Error('disk full (test)'); } };
    (o.store as unknown as { compactor: { retention: unknown } }).compactor.retention = { maxEntries: 5, maxAgeMs: Number.MAX_SAFE_INTEGER, slackEntries: 1, slackMs: 0 };
    expect(() => o.store.compact()).toThrow('disk full (test)');
    expect(o.store.lastCompaction).toMatchObject({ error: expect.any(Error) });
    expect(journalRows(o.store)).toEqual(before.rows);
    expect(await o.engine.replayStart()).toEqual(before.start);
    expect(await o.engine.journalInfo()).toEqual(before.info);
    // The engine goes on; the next pass does it all.
    rs.q.putHead = putHead;
    await busy(o.engine, clock, 1);
    const report = o.store.compact();
    expect(report.dropped).toBeGreaterThan(0);
    expect(journalRows(o.store).n).toBe(5);
    const again = await replay(await o.engine.journal(), { snapshot: await o.engine.replayStart() });
    expect(await again.exportState()).toEqual(await o.engine.exportState());
    await again.close();
  });

  it('EXT-3 a replay from a snapshot into a SqliteStore keeps it as the start: reopened, it holds the same', async () => {
    const clock = new SimulatedClock();
    const source = createEngine({ clock, ...SETTINGS });
    await source.registerUsers(USERS);
    await busy(source, clock, 2);
    const snapshot = await source.snapshot();
    await busy(source, clock, 1);
    const tail = (await source.journal()).filter((e) => e.seq > snapshot.seq);
    const file = tmp.file('restored.db');
    const store = new SqliteStore(file);
    const c2 = new SimulatedClock();
    c2.set(clock.now());
    const again = await replay(tail, { store, clock: c2, snapshot });
    expect(await again.exportState()).toEqual(await source.exportState());
    await again.close();
    store.close();
    const reopened = start(file, c2);
    expect((await reopened.engine.journalInfo()).snapshotSeq).toBe(snapshot.seq);
    const fromFile = await replay(await reopened.engine.journal(), { snapshot: await reopened.engine.replayStart() });
    expect(await fromFile.exportState()).toEqual(await source.exportState());
    await fromFile.close();
    // A store that is not empty is refused.
    await expect(replay(tail, { store: reopened.store, snapshot })).rejects.toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'store' });
    await source.close();
  });

  it('the v1 migration fixture still loads, and compacts', async () => {
    const file = tmp.file('v1-copy.db');
    fs.copyFileSync(path.join(__dirname, 'fixtures', 'v1.db'), file);
    const clock = new SimulatedClock();
    clock.set(1_800_000_200_000);
    const o = start(file, clock, { journalRetention: { maxEntries: 3, slackEntries: 1 } });
    const state = await o.engine.exportState();
    expect(Object.keys(state.users).length).toBeGreaterThan(0);
    await o.engine.registerUsers(['newcomer']);
    await o.engine.addFriends('newcomer', [Object.keys(state.users)[0]!]);
    const info = await o.engine.journalInfo();
    expect(info.lastSeq - info.firstSeq + 1).toBeLessThanOrEqual(4);
    const again = await replay(await o.engine.journal(), { snapshot: await o.engine.replayStart() });
    expect(await again.exportState()).toEqual(await o.engine.exportState());
    await again.close();
  });
});
