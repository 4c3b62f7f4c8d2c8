// Item 4 of issue 10: a database written by the release before the persisted format changed (made by
// test/store/fixtures/make-v1.ts with the code of that release) opens, migrates to schema 2, and goes on:
// the same state, the same journal, its pending timers firing when they were due, replay still exact.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SimulatedClock } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, replay, TYPES, type Engine, type EngineState } from '../../src/index';
import { SCHEMA_VERSION, SqliteStore } from '../../src/store/sqlite';
import { tempDir } from './tmp';

const FIXTURE = path.join(__dirname, 'fixtures', 'v1.db');
const EXPECTED = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'v1.state.json'), 'utf8')) as { state: EngineState; journal: number };
/** The instant the fixture's state was exported at (test/store/fixtures/make-v1.ts's clock, plus 200 s). */
const AT = 1_800_000_200_000;

describe('a schema-1 database (records by generated ids) opens and migrates', () => {
  const tmp = tempDir();
  const open: Array<{ engine: Engine; store: SqliteStore }> = [];
  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.engine.close();
      o.store.close();
    }
  });

  const start = (clock: SimulatedClock) => {
    const file = tmp.file(`copy-${open.length}-${Date.now()}.db`);
    fs.copyFileSync(FIXTURE, file);
    const store = new SqliteStore(file);
    const engine = createEngine({ store, clock });
    open.push({ engine, store });
    return { engine, store, file };
  };

  it('EXT-3 the state and the journal are what that release read from it; records and timers are stored by name', async () => {
    const clock = new SimulatedClock();
    clock.set(AT);
    const { engine, store, file } = start(clock);
    const state = await engine.exportState();
    // Timer keys name the delay now, not the runner's event id; everything else reads as before.
    const rename = (key: string) => {
      const parts = JSON.parse(key) as string[];
      return JSON.stringify([...parts.slice(0, -1), /^xstate\.after\.([^.]+)\./.exec(parts[parts.length - 1]!)![1]]);
    };
    expect(state).toEqual({ ...EXPECTED.state, timers: EXPECTED.state.timers.map((t) => ({ key: rename(t.key), due: t.due })).sort((a, b) => (a.key < b.key ? -1 : 1)) });
    expect(state.timers.map((t) => JSON.parse(t.key))).toEqual([
      ['deviceLink', 'dave', state.users.dave!.devices[0]!.deviceId, 'heartbeatTimeout'],
      ['subscriptions', 'carol', 'subscriptionClearAfterLogout'],
      ['userStatus', 'carol', 'customStatusClearAfterLogout'],
    ]);
    expect((await engine.journal()).length).toBe(EXPECTED.journal);
    store.close();
    open.pop();
    await engine.close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const carol = JSON.parse(db.prepare<[], string>("SELECT record FROM status WHERE user_id = 'carol'").pluck().get()!);
      expect(carol).toMatchObject({ format: 2, value: { unlogined: 'clearPending' } });
      const timer = JSON.parse(db.prepare<[], string>("SELECT timer FROM timers WHERE key LIKE '[\"userStatus\"%'").pluck().get()!);
      expect(timer).toMatchObject({ format: 2, machine: 'userStatus', owner: 'carol', delay: 'customStatusClearAfterLogout', state: 'unlogined.clearPending' });
      // EXT-3: the journal's timer firings name today's keys, so that replay finds the timers.
      const fired = db.prepare<[], string>(`SELECT entry FROM journal WHERE entry LIKE '%"timer.fire"%'`).pluck().all().map((e) => JSON.parse(e).command.key);
      expect(fired.length).toBeGreaterThan(0);
      for (const key of fired) expect(JSON.parse(key)).toEqual([expect.any(String), expect.any(String), expect.stringMatching(/^[a-zA-Z]+$/)]);
    } finally {
      db.close();
    }
  });

  it('CS-5 UNSUB-5 DEV-3 the migrated timers fire when they were due', async () => {
    const clock = new SimulatedClock();
    clock.set(1_800_000_130_000); // before carol's clear (182.5 s) and dave's heartbeat timeout (401 s)
    const { engine } = start(clock);
    const [carolTimer, daveTimer] = ['userStatus', 'deviceLink'].map((m) => (EXPECTED.state.timers.find((t) => t.key.startsWith(`["${m}"`))!.due));
    clock.increment(carolTimer! - clock.now());
    const [carol] = await engine.queryStatus(['carol']);
    expect(carol).toMatchObject({ statusType: TYPES.USER_STATUS_UNLOGINED, customStatus: '', reason: 'custom_status_expired', version: EXPECTED.state.users.carol!.version + 1 });
    clock.increment(daveTimer! - clock.now());
    const [dave] = await engine.queryStatus(['dave'], { detail: true });
    expect(dave).toMatchObject({ statusType: TYPES.USER_STATUS_OFFLINE, reason: 'heartbeat_timeout' });
    expect(dave!.devices).toEqual([expect.objectContaining({ connected: false, pushOnline: true })]);
  });

  it('EXT-3 replaying the migrated journal rebuilds the same state', async () => {
    const clock = new SimulatedClock();
    clock.set(AT);
    const { engine } = start(clock);
    const rebuilt = await replay(await engine.journal(), { clock });
    try {
      expect(await rebuilt.exportState()).toEqual(await engine.exportState());
    } finally {
      await rebuilt.close();
    }
  });
});
