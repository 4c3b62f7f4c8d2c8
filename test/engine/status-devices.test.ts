// SPEC sections 1 (status model) and 2 (devices), through the public API.
import { describe, expect, it } from 'vitest';
import { ErrorCode, EVENT, StoreUnavailableError, TYPES, MemoryStore, createEngine, createClient } from '../../src/index';
import { failure, world } from './harness';

const { USER_STATUS_ONLINE: ONLINE, USER_STATUS_OFFLINE: OFFLINE, USER_STATUS_UNLOGINED: UNLOGINED, USER_STATUS_UNKNOWN: UNKNOWN } = TYPES;

describe('status model (ST)', () => {
  it('ST-1 a user has a normal status set by the engine and a custom status set by the user', async () => {
    const w = await world();
    const a = await w.online('alice');
    await a.client.setSelfStatus({ customStatus: 'in a meeting' });
    expect(await w.status('alice')).toMatchObject({ statusType: ONLINE, customStatus: 'in a meeting' });
  });

  it('ST-2 status belongs to the user: every device of the user sees the same status', async () => {
    const w = await world({ switches: { userStatus: true } });
    const a1 = await w.online('alice');
    const a2 = await w.online('alice', 'ios');
    await a1.client.setSelfStatus({ customStatus: 'x' });
    const bob = await w.online('bob');
    const seen = await bob.client.getUserStatus({ userIDList: ['alice'] });
    expect(seen.data.successUserList).toEqual([expect.objectContaining({ userID: 'alice', statusType: ONLINE, customStatus: 'x' })]);
    expect(a2.about('alice')).toEqual([[ONLINE, 'x']]);
  });

  it('ST-3 the status types have the Web SDK values', () => {
    expect(TYPES).toEqual({ USER_STATUS_UNKNOWN: 0, USER_STATUS_ONLINE: 1, USER_STATUS_OFFLINE: 2, USER_STATUS_UNLOGINED: 3 });
  });

  it('ST-4 ONLINE while at least one device is logged in and connected', async () => {
    const w = await world();
    const web = await w.online('alice');
    const ios = await w.online('alice', 'ios');
    ios.client.background();
    expect((await w.status('alice')).statusType).toBe(ONLINE);
    await web.client.logout();
    expect((await w.status('alice')).statusType).toBe(OFFLINE);
  });

  it('ST-5 OFFLINE: no device connected but a native one still logged in; a web device alone never gives OFFLINE', async () => {
    const w = await world();
    const ios = await w.online('alice', 'ios');
    ios.client.disconnect('link_closed');
    expect((await w.status('alice')).statusType).toBe(OFFLINE);
    const web = await w.online('bob');
    web.client.disconnect('link_closed');
    expect((await w.status('bob')).statusType).toBe(UNLOGINED);
    const web2 = await w.online('carol');
    await web2.client.logout();
    expect((await w.status('carol')).statusType).toBe(UNLOGINED);
  });

  it('ST-6 UNLOGINED when never logged in, or when every device logged out or was dropped', async () => {
    const w = await world();
    expect((await w.status('dave')).statusType).toBe(UNLOGINED);
    const a = await w.online('alice', 'android');
    await a.client.logout();
    expect((await w.status('alice')).statusType).toBe(UNLOGINED);
  });

  it('ST-7 UNKNOWN only when the store cannot tell; never for a user the engine holds', async () => {
    class FlakyStore extends MemoryStore {
      override getStatus(userID: string) {
        if (userID === 'lost') throw new StoreUnavailableError('shard of lost is down');
        return super.getStatus(userID);
      }
    }
    const engine = createEngine({ store: new FlakyStore(), switches: { userStatus: true } });
    await engine.registerUsers(['alice', 'lost', 'bob']);
    const alice = createClient({ engine });
    await alice.login({ userID: 'alice' });
    const r = await alice.getUserStatus({ userIDList: ['lost', 'bob'] });
    expect(r.data.successUserList.map((s) => [s.userID, s.statusType])).toEqual([['lost', UNKNOWN], ['bob', UNLOGINED]]);
    const all = await engine.queryStatus(['alice', 'bob']);
    expect(all.every((s) => s.statusType !== UNKNOWN)).toBe(true);
  });

  it('ST-8 a second device logging in while ONLINE changes nothing visible and notifies nobody', async () => {
    const w = await world({ switches: { userStatus: true, friendStatusNotify: true } });
    await w.engine.addFriends('bob', ['alice']);
    const a = await w.online('alice');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: ['alice'] });
    const before = await w.status('alice');
    await w.online('alice', 'ios');
    expect(await w.status('alice')).toEqual(before);
    expect(bob.heard).toEqual([]);
    expect(a.heard).toEqual([]);
  });
});

describe('devices and connections (DEV)', () => {
  it('DEV-1 login, logout, disconnect, reconnect, background and foreground each move the status', async () => {
    const w = await world();
    const ios = w.device('alice', 'ios');
    await ios.client.login({ userID: 'alice' });
    ios.client.background();
    ios.client.foreground();
    ios.client.disconnect();
    await ios.client.reconnect();
    await ios.client.logout();
    const reasons = (await w.engine.explain('alice')).map((e) => (e.kind === 'transition' ? e.reason : ''));
    expect(reasons).toEqual(['login', 'background', 'foreground', 'link_closed', 'reconnect', 'logout']);
  });

  it('DEV-2 a web device whose link closes is dropped at once and counts as logged out', async () => {
    const w = await world();
    const a = await w.online('alice');
    a.client.disconnect('link_closed');
    expect(await w.status('alice')).toMatchObject({ statusType: UNLOGINED, reason: 'link_closed' });
    expect((await failure(a.client.setSelfStatus({ customStatus: 'x' }))).code).toBe(ErrorCode.NOT_LOGGED_IN);
  });

  it('DEV-2 a web device that loses the network is dropped after webHeartbeatTimeoutMs', async () => {
    const w = await world({ limits: { webHeartbeatTimeoutMs: 30_000 } });
    const a = await w.online('alice');
    a.client.disconnect('network_lost');
    w.clock.increment(29_999);
    expect((await w.status('alice')).statusType).toBe(ONLINE);
    w.clock.increment(1);
    expect(await w.status('alice')).toMatchObject({ statusType: UNLOGINED, reason: 'heartbeat_timeout' });
  });

  it('DEV-2 a heartbeat back before the timeout keeps the web device', async () => {
    const w = await world();
    const a = await w.online('alice');
    a.client.disconnect('network_lost');
    w.clock.increment(59_000);
    await a.client.reconnect();
    w.clock.increment(120_000);
    expect((await w.status('alice')).statusType).toBe(ONLINE);
  });

  it('DEV-3 a native device: link closed, heartbeat timeout or background leave it logged in but disconnected', async () => {
    const w = await world();
    const link = await w.online('alice', 'ios');
    link.client.disconnect('link_closed');
    const hb = await w.online('bob', 'android');
    hb.client.disconnect('network_lost');
    w.clock.increment(400_000);
    const bg = await w.online('carol', 'mac');
    bg.client.background();
    for (const id of ['alice', 'bob', 'carol']) {
      const [s] = await w.engine.queryStatus([id], { detail: true });
      expect(s!.statusType).toBe(OFFLINE);
      expect(s!.devices).toEqual([expect.objectContaining({ connected: false, pushOnline: true })]);
    }
    expect((await w.status('bob')).reason).toBe('heartbeat_timeout');
  });

  it('DEV-3 reconnect or foreground connects a native device again', async () => {
    const w = await world();
    const a = await w.online('alice', 'ios');
    a.client.disconnect();
    await a.client.reconnect();
    expect((await w.status('alice')).statusType).toBe(ONLINE);
    a.client.background();
    a.client.foreground();
    expect(await w.status('alice')).toMatchObject({ statusType: ONLINE, reason: 'foreground' });
  });

  it('DEV-1 a device that is logged in but not connected cannot call (2800) until it comes back', async () => {
    const w = await world();
    const ios = await w.online('alice', 'ios');
    ios.client.background();
    expect((await failure(ios.client.setSelfStatus({ customStatus: 'x' }))).code).toBe(ErrorCode.NOT_CONNECTED);
    ios.client.foreground();
    await ios.client.setSelfStatus({ customStatus: 'x' });
    const web = await w.online('bob');
    web.client.disconnect('network_lost');
    expect((await failure(web.client.getUserStatus({ userIDList: ['alice'] }))).code).toBe(ErrorCode.NOT_CONNECTED);
    await web.client.reconnect();
    await web.client.getUserStatus({ userIDList: ['alice'] });
  });

  it('DEV-3 a web client has no background: background() changes nothing', async () => {
    const w = await world();
    const a = await w.online('alice');
    a.client.background();
    expect((await w.status('alice')).statusType).toBe(ONLINE);
  });

  it('DEV-4 one login more than maxDevicesPerNativePlatform kicks the oldest device of that platform with 3002', async () => {
    const w = await world({ limits: { maxDevicesPerNativePlatform: 2 } });
    const first = await w.online('alice', 'ios');
    const second = await w.online('alice', 'ios');
    const web = await w.online('alice', 'web');
    const third = await w.online('alice', 'ios');
    expect(first.events).toEqual([{ name: EVENT.KICKED_OUT, data: { type: 'multipleDevice', code: 3002, message: expect.any(String) } }]);
    expect(second.events).toEqual([]);
    expect(web.events).toEqual([]);
    expect((await failure(first.client.setSelfStatus({ customStatus: 'x' }))).code).toBe(ErrorCode.NOT_LOGGED_IN);
    await third.client.setSelfStatus({ customStatus: 'still here' });
    const [s] = await w.engine.queryStatus(['alice'], { detail: true });
    expect(s!.devices!.map((d) => d.platform).sort()).toEqual(['ios', 'ios', 'web']);
  });

  it('DEV-4 the web cap is maxWebInstances', async () => {
    const w = await world({ limits: { maxWebInstances: 1 } });
    const first = await w.online('alice');
    await w.online('alice');
    expect(first.events.map((e) => e.name)).toEqual([EVENT.KICKED_OUT]);
  });
});
