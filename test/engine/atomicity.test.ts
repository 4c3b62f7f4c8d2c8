// A command the store refuses (disk full, I/O error) changes nothing anywhere: not the store, not the engine's
// own memory (timers, rate windows, settings, sessions), not the journal's numbering. SPEC section 10: a
// failed call changes nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createClient, createEngine } from '../../src/index';
import { SqliteStore } from '../../src/store/sqlite';
import type { AccessContext } from '../../machines/access';
import type { PendingTimer, StatusRecord, SubscriptionsRecord } from '../../src/store/types';

/** A durable store that fails the next write of a kind, as a full disk would. */
class FailingStore extends SqliteStore {
  failNext: 'status' | 'settings' | 'timer' | 'subs' | null = null;
  private trip(kind: 'status' | 'settings' | 'timer' | 'subs') {
    if (this.failNext === kind) {
      this.failNext = null;
      throw new Error(`disk full (${kind})`);
    }
  }
  override putStatus(userID: string, record: StatusRecord): void {
    this.trip('status');
    super.putStatus(userID, record);
  }
  override putSettings(settings: AccessContext): void {
    this.trip('settings');
    super.putSettings(settings);
  }
  override putSubscriptions(userID: string, record: SubscriptionsRecord, delta: { added: string[]; removed: string[] }): void {
    this.trip('subs');
    super.putSubscriptions(userID, record, delta);
  }
  override putTimer(timer: PendingTimer): void {
    this.trip('timer');
    super.putTimer(timer);
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'se-atomic-'));
  dirs.push(dir);
  const store = new FailingStore(join(dir, 'db.sqlite'));
  const clock = new SimulatedClock();
  const engine = createEngine({ store, clock, switches: { userStatus: true }, limits: { rateLimit: { requests: 2, windowMs: 10_000 } } });
  await engine.registerUsers(['alice', 'bob']);
  return { store, clock, engine };
}

describe('a command the store refuses changes nothing', () => {
  it('a failed setSelfStatus leaves state, journal numbering and deliveries untouched', async () => {
    const { store, engine } = await setup();
    const alice = createClient({ engine });
    const bob = createClient({ engine });
    const heard: string[] = [];
    bob.on('onUserStatusUpdated', (e) => heard.push(...(e.data as Array<{ customStatus: string }>).map((s) => s.customStatus)));
    await alice.login({ userID: 'alice' });
    await bob.login({ userID: 'bob' });
    await bob.subscribeUserStatus({ userIDList: ['alice'] });
    const before = await engine.exportState();
    heard.length = 0;
    store.failNext = 'status';
    await expect(alice.setSelfStatus({ customStatus: 'x' })).rejects.toThrow(/disk full/);
    expect(await engine.exportState()).toEqual(before);
    expect(heard).toEqual([]);
    await alice.setSelfStatus({ customStatus: 'y' });
    const seqs = (await engine.journal()).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(heard).toEqual(['y']);
    await engine.close();
  });

  it('a failed subscribe uses no rate quota', async () => {
    const { store, engine } = await setup();
    const bob = createClient({ engine });
    await bob.login({ userID: 'bob' });
    await bob.subscribeUserStatus({ userIDList: ['alice'] });
    store.failNext = 'subs';
    await expect(bob.subscribeUserStatus({ userIDList: ['alice'] })).rejects.toThrow(/disk full/);
    await bob.subscribeUserStatus({ userIDList: ['alice'] }); // the second admitted call: the failed one used no quota
    await expect(bob.subscribeUserStatus({ userIDList: ['alice'] })).rejects.toMatchObject({ code: 2996 });
    await engine.close();
  });

  it('a failed logout arms no timer, and the device stays logged in', async () => {
    const { store, engine, clock } = await setup();
    const alice = createClient({ engine });
    await alice.login({ userID: 'alice' });
    await alice.setSelfStatus({ customStatus: 'keep' });
    store.failNext = 'timer';
    await expect(alice.logout()).rejects.toThrow(/disk full/);
    expect((await engine.exportState()).timers).toEqual([]);
    clock.increment(600_000);
    expect((await engine.queryStatus(['alice']))[0]).toMatchObject({ statusType: 1, customStatus: 'keep' });
    await alice.setSelfStatus({ customStatus: 'still mine' });
    await alice.logout();
    expect((await engine.exportState()).timers).toHaveLength(1);
    await engine.close();
  });

  it('CS-5 a timer whose firing the store refuses is tried again a second later, and nothing throws', async () => {
    const { store, engine, clock } = await setup();
    const alice = createClient({ engine });
    await alice.login({ userID: 'alice' });
    await alice.setSelfStatus({ customStatus: 'away' });
    await alice.logout();
    store.failNext = 'status';
    clock.increment(300_000); // the clear's firing fails: no throw out of the clock
    expect((await engine.queryStatus(['alice']))[0]).toMatchObject({ customStatus: 'away' });
    clock.increment(1_000);
    expect((await engine.queryStatus(['alice']))[0]).toMatchObject({ customStatus: '', reason: 'custom_status_expired' });
    await engine.close();
  });

  it('a failed settings change keeps the old settings and tells no listener', async () => {
    const { store, engine } = await setup();
    const before = await engine.settings();
    store.failNext = 'settings';
    await expect(engine.configure({ edition: 'pro' })).rejects.toThrow(/disk full/);
    expect(await engine.settings()).toEqual(before);
    const bob = createClient({ engine });
    await bob.login({ userID: 'bob' });
    await bob.subscribeUserStatus({ userIDList: ['alice'] }); // still Ultimate
    await engine.close();
  });

  it('a failed login leaves the device logged out', async () => {
    const { store, engine } = await setup();
    const alice = createClient({ engine });
    store.failNext = 'status';
    await expect(alice.login({ userID: 'alice' })).rejects.toThrow(/disk full/);
    await expect(alice.setSelfStatus({ customStatus: 'x' })).rejects.toMatchObject({ code: 2024 });
    expect((await engine.queryStatus(['alice']))[0]!.statusType).toBe(3);
    await alice.login({ userID: 'alice' });
    await engine.close();
  });
});
