// EXT-5 in the user status machine: a change of visibility is a change like any other (a new version, a
// reason), it records its version as the only one hidden viewers may see, and setting the visibility the
// user already has changes nothing.
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { userStatusMachine, type UserStatusEvent } from '../../machines/userStatus';

function run(events: UserStatusEvent[]) {
  let [snapshot, actions] = initialTransition(userStatusMachine, {});
  const emitted: Array<{ type: string; version?: number; reason?: string }> = [];
  const collect = (acts: typeof actions) => {
    for (const a of acts) if ((a.type as string) === 'xstate.emit') emitted.push((a.params as { event: { type: string } }).event);
  };
  collect(actions);
  for (const e of events) {
    [snapshot, actions] = transition(userStatusMachine, snapshot, e);
    collect(actions);
  }
  return { snapshot: snapshot as AnyMachineSnapshot, emitted };
}

const login: UserStatusEvent = { type: 'DEVICE.LOGIN', deviceId: 'w1', platform: 'web', cap: 10 };
const hide: UserStatusEvent = { type: 'VISIBILITY.SET', visibility: 'nobody' };

describe('EXT-5 visibility in the user status machine', () => {
  it('EXT-5 records the version of each change of visibility, and only of those', () => {
    const { snapshot } = run([login, hide]);
    expect(snapshot.context).toMatchObject({ version: 2, visibility: 'nobody', visibilityVersion: 2 });
    const later = run([login, hide, { type: 'STATUS.SET', customStatus: 'busy' }, { type: 'VISIBILITY.SET', visibility: 'friends' }, { type: 'STATUS.SET', customStatus: '' }]);
    // versions: login 1, nobody 2, busy 3, friends 4, cleared 5
    expect(later.snapshot.context).toMatchObject({ version: 5, visibility: 'friends', visibilityVersion: 4 });
  });

  it('EXT-5 a registered user who never logged in can still hide: its visibility version follows', () => {
    const { snapshot, emitted } = run([hide]);
    expect(snapshot.value).toBe('registered');
    expect(snapshot.context).toMatchObject({ version: 1, visibilityVersion: 1 });
    expect(emitted).toEqual([expect.objectContaining({ type: 'status.changed', reason: 'visibility_changed', version: 1 })]);
  });

  it('EXT-5 CS-7 setting the visibility the user already has changes nothing', () => {
    const before = run([login, hide]);
    const again = run([login, hide, hide]);
    expect(again.snapshot.context).toEqual(before.snapshot.context);
    expect(again.emitted).toEqual(before.emitted);
    const everyone = run([login, { type: 'VISIBILITY.SET', visibility: 'everyone' }]);
    expect(everyone.snapshot.context).toMatchObject({ version: 1, visibilityVersion: 0 });
    expect(everyone.emitted).toHaveLength(1);
  });
});
