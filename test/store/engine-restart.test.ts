// An engine on SqliteStore, closed and started again on the same file: the state, the journal and the
// pending timers come back, and a timer due while the engine was down fires after the restart.
import { SimulatedClock } from 'xstate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient, createEngine, EVENT, TYPES, type Client, type ClientEvent, type Engine, type EngineState } from '../../src/index';
import { SqliteStore } from '../../src/store/sqlite';
import { dump } from './contract';
import { tempDir } from './tmp';

const CLEAR_MS = 60_000;

/**
 * Live presence is not durable state: after a restart no device is connected until its client comes back.
 * The engine keeps loaded device records as they were (what it should do with them is the lead's call, see
 * the store report), so the restart comparison keeps who is logged in on which platform, and drops only
 * each device's `connected` flag.
 */
const withoutLinks = (s: EngineState) => ({
  ...s,
  users: Object.fromEntries(
    Object.entries(s.users).map(([id, u]) => [id, { ...u, devices: u.devices.map(({ deviceId, platform }) => ({ deviceId, platform })) }]),
  ),
});

describe('engine restart on SqliteStore', () => {
  let tmp: ReturnType<typeof tempDir>;
  let file: string;
  const open: Array<{ engine: Engine; store: SqliteStore }> = [];

  const start = (clock: SimulatedClock) => {
    const store = new SqliteStore(file);
    const engine = createEngine({ store, clock, switches: { userStatus: true, friendStatusNotify: true } });
    open.push({ engine, store });
    return { engine, store };
  };
  const stop = async (e: { engine: Engine; store: SqliteStore }) => {
    await e.engine.close();
    e.store.close();
  };
  const heard = (client: Client) => {
    const events: ClientEvent[] = [];
    for (const name of Object.values(EVENT)) client.on(name, (e) => events.push(e));
    return events;
  };

  /** Users, friends, logins on web and native, custom statuses, subscriptions, visibility, config, timers. */
  async function busyDay(clock: SimulatedClock) {
    const first = start(clock);
    const { engine } = first;
    await engine.registerUsers(['alice', 'bob', 'carol', 'dave', 'erin']);
    await engine.addFriends('alice', ['bob', 'carol']);
    await engine.addFriends('bob', ['alice']);
    await engine.removeFriends('alice', ['carol']);
    await engine.configure({ limits: { customStatusClearAfterLogoutMs: CLEAR_MS, maxWebInstances: 4 } });

    const alice = createClient({ engine, platform: 'web' });
    await alice.login({ userID: 'alice' });
    await alice.setSelfStatus({ customStatus: 'coding' });
    await alice.subscribeUserStatus({ userIDList: ['carol', 'dave'] });
    await alice.setVisibility('friends');

    const bob = createClient({ engine, platform: 'ios' });
    await bob.login({ userID: 'bob' });
    await bob.setSelfStatus({ customStatus: 'commuting' });
    bob.background(); // DEV-3: logged in, not connected: OFFLINE

    clock.increment(1_000);
    const carol = createClient({ engine, platform: 'web' });
    await carol.login({ userID: 'carol' });
    await carol.setSelfStatus({ customStatus: 'lunch' });
    await carol.subscribeUserStatus({ userIDList: ['alice'] });
    await carol.logout(); // CS-5 and UNSUB-5: two timers pending

    const dave = createClient({ engine, platform: 'android' });
    await dave.login({ userID: 'dave' });
    dave.disconnect('link_closed');
    clock.increment(500);
    return first;
  }

  beforeEach(() => {
    tmp = tempDir();
    file = tmp.file();
  });
  afterEach(async () => {
    for (const e of open.splice(0)) await stop(e).catch(() => undefined);
    tmp.remove();
  });

  it('EXT-3 the state, the journal and the pending timers are the same after a restart', async () => {
    const clock = new SimulatedClock();
    const first = await busyDay(clock);
    const state = await first.engine.exportState();
    const journal = await first.engine.journal();
    const stored = dump(first.store);
    expect(state.timers.map((t) => (JSON.parse(t.key) as string[]).slice(0, 2).join('|')).sort()).toEqual(['subscriptions|carol', 'userStatus|carol']);
    await stop(first);

    // The file alone holds exactly what the store held.
    const raw = new SqliteStore(file);
    expect(dump(raw)).toEqual(stored);
    raw.close();

    const later = new SimulatedClock();
    later.set(clock.now() + 10_000);
    const second = start(later);
    expect(withoutLinks(await second.engine.exportState())).toEqual(withoutLinks(state));
    expect(await second.engine.journal()).toEqual(journal);
    expect(await second.engine.explain('carol')).toEqual(journal.filter((e) => e.kind === 'transition' && e.machine === 'userStatus' && e.userID === 'carol'));

    // Commands after the restart continue the journal's seq.
    await second.engine.registerUsers(['frank']);
    const next = await second.engine.journal({ fromSeq: journal.at(-1)!.seq + 1 });
    expect(next[0]).toMatchObject({ seq: journal.at(-1)!.seq + 1, kind: 'command', command: { type: 'users.register', userIDs: ['frank'] } });
  });

  it('CS-5 a custom-status clear pending at shutdown fires at its due time after the restart, not before', async () => {
    const clock = new SimulatedClock();
    const first = await busyDay(clock);
    const due = (await first.engine.exportState()).timers.find((t) => t.key.startsWith('["userStatus","carol"'))!.due;
    await stop(first);

    const later = new SimulatedClock();
    later.set(due - 1_000);
    const { engine } = start(later);
    const alice = createClient({ engine, platform: 'web' });
    await alice.login({ userID: 'alice' });
    const events = heard(alice);

    later.increment(999);
    expect((await engine.queryStatus(['carol']))[0]).toMatchObject({ statusType: TYPES.USER_STATUS_UNLOGINED, customStatus: 'lunch' });
    later.increment(1);
    expect((await engine.queryStatus(['carol']))[0]).toMatchObject({ customStatus: '', reason: 'custom_status_expired' });
    // NTF-2 (b): alice still subscribes to carol after the restart, so she hears the clear.
    expect(events).toContainEqual({
      name: EVENT.USER_STATUS_UPDATED,
      data: [expect.objectContaining({ userID: 'carol', customStatus: '', reason: 'custom_status_expired' })],
    });
    expect((await engine.exportState()).timers.map((t) => t.key)).not.toContainEqual(expect.stringMatching(/^userStatus\|carol/));
  });

  it('CS-5 UNSUB-5 EXT-4 timers already overdue at start fire at once; the notice they leave survives another restart', async () => {
    const clock = new SimulatedClock();
    const first = await busyDay(clock);
    await stop(first);

    const later = new SimulatedClock();
    later.set(clock.now() + 3_600_000); // both carol timers (60 s and 300 s) are long overdue
    const second = start(later);
    later.increment(0);
    const state = await second.engine.exportState();
    expect(state.timers).toEqual([]);
    expect(state.users.carol).toMatchObject({ customStatus: '', subscriptions: [] });
    const fired = (await second.engine.journal()).filter((e) => e.kind === 'command' && e.command.type === 'timer.fire');
    expect(fired).toHaveLength(2);
    expect(fired.every((e) => e.at === later.now())).toBe(true);
    await stop(second);

    // EXT-4: carol was away when her subscriptions were cleared; she hears of it at her next login, even
    // though the engine restarted in between.
    const third = start(later);
    const carol = createClient({ engine: third.engine, platform: 'web' });
    const events = heard(carol);
    await carol.login({ userID: 'carol' });
    expect(events).toContainEqual({ name: EVENT.SUBSCRIPTION_ENDED, data: { userIDList: ['alice'], reason: 'subscriptions_cleared' } });
  });
});
