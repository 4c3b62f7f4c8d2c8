// The suite's tests of devices, multi-device sync and reconnect (ST-8, DEV, EXT-2).
import { DEFAULT_LIMITS, TYPES } from '../../../machines/spec';
import { EVENT } from '../../events';
import { test, type ConformanceTest } from '../define';
import { expect, failure } from '../expect';

const { USER_STATUS_ONLINE: ONLINE, USER_STATUS_OFFLINE: OFFLINE, USER_STATUS_UNLOGINED: UNLOGINED } = TYPES;

export const DEVICES: ConformanceTest[] = [
  test('ST-8 multi-device sync: a second device changes nothing visible; each device hears the other\'s changes', async (t) => {
    const w = await t.world(['alice', 'bob']);
    const bob = await w.online('bob');
    const web = await w.online('alice', 'web');
    await bob.client.subscribeUserStatus({ userIDList: [w.u.alice] });
    await w.settle();
    w.clearAll();
    const phone = await w.online('alice', 'ios');
    await w.settle();
    expect(bob.heard).toEqual([]);
    expect(web.heard).toEqual([]);
    await phone.client.setSelfStatus({ customStatus: 'from phone' });
    await w.settle();
    expect(web.about(w.u.alice)).toEqual([[ONLINE, 'from phone']]);
    expect((await web.client.getUserStatus({ userIDList: [w.u.alice] })).data.successUserList[0]!.customStatus).toBe('from phone');
    await web.client.logout();
    await w.settle();
    expect(bob.about(w.u.alice)).toEqual([[ONLINE, 'from phone']]);
    await phone.client.logout();
    await w.settle();
    expect(bob.about(w.u.alice)).toEqual([
      [ONLINE, 'from phone'],
      [UNLOGINED, 'from phone'],
    ]);
  }),

  test('DEV-4 a login over maxWebInstances kicks the oldest web device: it hears kickedOut (3002) and is logged out; nobody else hears a thing', ['configure'], async (t) => {
    const w = await t.world(['alice', 'bob'], { limits: { maxWebInstances: 2 } });
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: [w.u.alice] });
    const first = await w.online('alice');
    const second = await w.online('alice');
    await w.settle();
    w.clearAll();
    await w.online('alice');
    await w.settle();
    expect(first.events).toMatchObject([{ name: EVENT.KICKED_OUT, data: { type: 'multipleDevice', code: 3002 } }]);
    expect(second.events).toEqual([]);
    expect(bob.heard).toEqual([]);
    expect((await failure(first.client.setSelfStatus({ customStatus: 'still here?' }))).code).toBe(t.target.traits?.codeAfterKick ?? 2024);
    expect((await second.client.setSelfStatus({ customStatus: 'yes' })).data.customStatus).toBe('yes');
  }),

  test('DEV-2 a web device whose network is lost is dropped after webHeartbeatTimeoutMs, not before', ['timeControl'], async (t) => {
    const w = await t.world(['alice', 'bob']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: [w.u.alice] });
    alice.client.disconnect('network_lost');
    await w.advance(DEFAULT_LIMITS.webHeartbeatTimeoutMs - 1);
    expect(bob.heard).toEqual([]);
    await w.advance(1 + t.target.linkSlackMs);
    expect(bob.heard).toMatchObject([{ userID: w.u.alice, statusType: UNLOGINED }]);
    if (t.caps.extensionFields) expect(bob.heard[0]!.reason).toBe('heartbeat_timeout'); // EXT-1
  }),

  test('DEV-3 a native device whose network is lost goes OFFLINE after nativeHeartbeatTimeoutMs, and comes back', ['nativePlatforms', 'timeControl'], async (t) => {
    const w = await t.world(['alice', 'bob']);
    const alice = await w.online('alice', 'android');
    const bob = await w.online('bob');
    await bob.client.subscribeUserStatus({ userIDList: [w.u.alice] });
    alice.client.disconnect('network_lost');
    await w.advance(DEFAULT_LIMITS.nativeHeartbeatTimeoutMs - 1);
    expect(bob.heard).toEqual([]);
    await w.advance(1 + t.target.linkSlackMs);
    expect(bob.heard).toMatchObject([{ userID: w.u.alice, statusType: OFFLINE }]);
    if (t.caps.extensionFields) expect(bob.heard[0]!.reason).toBe('heartbeat_timeout'); // EXT-1
    await alice.client.reconnect();
    await w.settle();
    expect(bob.about(w.u.alice)).toEqual([
      [OFFLINE, ''],
      [ONLINE, ''],
    ]);
  }),

  test('EXT-2 after a network loss, reconnect() brings each missed change once, current, in order, with no duplicates', async (t) => {
    const w = await t.world(['alice', 'bob', 'carol']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    const carol = await w.online('carol');
    await alice.client.subscribeUserStatus({ userIDList: [w.u.bob, w.u.carol] });
    await bob.client.setSelfStatus({ customStatus: 'before' });
    await w.settle();
    alice.clear();
    alice.client.disconnect('network_lost');
    for (const s of ['one', 'two', 'three']) await bob.client.setSelfStatus({ customStatus: s });
    await carol.client.setSelfStatus({ customStatus: 'c1' });
    await w.settle();
    expect(alice.heard).toEqual([]);
    await alice.client.reconnect();
    await w.settle();
    expect(alice.heard.map((s) => [s.userID, s.customStatus])).toEqual([
      [w.u.bob, 'three'],
      [w.u.carol, 'c1'],
    ]);
    await bob.client.setSelfStatus({ customStatus: 'four' });
    await alice.client.reconnect(); // nothing missed: nothing resent
    await w.settle();
    expect(alice.about(w.u.bob)).toEqual([
      [ONLINE, 'three'],
      [ONLINE, 'four'],
    ]);
    if (t.caps.extensionFields) {
      const versions = alice.heard.filter((s) => s.userID === w.u.bob).map((s) => s.version);
      expect([...versions].sort((a, b) => a - b)).toEqual(versions);
      expect(new Set(versions).size).toBe(versions.length);
    }
  }),

  test('DEV-1 after the server drops the connection the device comes back by itself and keeps its subscriptions', ['serverDrop'], async (t) => {
    const w = await t.world(['alice', 'bob']);
    const alice = await w.online('alice');
    const bob = await w.online('bob');
    await alice.client.subscribeUserStatus({ userIDList: [w.u.bob] });
    await t.target.dropConnections(w.u.alice, [alice.client]);
    await w.settle();
    alice.clear();
    expect((await w.status('alice')).statusType).toBe(ONLINE);
    await bob.client.setSelfStatus({ customStatus: 'after the drop' });
    await w.settle();
    expect(alice.about(w.u.bob)).toEqual([[ONLINE, 'after the drop']]);
    expect((await alice.client.setSelfStatus({ customStatus: 'back' })).data.customStatus).toBe('back');
  }),
];
