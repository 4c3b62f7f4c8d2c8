// SPEC section 12: what the engine adds beyond the seed (EXT-1..7, EXT-9), through the public API.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createClient, createEngine, ErrorCode, EVENT, replay, TYPES, type InspectionEventLike } from '../../src/index';
import { failure, world } from './harness';

const { USER_STATUS_ONLINE: ONLINE, USER_STATUS_OFFLINE: OFFLINE, USER_STATUS_UNLOGINED: UNLOGINED } = TYPES;

describe('EXT-1 reasons', () => {
  it('EXT-1 every notification and every journaled transition carries a reason', async () => {
    const w = await world({ limits: { maxDevicesPerNativePlatform: 1, customStatusClearAfterLogoutMs: 10 } });
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    const a = await w.online('alice', 'ios');
    await a.client.setSelfStatus({ customStatus: 'x' });
    await w.online('alice', 'ios'); // kicks the first
    const c = await w.online('alice', 'web');
    c.client.disconnect('link_closed');
    w.clock.increment(10);
    expect(bob.heard.map((s) => s.reason)).toEqual(['login', 'custom_status_set']);
    const reasons = (await w.engine.explain('alice')).map((e) => (e.kind === 'transition' ? e.reason : null));
    expect(reasons).toEqual(['login', 'custom_status_set', 'kicked', 'login', 'link_closed']);
  });
});

describe('EXT-2 versions and resume', () => {
  it('EXT-2 each user has a version that grows by one with every change, in notifications and query results', async () => {
    const w = await world();
    const a = await w.online('alice', 'ios');
    await a.client.setSelfStatus({ customStatus: '1' });
    a.client.background();
    a.client.foreground();
    const bob = await w.online('bob');
    const r = await bob.client.getUserStatus({ userIDList: ['alice'] });
    expect(r.data.successUserList[0]).toMatchObject({ version: 4 });
    expect((await w.engine.explain('alice')).map((e) => (e.kind === 'transition' ? e.version : 0))).toEqual([1, 2, 3, 4]);
  });

  it('EXT-2 a reconnecting device gets, once, the current status of each user that changed while it was away', async () => {
    const w = await world({ switches: { userStatus: true, friendStatusNotify: true } });
    await w.engine.addFriends('bob', ['carol']);
    const a = await w.online('alice');
    const c = await w.online('carol');
    const d = await w.online('dave');
    const bob = await w.online('bob', 'ios');
    await bob.client.subscribeUserStatus({ userIDList: ['alice', 'dave'] });
    bob.client.disconnect('network_lost');
    await a.client.setSelfStatus({ customStatus: 'one' });
    await a.client.setSelfStatus({ customStatus: 'two' });
    await c.client.setSelfStatus({ customStatus: 'friend' });
    expect(bob.heard).toEqual([]);
    await bob.client.reconnect();
    expect(bob.events).toEqual([
      {
        name: EVENT.USER_STATUS_UPDATED,
        data: [
          expect.objectContaining({ userID: 'alice', customStatus: 'two', version: 3 }),
          expect.objectContaining({ userID: 'carol', customStatus: 'friend', version: 2 }),
        ],
      },
    ]);
    // Nothing more after it, and no duplicate on a second reconnect.
    bob.clear();
    bob.client.disconnect('network_lost');
    await bob.client.reconnect();
    expect(bob.heard).toEqual([]);
    await d.client.setSelfStatus({ customStatus: 'live' });
    expect(bob.about('dave')).toEqual([[ONLINE, 'live']]);
  });

  it('EXT-2 a web device dropped by the heartbeat timeout logs in again on reconnect and resumes', async () => {
    const w = await world();
    const a = await w.online('alice', 'ios');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    bob.client.disconnect('network_lost');
    w.clock.increment(60_000);
    expect((await w.status('bob')).statusType).toBe(UNLOGINED);
    await a.client.setSelfStatus({ customStatus: 'missed' });
    await bob.client.reconnect();
    expect((await w.status('bob')).statusType).toBe(ONLINE);
    expect(bob.about('alice')).toEqual([[ONLINE, 'missed']]);
  });
});

describe('EXT-3 journal, explain and replay', () => {
  it('EXT-3 every accepted command and transition is journaled with who, what, reason, before, after, time and version', async () => {
    const w = await world();
    w.clock.set(1_000);
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'x' });
    await failure(a.client.setSelfStatus({ customStatus: 42 as never })); // rejected: not journaled
    const j = await w.engine.journal();
    const tail = j.slice(-4);
    expect(tail).toEqual([
      { seq: expect.any(Number), at: 1000, kind: 'command', by: 'alice', command: { type: 'device.login', userID: 'alice', deviceId: expect.any(String), platform: 'web' } },
      expect.objectContaining({ kind: 'transition', machine: 'userStatus', userID: 'alice', reason: 'login', before: { statusType: UNLOGINED, customStatus: '' }, after: { statusType: ONLINE, customStatus: '' }, version: 1, at: 1000 }),
      expect.objectContaining({ kind: 'command', by: 'alice', command: { type: 'status.set', userID: 'alice', customStatus: 'x', deviceId: expect.any(String) } }),
      expect.objectContaining({ kind: 'transition', reason: 'custom_status_set', version: 2, from: 'online', to: 'online' }),
    ]);
    expect(j.map((e) => e.seq)).toEqual(j.map((_, i) => i + 1));
  });

  it('EXT-3 explain(userID) returns the transitions that led to the current status', async () => {
    const w = await world();
    const a = await w.online('alice', 'android');
    await a.client.setSelfStatus({ customStatus: 'x' });
    a.client.background();
    const ex = await w.engine.explain('alice');
    expect(ex.map((e) => (e.kind === 'transition' ? [e.from, e.to, e.reason] : null))).toEqual([
      ['registered', 'online', 'login'],
      ['online', 'online', 'custom_status_set'],
      ['online', 'offline', 'background'],
    ]);
    expect((await failure(w.engine.explain('ghost'))).code).toBe(ErrorCode.USER_NOT_FOUND);
  });

  it('EXT-3 replaying the journal from empty rebuilds exactly the same state', async () => {
    const w = await world({ switches: { userStatus: true, friendStatusNotify: true }, limits: { subscriptionQuota: 2 } });
    await w.engine.addFriends('alice', ['bob']);
    const a = await w.online('alice', 'ios');
    const b = await w.online('bob');
    await b.client.subscribeUserStatus({ userIDList: ['alice', 'carol', 'dave'] });
    await a.client.setSelfStatus({ customStatus: 'x' });
    await b.client.setSelfStatus({ customStatus: 'y' });
    a.client.background();
    await b.client.logout();
    w.clock.increment(300_000);
    await w.engine.configure({ edition: 'pro' });
    const again = await replay(await w.engine.journal(), { clock: new SimulatedClock() });
    expect(await again.exportState()).toEqual(await w.engine.exportState());
  });

  it('EXT-3 replay refuses a journal that does not start at its first entry', async () => {
    const w = await world();
    await w.online('alice');
    const j = await w.engine.journal();
    expect((await failure(replay(j.slice(1)))).code).toBe(ErrorCode.INVALID_PARAMETER);
  });
});

describe('EXT-5 visibility', () => {
  it('EXT-5 an invisible user appears UNLOGINED with no custom status to everyone but its own devices', async () => {
    const w = await world({ switches: { userStatus: true, friendStatusNotify: true } });
    await w.engine.addFriends('alice', ['carol']);
    const a = await w.online('alice');
    const a2 = await w.online('alice', 'ios');
    const bob = await w.online('bob');
    const carol = await w.online('carol');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await carol.client.subscribeUserStatus({ userIDList: ['alice'] });
    await a.client.setSelfStatus({ customStatus: 'secret' });
    bob.clear();
    carol.clear();
    await a.client.setVisibility('nobody');
    expect(bob.about('alice')).toEqual([[UNLOGINED, '']]);
    expect(carol.about('alice')).toEqual([[UNLOGINED, '']]);
    await a.client.setSelfStatus({ customStatus: 'still secret' });
    expect(bob.about('alice')).toHaveLength(1);
    expect(a2.about('alice').at(-1)).toEqual([ONLINE, 'still secret']);
    expect((await bob.client.getUserStatus({ userIDList: ['alice'] })).data.successUserList[0]).toMatchObject({ statusType: UNLOGINED, customStatus: '' });
    await a.client.setVisibility('friends');
    expect(carol.about('alice').at(-1)).toEqual([ONLINE, 'still secret']);
    expect(bob.about('alice')).toHaveLength(1);
    expect((await carol.client.getUserStatus({ userIDList: ['alice'] })).data.successUserList[0]).toMatchObject({ statusType: ONLINE });
    await a.client.setVisibility('everyone');
    expect(bob.about('alice').at(-1)).toEqual([ONLINE, 'still secret']);
    expect((await failure(a.client.setVisibility('ghostly' as never))).code).toBe(ErrorCode.INVALID_PARAMETER);
  });
});

describe('EXT-7 flap damping', () => {
  it('EXT-7 a drop and a return within flapGraceMs is not told to others', async () => {
    const w = await world({ limits: { flapGraceMs: 5_000 } });
    const a = await w.online('alice');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    a.client.disconnect('link_closed');
    w.clock.increment(4_000);
    await a.client.reconnect();
    w.clock.increment(10_000);
    expect(bob.heard).toEqual([]);
    expect((await w.status('alice')).statusType).toBe(ONLINE);
  });

  it('EXT-7 the final state is always delivered: a drop that lasts past the grace is told once', async () => {
    const w = await world({ limits: { flapGraceMs: 5_000 } });
    const a = await w.online('alice', 'ios');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await a.client.setSelfStatus({ customStatus: 'x' });
    bob.clear();
    a.client.disconnect('link_closed');
    w.clock.increment(4_999);
    expect(bob.heard).toEqual([]);
    w.clock.increment(1);
    expect(bob.about('alice')).toEqual([[OFFLINE, '']]);
  });

  it('EXT-7 a return that does not restore the old status tells others the final state at once', async () => {
    const w = await world({ limits: { flapGraceMs: 5_000 } });
    const a = await w.online('alice', 'ios');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    await a.client.setSelfStatus({ customStatus: 'x' });
    bob.clear();
    a.client.disconnect('link_closed'); // OFFLINE clears the custom status (CS-5)
    await a.client.reconnect();
    expect(bob.about('alice')).toEqual([[ONLINE, '']]);
    w.clock.increment(10_000);
    expect(bob.heard).toHaveLength(1);
  });

  it('EXT-7 off by default: every drop is told at once', async () => {
    const w = await world();
    const a = await w.online('alice');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    a.client.disconnect('link_closed');
    expect(bob.about('alice')).toEqual([[UNLOGINED, '']]);
  });
});

describe('EXT-9 admin query', () => {
  it('EXT-9 queryStatus answers up to 500 users, with per-device detail on request', async () => {
    const w = await world();
    const web = await w.online('alice');
    const ios = await w.online('alice', 'ios');
    ios.client.background();
    const r = await w.engine.queryStatus(['alice', 'bob', 'ghost'], { detail: true });
    expect(r[0]).toMatchObject({ userID: 'alice', statusType: ONLINE, devices: [
      { deviceId: web.client.deviceId, platform: 'web', connected: true, pushOnline: false },
      { deviceId: ios.client.deviceId, platform: 'ios', connected: false, pushOnline: true },
    ] });
    expect(r[1]).toMatchObject({ userID: 'bob', statusType: UNLOGINED, devices: [] });
    expect(r[2]).toMatchObject({ userID: 'ghost', statusType: TYPES.USER_STATUS_UNKNOWN, error: { code: ErrorCode.USER_NOT_FOUND } });
    expect((await w.engine.queryStatus(['alice']))[0]!.devices).toBeUndefined();
    const many = Array.from({ length: 501 }, (_, i) => `u${i}`);
    expect((await failure(w.engine.queryStatus(many))).limitName).toBe('queryMaxUsers');
  });
});

describe('inspection', () => {
  it('an XState inspector sees the running machines: actors, events and real snapshots', async () => {
    const seen: InspectionEventLike[] = [];
    const engine = createEngine({ clock: new SimulatedClock(), inspect: (e) => seen.push(e as InspectionEventLike) });
    await engine.registerUsers(['alice']);
    const c = createClient({ engine });
    await c.login({ userID: 'alice' });
    await c.setSelfStatus({ customStatus: 'watched' });
    const ids = seen.filter((e) => e.type === '@xstate.actor').map((e) => e.actorRef.id);
    expect(ids).toContain('userStatus:alice');
    const snaps = seen.filter((e) => e.type === '@xstate.snapshot' && e.actorRef.id === 'userStatus:alice');
    expect(snaps.map((e) => [e.event.type, (e.snapshot as any).value, (e.snapshot as any).context.customStatus])).toEqual([
      ['DEVICE.LOGIN', 'online', ''],
      ['STATUS.SET', 'online', 'watched'],
    ]);
    expect(seen.some((e) => e.type === '@xstate.actor' && e.actorRef.id !== 'userStatus:alice')).toBe(true);
  });
});
