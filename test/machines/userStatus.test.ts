// The user status machine on its own, through XState's pure transition() and a SimulatedClock.
import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, SimulatedClock, transition, type AnyMachineSnapshot } from 'xstate';
import { TYPES } from '../../machines/spec';
import { userStatusMachine, type UserStatusEvent } from '../../machines/userStatus';

const login = (deviceId: string, platform: 'web' | 'ios' | 'android' = 'web', cap = 10): UserStatusEvent => ({
  type: 'DEVICE.LOGIN',
  deviceId,
  platform,
  cap,
});

/** Runs events through the pure transition(), collecting every emitted event. */
function run(events: UserStatusEvent[]) {
  let [snapshot, actions] = initialTransition(userStatusMachine, {});
  const emitted: any[] = [];
  const collect = (acts: typeof actions) => {
    for (const a of acts) if ((a.type as string) === 'xstate.emit') emitted.push((a as any).params.event);
  };
  collect(actions);
  for (const e of events) {
    [snapshot, actions] = transition(userStatusMachine, snapshot, e);
    collect(actions);
  }
  return { snapshot: snapshot as AnyMachineSnapshot, emitted };
}

describe('user status machine', () => {
  it('ST-6 a registered user starts UNLOGINED at version 0', () => {
    const { snapshot, emitted } = run([]);
    expect(snapshot.value).toBe('registered');
    expect(snapshot.context.statusType).toBe(TYPES.USER_STATUS_UNLOGINED);
    expect(snapshot.context.version).toBe(0);
    expect(emitted).toEqual([]);
  });

  it('ST-4 EXT-1 EXT-2 a login makes the user ONLINE, version 1, reason login', () => {
    const { snapshot, emitted } = run([login('w1')]);
    expect(snapshot.value).toBe('online');
    expect(emitted).toEqual([
      { type: 'status.changed', statusType: TYPES.USER_STATUS_ONLINE, customStatus: '', version: 1, reason: 'login' },
    ]);
  });

  it('ST-8 a second device changes nothing visible and emits nothing', () => {
    const { snapshot, emitted } = run([login('w1'), login('i1', 'ios')]);
    expect(snapshot.context.devices.map((d: { id: string }) => d.id)).toEqual(['w1', 'i1']);
    expect(snapshot.context.version).toBe(1);
    expect(emitted).toHaveLength(1);
  });

  it('ST-5 CS-5 a native device in the background makes the user OFFLINE and clears the custom status at once', () => {
    const { snapshot, emitted } = run([login('i1', 'ios'), { type: 'STATUS.SET', customStatus: 'busy' }, { type: 'DEVICE.BACKGROUND', deviceId: 'i1' }]);
    expect(snapshot.value).toBe('offline');
    expect(snapshot.context.customStatus).toBe('');
    expect(emitted.at(-1)).toEqual({ type: 'status.changed', statusType: TYPES.USER_STATUS_OFFLINE, customStatus: '', version: 3, reason: 'background' });
  });

  it('ST-5 DEV-2 a web device never makes the user OFFLINE: its drop is a logout', () => {
    const { snapshot } = run([login('w1'), { type: 'DEVICE.DISCONNECT', deviceId: 'w1', reason: 'link_closed' }]);
    expect(snapshot.value).toEqual({ unlogined: 'settled' });
    expect(snapshot.context.devices).toEqual([]);
    expect(snapshot.context.reason).toBe('link_closed');
  });

  it('DEV-3 a native device that loses its link stays logged in, disconnected; reconnect brings it back', () => {
    const dropped = run([login('a1', 'android'), { type: 'DEVICE.DISCONNECT', deviceId: 'a1', reason: 'heartbeat_timeout' }]);
    expect(dropped.snapshot.value).toBe('offline');
    expect(dropped.snapshot.context.devices).toEqual([{ id: 'a1', platform: 'android', connected: false }]);
    const back = run([
      login('a1', 'android'),
      { type: 'DEVICE.DISCONNECT', deviceId: 'a1', reason: 'heartbeat_timeout' },
      { type: 'DEVICE.RECONNECT', deviceId: 'a1', platform: 'android', cap: 3 },
    ]);
    expect(back.snapshot.value).toBe('online');
    expect(back.snapshot.context.reason).toBe('reconnect');
  });

  it('DEV-1 a dropped web device that reconnects logs in again', () => {
    const { snapshot } = run([
      login('w1'),
      { type: 'DEVICE.DISCONNECT', deviceId: 'w1', reason: 'link_closed' },
      { type: 'DEVICE.RECONNECT', deviceId: 'w1', platform: 'web', cap: 10 },
    ]);
    expect(snapshot.value).toBe('online');
    expect(snapshot.context.devices).toEqual([{ id: 'w1', platform: 'web', connected: true }]);
  });

  it('ST-5 the last web device logging out while a native one is in the background leaves the user OFFLINE', () => {
    const { snapshot } = run([login('i1', 'ios'), login('w1'), { type: 'DEVICE.BACKGROUND', deviceId: 'i1' }, { type: 'DEVICE.LOGOUT', deviceId: 'w1' }]);
    expect(snapshot.value).toBe('offline');
  });

  it('DEV-4 a login on a full platform kicks the oldest device of that platform, and nothing else changes', () => {
    const { snapshot, emitted } = run([login('i1', 'ios', 2), login('w1'), login('i2', 'ios', 2), login('i3', 'ios', 2)]);
    expect(snapshot.context.devices.map((d: { id: string }) => d.id)).toEqual(['w1', 'i2', 'i3']);
    expect(emitted.filter((e) => e.type === 'device.kicked')).toEqual([{ type: 'device.kicked', deviceIds: ['i1'] }]);
    expect(snapshot.context.version).toBe(1);
  });

  it('DEV-4 LIM-2 after the cap was lowered, a login kicks as many of the oldest as it takes to fit', () => {
    const { snapshot, emitted } = run([login('w1', 'web', 3), login('w2', 'web', 3), login('w3', 'web', 3), login('w4', 'web', 1)]);
    expect(snapshot.context.devices.map((d: { id: string }) => d.id)).toEqual(['w4']);
    expect(emitted.filter((e) => e.type === 'device.kicked')).toEqual([{ type: 'device.kicked', deviceIds: ['w1', 'w2', 'w3'] }]);
  });

  it('CS-7 setting the same custom status again emits nothing', () => {
    const { snapshot, emitted } = run([login('w1'), { type: 'STATUS.SET', customStatus: 'x' }, { type: 'STATUS.SET', customStatus: 'x' }]);
    expect(snapshot.context.version).toBe(2);
    expect(emitted).toHaveLength(2);
  });

  it('CS-5 after logout the custom status is cleared customStatusClearAfterLogout later, unless the user logs in first', () => {
    const clock = new SimulatedClock();
    const actor = createActor(userStatusMachine, { clock, input: {} }).start();
    const seen: any[] = [];
    actor.on('status.changed', (e) => seen.push(e));
    actor.send(login('w1'));
    actor.send({ type: 'STATUS.SET', customStatus: 'away' });
    actor.send({ type: 'DEVICE.LOGOUT', deviceId: 'w1' });
    expect(actor.getSnapshot().value).toEqual({ unlogined: 'clearPending' });
    expect(actor.getSnapshot().context.customStatus).toBe('away');
    clock.increment(299_999);
    expect(actor.getSnapshot().context.customStatus).toBe('away');
    clock.increment(1);
    expect(actor.getSnapshot().value).toEqual({ unlogined: 'settled' });
    expect(seen.at(-1)).toMatchObject({ statusType: TYPES.USER_STATUS_UNLOGINED, customStatus: '', reason: 'custom_status_expired', version: 4 });

    const again = createActor(userStatusMachine, { clock, input: {} }).start();
    again.send(login('w1'));
    again.send({ type: 'STATUS.SET', customStatus: 'away' });
    again.send({ type: 'DEVICE.LOGOUT', deviceId: 'w1' });
    clock.increment(100_000);
    again.send(login('w2'));
    clock.increment(300_000);
    expect(again.getSnapshot().value).toBe('online');
    expect(again.getSnapshot().context.customStatus).toBe('away');
  });

  it('EXT-1 every change carries the reason of the event that caused it', () => {
    const { emitted } = run([
      login('i1', 'ios'),
      { type: 'STATUS.SET', customStatus: 'x' },
      { type: 'STATUS.SET', customStatus: '' },
      { type: 'DEVICE.BACKGROUND', deviceId: 'i1' },
      { type: 'DEVICE.FOREGROUND', deviceId: 'i1' },
      { type: 'DEVICE.LOGOUT', deviceId: 'i1' },
    ]);
    expect(emitted.map((e) => e.reason)).toEqual(['login', 'custom_status_set', 'custom_status_cleared', 'background', 'foreground', 'logout']);
    expect(emitted.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('EXT-5 going invisible is a change like any other', () => {
    const { snapshot, emitted } = run([login('w1'), { type: 'VISIBILITY.SET', visibility: 'nobody' }]);
    expect(snapshot.context.visibility).toBe('nobody');
    expect(emitted.at(-1)).toMatchObject({ reason: 'visibility_changed', version: 2 });
  });
});
