// The small world the model-based tests run in: who exists, which devices there are, and limits shrunk so
// that random command sequences reach the caps, the rate windows and the delays within a few dozen steps.
import type { LimitsChange, Platform } from '../../src/index';

export const USERS = ['u0', 'u1', 'u2', 'u3', 'u4'] as const;
/** Never registered: every list may name it (GET-5, SUB-4), login refuses it (70107). */
export const GHOST = 'ghost';
/** In a generated list: the calling device's own user, whoever it is when the command runs. */
export const SELF = '@self';

/**
 * One client per entry (one client = one device), each with the user it logs in as most of the time; any
 * client may log in as any user. u0 has three web devices (the web cap is 2), u1 two iPhones (the native
 * cap is 1), u4 only native ones (so it can be OFFLINE with no web device around).
 */
export const CLIENTS = [
  { platform: 'web', home: 'u0' },
  { platform: 'web', home: 'u0' },
  { platform: 'web', home: 'u0' },
  { platform: 'web', home: 'u1' },
  { platform: 'web', home: 'u2' },
  { platform: 'web', home: 'u3' },
  { platform: 'ios', home: 'u1' },
  { platform: 'ios', home: 'u1' },
  { platform: 'android', home: 'u2' },
  { platform: 'mac', home: 'u3' },
  { platform: 'ios', home: 'u4' },
  { platform: 'android', home: 'u4' },
] as const satisfies ReadonlyArray<{ platform: Platform; home: (typeof USERS)[number] }>;
export const CLIENT_PLATFORMS: readonly Platform[] = CLIENTS.map((c) => c.platform);

export const LIMITS = {
  queryMaxUsers: 5,
  subscribeMaxUsers: 4,
  unsubscribeMaxUsers: 4,
  rateLimit: { requests: 2, windowMs: 1000 },
  customStatusMaxBytes: 8,
  subscriptionQuota: 3,
  subscriptionClearAfterLogoutMs: 5000,
  customStatusClearAfterLogoutMs: 3000,
  webHeartbeatTimeoutMs: 2000,
  nativeHeartbeatTimeoutMs: 3500,
  maxWebInstances: 2,
  maxDevicesPerNativePlatform: 1,
  flapGraceMs: 0,
} as const satisfies LimitsChange;

export type Limits = typeof LIMITS;
