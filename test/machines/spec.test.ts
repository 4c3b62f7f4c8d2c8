// machines/spec.ts, the numbers and names the machines and the engine share: the defaults of SPEC.md's table,
// the Web SDK's status values, the reasons of EXT-1 and the UTF-8 length of CS-6. Written against SPEC.md
// itself, so that a changed number here is a changed contract (and mutation testing sees each one).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ADMIN_MAX_USERS_PER_CALL,
  DEFAULT_LIMITS,
  EDITIONS,
  isNativePlatform,
  PLATFORMS,
  RATE_LIMITED_APIS,
  REASONS,
  TYPES,
  utf8Length,
} from '../../machines/spec';

describe('machines/spec.ts', () => {
  it('LIM-2 the defaults are the table "Defaults" of SPEC.md', () => {
    expect(DEFAULT_LIMITS).toEqual({
      queryMaxUsers: 500,
      subscribeMaxUsers: 100,
      unsubscribeMaxUsers: 100,
      rateLimit: { requests: 20, windowMs: 5000 },
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
    // Frozen: a caller's change of limits cannot alter the defaults of every later engine.
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_LIMITS.rateLimit)).toBe(true);
  });

  it('ST-3 the status types have the Web SDK names and values', () => {
    expect(TYPES).toEqual({ USER_STATUS_UNKNOWN: 0, USER_STATUS_ONLINE: 1, USER_STATUS_OFFLINE: 2, USER_STATUS_UNLOGINED: 3 });
    expect(Object.isFrozen(TYPES)).toBe(true);
  });

  it('EXT-1 every reason of SPEC.md is a reason, and the lists of platforms, editions and rate-limited APIs are whole', () => {
    for (const r of ['login', 'logout', 'link_closed', 'heartbeat_timeout', 'kicked', 'background', 'foreground', 'custom_status_set', 'custom_status_expired']) {
      expect(REASONS).toContain(r);
    }
    expect(new Set(REASONS).size).toBe(REASONS.length);
    expect(REASONS).toHaveLength(17);
    expect([...PLATFORMS]).toEqual(['web', 'android', 'ios', 'mac', 'windows', 'ipad']);
    expect([...EDITIONS]).toEqual(['trial', 'pro', 'ultimate']);
    expect([...RATE_LIMITED_APIS]).toEqual(['getUserStatus', 'subscribeUserStatus', 'unsubscribeUserStatus']);
    expect(ADMIN_MAX_USERS_PER_CALL).toBe(100_000);
  });

  it('DEV-2 DEV-3 web is the only platform without a native background', () => {
    expect(PLATFORMS.filter((p) => !isNativePlatform(p))).toEqual(['web']);
  });

  it('CS-6 utf8Length counts as TextEncoder does, at each boundary of the encoding', () => {
    const cases: Array<[string, number]> = [
      ['', 0],
      ['a', 1],
      ['\u007f', 1], // last 1-byte code point
      ['\u0080', 2], // first 2-byte
      ['\u07ff', 2], // last 2-byte
      ['\u0800', 3], // first 3-byte
      ['\ud7ff', 3], // just below the surrogates
      ['\ue000', 3], // just above them
      ['\uffff', 3],
      ['\ud83d\ude00', 4], // a surrogate pair: one 4-byte code point
      ['\ud800\udc00', 4], // the first pair
      ['\udbff\udfff', 4], // the last pair
      ['\ud83d', 3], // a lone high surrogate at the end: U+FFFD
      ['\ud83da', 4], // a lone high surrogate before an ASCII letter
      ['\ud83d\ud83d', 6], // two high surrogates: two U+FFFD
      ['\ud83d\ue000', 6], // a high surrogate before a code unit just above the low range
      ['\ud83d\udbff', 6], // ... and just below it
      ['\u0800\udc00', 6], // a 3-byte code unit before a low surrogate is no pair
      ['\ud7ff\udc00', 6], // ... nor the one just below the high range
      ['\ue000\udc00', 6], // ... nor one just above it
      ['\udc00\udc00', 6],
      ['\ude00', 3], // a lone low surrogate
      ['\ude00\ud83d', 6],
      ['a\ud83d\ude00b', 6],
    ];
    const enc = new TextEncoder();
    for (const [s, n] of cases) {
      expect(enc.encode(s).length, JSON.stringify(s)).toBe(n);
      expect(utf8Length(s), JSON.stringify(s)).toBe(n);
    }
  });

  it('CS-6 utf8Length agrees with TextEncoder on any string (surrogates alone or paired included)', () => {
    const enc = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', 'a'), fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))), maxLength: 12 }), (s) => {
        expect(utf8Length(s)).toBe(enc.encode(s).length);
      }),
      { seed: 20261201, numRuns: 500 },
    );
  });
});
