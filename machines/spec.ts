// The numbers and names of SPEC.md that the machines and the engine share: status types (ST-3), platforms,
// reasons (EXT-1), and the defaults of every limit and delay (SPEC.md "Defaults", LIM-2). One source of truth.

/** ST-3: the normal status, with the Web SDK's names and values. */
export const TYPES = Object.freeze({
  USER_STATUS_UNKNOWN: 0,
  USER_STATUS_ONLINE: 1,
  USER_STATUS_OFFLINE: 2,
  USER_STATUS_UNLOGINED: 3,
} as const);
export type StatusType = (typeof TYPES)[keyof typeof TYPES];

export const PLATFORMS = ['web', 'android', 'ios', 'mac', 'windows', 'ipad'] as const;
export type Platform = (typeof PLATFORMS)[number];
export const isNativePlatform = (p: Platform): boolean => p !== 'web';

export const EDITIONS = ['trial', 'pro', 'ultimate'] as const;
export type Edition = (typeof EDITIONS)[number];

/** EXT-1: why a transition happened. Every change and every journal entry carries one. */
export const REASONS = [
  'registered',
  'login',
  'logout',
  'reconnect',
  'link_closed',
  'heartbeat_timeout',
  'kicked',
  'background',
  'foreground',
  'custom_status_set',
  'custom_status_cleared',
  'custom_status_expired',
  'subscribed',
  'unsubscribed',
  'subscription_evicted',
  'subscriptions_cleared',
  'visibility_changed',
] as const;
export type Reason = (typeof REASONS)[number];

/** Every limit and delay of SPEC.md "Defaults"; `createEngine({limits})` overrides any of them. */
export interface Limits {
  queryMaxUsers: number;
  subscribeMaxUsers: number;
  unsubscribeMaxUsers: number;
  rateLimit: { requests: number; windowMs: number };
  customStatusMaxBytes: number;
  subscriptionQuota: number;
  subscriptionClearAfterLogoutMs: number;
  customStatusClearAfterLogoutMs: number;
  webHeartbeatTimeoutMs: number;
  nativeHeartbeatTimeoutMs: number;
  maxWebInstances: number;
  maxDevicesPerNativePlatform: number;
  flapGraceMs: number;
}

/** A change of limits names only what it changes, down to one field of the rate limit (GATE-1). */
export type LimitsChange = Partial<Omit<Limits, 'rateLimit'>> & { rateLimit?: Partial<Limits['rateLimit']> };

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  queryMaxUsers: 500,
  subscribeMaxUsers: 100,
  unsubscribeMaxUsers: 100,
  rateLimit: Object.freeze({ requests: 20, windowMs: 5000 }),
  customStatusMaxBytes: 100,
  subscriptionQuota: 3000,
  subscriptionClearAfterLogoutMs: 300_000,
  customStatusClearAfterLogoutMs: 300_000,
  webHeartbeatTimeoutMs: 60_000,
  nativeHeartbeatTimeoutMs: 400_000,
  maxWebInstances: 10,
  maxDevicesPerNativePlatform: 3,
  flapGraceMs: 0,
});

/** Admin calls (register, friends) take at most this many userIDs at once; more is rejected, never cut. */
export const ADMIN_MAX_USERS_PER_CALL = 100_000;

/** The APIs that LIM-1 rate limits, each with its own window per user. */
export const RATE_LIMITED_APIS = ['getUserStatus', 'subscribeUserStatus', 'unsubscribeUserStatus'] as const;
/** EXT-6: login and logout are rate limited too, with the same window (`rateLimit`), but per device: a user's
 * devices come and go independently, and a device that has not logged in yet has no user to count against. */
export const DEVICE_RATE_LIMITED_APIS = ['login', 'logout'] as const;
export type RateLimitedApi = (typeof RATE_LIMITED_APIS)[number] | (typeof DEVICE_RATE_LIMITED_APIS)[number];

/** CS-6: UTF-8 length of a string without allocating (lone surrogates count as U+FFFD, 3 bytes, as TextEncoder does). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      // Past the end charCodeAt is NaN, so a high surrogate at the end counts as a lone one.
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
