// What the engine holds besides its store stays bounded by what is live: sessions of logged-in devices,
// rate windows with calls in them. And the regressions of the review: a lowered device cap, re-entrant
// comebacks during a delivery, the journal's size per query.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createClient, ErrorCode, EVENT, replay } from '../../src/index';
import { coreOf } from '../../src/engine/engine';
import { world } from './harness';

describe('bounded memory', () => {
  it('a client that never logs in, or logs out, is not held by the engine', async () => {
    const w = await world();
    const core = coreOf(w.engine);
    for (let i = 0; i < 100; i++) createClient({ engine: w.engine });
    expect(core.stats().sessions).toBe(0);
    const a = createClient({ engine: w.engine });
    await a.login({ userID: 'alice' });
    expect(core.stats()).toMatchObject({ sessions: 1, usersWithSessions: 1 });
    await a.logout();
    expect(core.stats()).toMatchObject({ sessions: 0, usersWithSessions: 0 });
    await a.login({ userID: 'alice' }); // and it can log in again
    expect(core.stats().sessions).toBe(1);
  });

  it('LIM-1 rate windows with no call left in them are forgotten', async () => {
    const users = Array.from({ length: 1400 }, (_, i) => `u${i}`);
    const w = await world({ users, limits: { rateLimit: { requests: 5, windowMs: 1000 } } });
    const core = coreOf(w.engine);
    for (const u of users) {
      const c = createClient({ engine: w.engine });
      await c.login({ userID: u });
      await c.getUserStatus({ userIDList: ['u0'] });
      await c.subscribeUserStatus({ userIDList: [u === 'u0' ? 'u1' : 'u0'] });
      await c.unsubscribeUserStatus({ userIDList: ['u0'] });
    }
    expect(core.stats().rateWindows).toBeGreaterThan(3000);
    w.clock.increment(2000);
    // The sweep runs on an admitted call at most once a window: the next call triggers it.
    const c = createClient({ engine: w.engine });
    await c.login({ userID: 'u1' });
    for (let i = 0; i < 5; i++) await c.getUserStatus({ userIDList: ['u0'] });
    expect(core.stats().rateWindows).toBeLessThan(10);
  });

  it('EXT-3 a query is journaled with its size, not its list', async () => {
    const w = await world();
    const a = await w.online('alice');
    const ids = Array.from({ length: 500 }, (_, i) => `someone-${i}`);
    await a.client.getUserStatus({ userIDList: ids });
    const last = (await w.engine.journal()).at(-1)!;
    expect(last).toMatchObject({ kind: 'command', command: { type: 'status.query', userID: 'alice', count: 500 } });
    expect(JSON.stringify(last).length).toBeLessThan(200);
  });
});

describe('review regressions', () => {
  it('DEV-4 LIM-2 after maxWebInstances is lowered, the next login leaves at most the new cap', async () => {
    const w = await world();
    const first = await w.online('alice');
    const second = await w.online('alice');
    await w.online('alice');
    await w.engine.configure({ limits: { maxWebInstances: 1 } });
    const newest = await w.online('alice');
    const [s] = await w.engine.queryStatus(['alice'], { detail: true });
    expect(s!.devices!.map((d) => d.deviceId)).toEqual([newest.client.deviceId]);
    expect(first.events.map((e) => e.name)).toEqual([EVENT.KICKED_OUT]);
    expect(second.events.map((e) => e.name)).toEqual([EVENT.KICKED_OUT]);
  });

  it('EXT-2 NTF-6 a device sent to the background by a handler during a delivery gets the rest on coming back', async () => {
    const w = await world();
    const s = await w.online('bob', 'android');
    await s.client.subscribeUserStatus({ userIDList: ['alice'] });
    const a = await w.online('alice');
    s.clear();
    let once = true;
    a.client.on(EVENT.USER_STATUS_UPDATED, () => {
      if (once) {
        once = false;
        s.client.background();
      }
    });
    await a.client.setSelfStatus({ customStatus: 'hi' });
    s.client.foreground();
    expect(s.about('alice')).toEqual([[1, 'hi']]);
  });

  it('EXT-2 a device brought back by a handler during a delivery hears that change once', async () => {
    const w = await world();
    const s = await w.online('bob', 'android');
    await s.client.subscribeUserStatus({ userIDList: ['alice'] });
    const a = await w.online('alice');
    s.client.background();
    s.clear();
    let once = true;
    a.client.on(EVENT.USER_STATUS_UPDATED, () => {
      if (once) {
        once = false;
        s.client.foreground();
      }
    });
    await a.client.setSelfStatus({ customStatus: 'hi' });
    expect(s.about('alice')).toEqual([[1, 'hi']]);
  });

  it('EXT-2 EXT-5 resume tells a returning subscriber that a user hid itself while it was away', async () => {
    const w = await world();
    const x = await w.online('alice');
    const s = await w.online('bob');
    await s.client.subscribeUserStatus({ userIDList: ['alice'] });
    await x.client.setSelfStatus({ customStatus: 'a' });
    s.client.disconnect('link_closed');
    await x.client.setVisibility('nobody');
    await x.client.setSelfStatus({ customStatus: 'busy' });
    s.clear();
    await s.client.reconnect();
    expect(s.about('alice')).toEqual([[3, '']]);
  });

  it('EXT-5 a hidden user shows others one version and reason until it shows itself again', async () => {
    const w = await world();
    const x = await w.online('alice');
    const bob = await w.online('bob');
    await x.client.setVisibility('nobody');
    const seen = async () => (await bob.client.getUserStatus({ userIDList: ['alice'] })).data.successUserList[0];
    const first = await seen();
    await x.client.setSelfStatus({ customStatus: 'busy' });
    expect(await seen()).toEqual(first);
    await x.client.logout();
    expect(await seen()).toEqual(first);
    expect(first).toMatchObject({ statusType: 3, customStatus: '', reason: 'visibility_changed' });
  });

  it('EXT-7 NTF-6 while a flap is held back, others are shown the status from before it', async () => {
    const w = await world({ limits: { flapGraceMs: 1000 } });
    const x = await w.online('alice');
    const s = await w.online('bob');
    x.client.disconnect('link_closed');
    w.clock.increment(100);
    await s.client.subscribeUserStatus({ userIDList: ['alice'], pushCurrent: true });
    expect((await s.client.getUserStatus({ userIDList: ['alice'] })).data.successUserList[0]!.statusType).toBe(1);
    await x.client.reconnect();
    w.clock.increment(2000);
    expect(s.about('alice')).toEqual([[1, '']]);
  });

  it('EXT-2 EXT-7 a change released after the grace reaches, by resume, a device that was away at the release', async () => {
    const w = await world({ limits: { flapGraceMs: 1000 } });
    const x = await w.online('alice');
    const s = await w.online('bob', 'android');
    await s.client.subscribeUserStatus({ userIDList: ['alice'] });
    await x.client.setSelfStatus({ customStatus: 'hi' });
    x.client.disconnect('link_closed');
    w.clock.increment(100);
    s.client.background();
    w.clock.increment(2000);
    s.clear();
    s.client.foreground();
    expect(s.about('alice')).toEqual([[3, 'hi']]);
    // The release is the flap machine's durable grace timer firing: one journaled command.
    const released = (await w.engine.journal()).filter((e) => e.kind === 'command' && e.command.type === 'timer.fire' && JSON.parse(e.command.key)[0] === 'flap');
    expect(released).toHaveLength(1);
  });
});

describe('the in-memory journal keeps a window (EXT-3 retention)', () => {
  it('EXT-3 journal() and explain() read the newest maxEntries entries; replay() refuses a journal past its window and says why', async () => {
    const w = await world({ journal: { maxEntries: 6 } });
    const a = await w.online('alice');
    for (let i = 0; i < 5; i++) await a.client.setSelfStatus({ customStatus: `s${i}` });
    const kept = await w.engine.journal();
    expect(kept).toHaveLength(6);
    // Seqs stay contiguous, newest last: the last entry is the last change's transition.
    expect(kept.map((e) => e.seq)).toEqual(kept.map((_, i) => kept[0]!.seq + i));
    expect(kept.at(-1)).toMatchObject({ kind: 'transition', userID: 'alice', after: { customStatus: 's4' } });
    expect((await w.engine.explain('alice')).at(-1)).toMatchObject({ after: { customStatus: 's4' } });
    await expect(replay(kept, { clock: new SimulatedClock() })).rejects.toMatchObject({ code: ErrorCode.INVALID_PARAMETER, param: 'entries' });
  });

  it('EXT-3 within its window the default journal replays to the same statuses', async () => {
    const w = await world();
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'here' });
    const again = await replay(await w.engine.journal(), { clock: new SimulatedClock() });
    expect(await again.queryStatus(['alice'])).toEqual(await w.engine.queryStatus(['alice']));
  });
});
