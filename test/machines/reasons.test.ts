// EXT-1: the reason each user status event gives the change it causes (reasonOf, which the engine also uses
// for what it records). The delayed clearing of CS-5 arrives as XState's own after-event: any event that is
// not one of the machine's is that expiry.
import { describe, expect, it } from 'vitest';
import { reasonOf } from '../../machines/userStatus';

describe('EXT-1 reasonOf', () => {
  it('EXT-1 names the reason of each user status event', () => {
    expect(reasonOf({ type: 'DEVICE.LOGIN', deviceId: 'd', platform: 'web', cap: 1 })).toBe('login');
    expect(reasonOf({ type: 'DEVICE.RECONNECT', deviceId: 'd', platform: 'web', cap: 1 })).toBe('reconnect');
    expect(reasonOf({ type: 'DEVICE.LOGOUT', deviceId: 'd' })).toBe('logout');
    expect(reasonOf({ type: 'DEVICE.DISCONNECT', deviceId: 'd', reason: 'link_closed' })).toBe('link_closed');
    expect(reasonOf({ type: 'DEVICE.DISCONNECT', deviceId: 'd', reason: 'heartbeat_timeout' })).toBe('heartbeat_timeout');
    expect(reasonOf({ type: 'DEVICE.BACKGROUND', deviceId: 'd' })).toBe('background');
    expect(reasonOf({ type: 'DEVICE.FOREGROUND', deviceId: 'd' })).toBe('foreground');
    expect(reasonOf({ type: 'STATUS.SET', customStatus: 'x' })).toBe('custom_status_set');
    expect(reasonOf({ type: 'STATUS.SET', customStatus: '' })).toBe('custom_status_cleared');
    expect(reasonOf({ type: 'VISIBILITY.SET', visibility: 'nobody' })).toBe('visibility_changed');
  });

  it('CS-5 EXT-1 the delayed clearing (an after-event of XState) is custom_status_expired', () => {
    expect(reasonOf({ type: 'xstate.after.customStatusClearAfterLogout.userStatus.unlogined.clearPending' })).toBe('custom_status_expired');
  });
});
