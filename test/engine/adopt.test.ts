// After a restart on a durable store, devices that were connected have lost their links. Each keeps its place
// for its heartbeat timeout (DEV-2/DEV-3): a client that comes back in time takes it over with no visible
// change (the server calls core.adopt), otherwise it is dropped or disconnected with reason heartbeat_timeout.
// These tests use the engine core's session API, as the server does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createEngine, TYPES, type ClientEvent } from '../../src/index';
import { coreOf } from '../../src/engine/engine';
import { SqliteStore } from '../../src/store/sqlite';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function firstLife() {
  const dir = mkdtempSync(join(tmpdir(), 'se-adopt-'));
  dirs.push(dir);
  const file = join(dir, 'db.sqlite');
  const clock = new SimulatedClock();
  const store = new SqliteStore(file);
  const engine = createEngine({ store, clock, switches: { userStatus: true } });
  await engine.registerUsers(['alice', 'bob', 'carol']);
  const core = coreOf(engine);
  const alice = core.openSession('web', () => {}, 'alice-laptop');
  core.login(alice, 'alice');
  core.setSelfStatus(alice, { customStatus: 'writing' });
  const bob = core.openSession('ios', () => {}, 'bob-phone');
  core.login(bob, 'bob');
  core.setSelfStatus(bob, { customStatus: 'driving' });
  const carol = core.openSession('web', () => {}, 'carol-web');
  core.login(carol, 'carol');
  core.subscribe(carol, { userIDList: ['alice', 'bob'] });
  await engine.close();
  store.close();
  return { file, clock };
}

function secondLife(file: string, clock: SimulatedClock) {
  const store = new SqliteStore(file);
  const engine = createEngine({ store, clock });
  return { store, engine, core: coreOf(engine) };
}

describe('devices found connected in the store at start', () => {
  it('DEV-2 DEV-3 EXT-2 a client that comes back within its heartbeat timeout takes its device over: nobody hears a thing', async () => {
    const { file, clock } = await firstLife();
    const { store, engine, core } = secondLife(file, clock);
    const heardByCarol: ClientEvent[] = [];
    const carol = core.openSession('web', (e) => heardByCarol.push(e), 'carol-web');
    clock.increment(30_000);
    core.adopt(carol, 'carol', { lastSeq: 0 });
    heardByCarol.length = 0;
    const alice = core.openSession('web', () => {}, 'alice-laptop');
    clock.increment(29_000);
    core.adopt(alice, 'alice');
    clock.increment(600_000);
    const [a] = await engine.queryStatus(['alice']);
    expect(a).toMatchObject({ statusType: TYPES.USER_STATUS_ONLINE, customStatus: 'writing' });
    expect(heardByCarol.filter((e) => e.name === 'onUserStatusUpdated' && e.data.some((s) => s.userID === 'alice'))).toEqual([]);
    core.setSelfStatus(alice, { customStatus: 'back' });
    expect(heardByCarol.at(-1)).toMatchObject({ data: [{ userID: 'alice', customStatus: 'back' }] });
    await engine.close();
    store.close();
  });

  it('DEV-3 a native device nobody comes back for is disconnected after nativeHeartbeatTimeoutMs; a web one is dropped after webHeartbeatTimeoutMs', async () => {
    const { file, clock } = await firstLife();
    const { store, engine, core } = secondLife(file, clock);
    const carol = core.openSession('web', () => {}, 'carol-web');
    core.adopt(carol, 'carol');
    clock.increment(60_000);
    expect((await engine.queryStatus(['alice']))[0]).toMatchObject({ statusType: TYPES.USER_STATUS_UNLOGINED, reason: 'heartbeat_timeout' });
    expect((await engine.queryStatus(['bob']))[0]!.statusType).toBe(TYPES.USER_STATUS_ONLINE);
    clock.increment(340_000);
    expect((await engine.queryStatus(['bob']))[0]).toMatchObject({ statusType: TYPES.USER_STATUS_OFFLINE, customStatus: '', reason: 'heartbeat_timeout' });
    await engine.close();
    store.close();
  });

  it('adopt refuses an unregistered user, and another user\'s device', async () => {
    const { file, clock } = await firstLife();
    const { store, engine, core } = secondLife(file, clock);
    const s = core.openSession('web', () => {}, 'alice-laptop');
    expect(() => core.adopt(s, 'ghost')).toThrow(/not registered/);
    expect(() => core.adopt(s, 'carol')).toThrow(/belongs to another user/);
    const [c] = await engine.queryStatus(['carol'], { detail: true });
    expect(c!.devices!.map((d) => d.deviceId)).toEqual(['carol-web']);
    core.adopt(s, 'alice'); // its own user takes it
    expect((await engine.queryStatus(['alice']))[0]!.statusType).toBe(1);
    await engine.close();
    store.close();
  });
});
