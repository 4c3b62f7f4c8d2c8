// Counterexamples the property tests found, pinned as plain examples: each was an engine bug (fixed since)
// or a misreading in the model, and must stay fixed.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { createClient, createEngine, ErrorCode, EVENT, replay, StatusError, TYPES, type ClientEvent, type Platform } from '../../src/index';

async function world(options: { friendStatusNotify?: boolean; limits?: Record<string, number> } = {}) {
  const clock = new SimulatedClock();
  const engine = createEngine({
    clock,
    switches: { userStatus: true, friendStatusNotify: options.friendStatusNotify ?? false },
    ...(options.limits ? { limits: options.limits } : {}),
  });
  await engine.registerUsers(['u0', 'u1', 'u2', 'u3', 'u4']);
  const device = (platform: Platform = 'web') => {
    const client = createClient({ engine, platform });
    const heard: ClientEvent[] = [];
    for (const name of Object.values(EVENT)) client.on(name, (e) => heard.push(e as ClientEvent));
    const statuses = () => heard.flatMap((e) => (e.name === EVENT.USER_STATUS_UPDATED ? e.data : []));
    return { client, heard, statuses };
  };
  return { clock, engine, device };
}

describe('pinned counterexamples of the model-based property', () => {
  it('SUB-8 EXT-4 a user subscribed to again moves to the newest place and is not told as evicted', async () => {
    const w = await world({ limits: { subscriptionQuota: 3 } });
    const d = w.device('mac');
    await d.client.login({ userID: 'u0' });
    await d.client.subscribeUserStatus({ userIDList: ['u3', 'u4'] });
    await d.client.subscribeUserStatus({ userIDList: ['u1', 'u2', 'u3'] });
    expect(d.heard.filter((e) => e.name === EVENT.SUBSCRIPTION_ENDED)).toEqual([
      { name: EVENT.SUBSCRIPTION_ENDED, data: { userIDList: ['u4'], reason: 'subscription_evicted' } },
    ]);
    expect((await w.engine.exportState()).users.u0!.subscriptions).toEqual(['u1', 'u2', 'u3']);
  });

  it('EXT-2 after reconnect a device hears its own change once, not again in the resume', async () => {
    const w = await world();
    const d = w.device('mac');
    await d.client.login({ userID: 'u0' });
    d.client.background();
    await d.client.reconnect();
    expect(d.statuses()).toEqual([
      expect.objectContaining({ userID: 'u0', version: 1, reason: 'login' }),
      expect.objectContaining({ userID: 'u0', version: 3, reason: 'reconnect' }),
    ]);
  });

  it('SUB-9 EXT-2 a reconnect on a live link pushes nothing: no one in view changed while away', async () => {
    const w = await world();
    const d2 = w.device();
    const d0 = w.device();
    await d2.client.login({ userID: 'u0' });
    await d0.client.login({ userID: 'u3' });
    await d2.client.subscribeUserStatus({ userIDList: ['u3'] });
    d2.heard.length = 0;
    await d2.client.reconnect();
    expect(d2.heard).toEqual([]);
  });

  it('NTF-2 EXT-2 a friend added while the device is connected is not pushed by a reconnect', async () => {
    const w = await world({ friendStatusNotify: true });
    const d9 = w.device('android');
    const d0 = w.device();
    await d9.client.login({ userID: 'u0' });
    await d0.client.login({ userID: 'u3' });
    await w.engine.addFriends('u0', ['u3']);
    d9.heard.length = 0;
    await d9.client.reconnect();
    expect(d9.heard).toEqual([]);
  });

  it('DEV-3 ST-4 foreground() does not count a device whose link is closed as connected', async () => {
    const w = await world();
    const d5 = w.device('ios');
    await d5.client.login({ userID: 'u0' });
    d5.client.disconnect('link_closed');
    d5.client.foreground();
    const [s] = await w.engine.queryStatus(['u0'], { detail: true });
    // Either the device is connected and can call, or it is not and the user stays OFFLINE.
    const canCall = await d5.client.setSelfStatus({ customStatus: 'x' }).then(() => true, () => false);
    expect(canCall || s!.statusType === TYPES.USER_STATUS_OFFLINE).toBe(true);
    expect(s!.statusType === TYPES.USER_STATUS_ONLINE ? canCall : true).toBe(true);
  });

  it('DEV-3 foreground() after network_lost brings the link back: calls work again and the heartbeat timeout no longer applies', async () => {
    const w = await world({ limits: { nativeHeartbeatTimeoutMs: 3500 } });
    const d10 = w.device('ios');
    const other = w.device();
    await d10.client.login({ userID: 'u4' });
    await other.client.login({ userID: 'u0' });
    d10.client.disconnect('network_lost');
    d10.client.foreground();
    expect((await d10.client.getUserStatus({ userIDList: ['u0'] })).data.successUserList).toEqual([expect.objectContaining({ userID: 'u0' })]);
    w.clock.increment(10_000);
    const [s] = await w.engine.queryStatus(['u4']);
    expect(s).toMatchObject({ statusType: TYPES.USER_STATUS_ONLINE, version: 1 });
  });

  it('EXT-4 UNSUB-5 the subscriptions_cleared notice is told when a dropped web device logs in again by reconnect()', async () => {
    const w = await world({ limits: { subscriptionClearAfterLogoutMs: 5000 } });
    const d3 = w.device();
    await d3.client.login({ userID: 'u1' });
    await d3.client.subscribeUserStatus({ userIDList: ['u0'] });
    d3.client.disconnect('link_closed');
    w.clock.increment(5000);
    await d3.client.reconnect();
    expect(d3.heard.filter((e) => e.name === EVENT.SUBSCRIPTION_ENDED)).toEqual([
      { name: EVENT.SUBSCRIPTION_ENDED, data: { userIDList: ['u0'], reason: 'subscriptions_cleared' } },
    ]);
  });

  it('EXT-3 DEV-2 an engine rebuilt by replay() still drops a web device whose heartbeats had stopped', async () => {
    const w = await world({ limits: { webHeartbeatTimeoutMs: 2000 } });
    const d = w.device();
    await d.client.login({ userID: 'u0' });
    d.client.disconnect('network_lost');
    const clock = new SimulatedClock();
    const again = await replay(await w.engine.journal(), { clock });
    w.clock.increment(2000);
    clock.increment(2000);
    expect((await w.engine.queryStatus(['u0']))[0]!.statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
    expect(await again.exportState()).toEqual(await w.engine.exportState());
  });
});

/** Rejects (or throws) a StatusError 6017, as SPEC section 10 asks of a bad parameter. */
async function invalid(call: () => unknown): Promise<void> {
  let error: unknown = null;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StatusError);
  expect((error as StatusError).code).toBe(ErrorCode.INVALID_PARAMETER);
}

describe('pinned counterexamples of the boundary fuzzing', () => {
  const logged = async () => {
    const w = await world();
    const d = w.device();
    await d.client.login({ userID: 'u0' });
    return { ...w, client: d.client as typeof d.client & { setVisibility(v: unknown): Promise<unknown> } };
  };
  it('EXT-5 setVisibility(Object.create(null)) is refused with 6017', async () => {
    const w = await logged();
    await invalid(() => w.client.setVisibility(Object.create(null)));
  });
  it('DEV-1 disconnect([{toString: 0}]) is refused with 6017', async () => {
    const w = await logged();
    await invalid(() => w.client.disconnect([{ toString: 0 }] as never));
  });
  it('GATE-1 configure({limits: {queryMaxUsers: 1n}}) is refused with 6017', async () => {
    const w = await world();
    await invalid(() => w.engine.configure({ limits: { queryMaxUsers: 1n } } as never));
  });
  it('LIM-2 createEngine({limits: {queryMaxUsers: 1n}}) is refused with 6017', async () => {
    await invalid(() => createEngine({ limits: { queryMaxUsers: 1n } } as never));
  });
  it('EXT-3 replay(0) is refused with 6017', async () => {
    await invalid(() => replay(0 as never));
  });
  it('EXT-3 replay([undefined]) is refused with 6017', async () => {
    await invalid(() => replay([undefined] as never));
  });
  it('EXT-3 replay([], null) is refused with 6017', async () => {
    await invalid(() => replay([], null as never));
  });
  it('EXT-3 journal(null) is refused with 6017', async () => {
    const w = await world();
    await invalid(() => w.engine.journal(null as never));
  });
  it('EXT-3 journal([]) is refused with 6017', async () => {
    const w = await world();
    await invalid(() => w.engine.journal([] as never));
  });
  it('EXT-3 journal({limit: 1n}) is refused with 6017', async () => {
    const w = await world();
    await invalid(() => w.engine.journal({ limit: 1n } as never));
  });
  it('GET-4 CL-2 getUserStatus({userIDList: [, ]}) (a hole, not a userID) is refused with 6017', async () => {
    const w = await logged();
    // eslint-disable-next-line no-sparse-arrays
    await invalid(() => w.client.getUserStatus({ userIDList: [, ] as never }));
  });
  for (const options of [{ clock: null }, { journal: null }, { broker: [] }, { store: 'x' }, { inspect: 'x' }, { machines: 5 }]) {
    it(`LIM-2 createEngine(${JSON.stringify(options)}) is refused with 6017`, async () => {
      await invalid(async () => {
        const e = createEngine(options as never);
        await e.registerUsers(['a']);
      });
    });
  }
});
