// Event generators for the machine tests: realistic devices (one platform each) and limits.
import fc from 'fast-check';
import type { Platform } from '../../machines/spec';
import type { UserStatusEvent } from '../../machines/userStatus';
import type { SubscriptionsEvent } from '../../machines/subscriptions';
import type { RateWindowEvent } from '../../machines/rateWindow';
import type { DeviceLinkEvent } from '../../machines/deviceLink';

export const DEVICES: Record<string, Platform> = { w1: 'web', w2: 'web', i1: 'ios', i2: 'ios', a1: 'android' };
const deviceId = fc.constantFrom(...Object.keys(DEVICES));

export type Step<E> = { kind: 'event'; event: E } | { kind: 'advance'; ms: number };
const advance = fc.integer({ min: 1, max: 400_000 }).map((ms) => ({ kind: 'advance' as const, ms }));
const ev = <E>(a: fc.Arbitrary<E>) => a.map((event) => ({ kind: 'event' as const, event }));

export const userStatusEvent: fc.Arbitrary<UserStatusEvent> = fc.oneof(
  fc.record({ deviceId, cap: fc.integer({ min: 1, max: 3 }) }).chain(({ deviceId, cap }) =>
    fc.constantFrom(
      { type: 'DEVICE.LOGIN' as const, deviceId, platform: DEVICES[deviceId] as Platform, cap },
      { type: 'DEVICE.RECONNECT' as const, deviceId, platform: DEVICES[deviceId] as Platform, cap },
    ),
  ),
  deviceId.map((deviceId) => ({ type: 'DEVICE.LOGOUT' as const, deviceId })),
  fc.record({ deviceId, reason: fc.constantFrom('link_closed' as const, 'heartbeat_timeout' as const) }).map(
    (r) => ({ type: 'DEVICE.DISCONNECT' as const, ...r }),
  ),
  deviceId.map((deviceId) => ({ type: 'DEVICE.BACKGROUND' as const, deviceId })),
  deviceId.map((deviceId) => ({ type: 'DEVICE.FOREGROUND' as const, deviceId })),
  fc.constantFrom('', 'busy', 'in a meeting').map((customStatus) => ({ type: 'STATUS.SET' as const, customStatus })),
  fc.constantFrom('everyone' as const, 'friends' as const, 'nobody' as const).map((visibility) => ({ type: 'VISIBILITY.SET' as const, visibility })),
);
export const userStatusSteps = fc.array(fc.oneof({ weight: 6, arbitrary: ev(userStatusEvent) }, { weight: 1, arbitrary: advance }), { maxLength: 40 });

const uid = fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'u6');
export const subscriptionsEvent: fc.Arbitrary<SubscriptionsEvent> = fc.oneof(
  fc.record({ userIDs: fc.uniqueArray(uid, { maxLength: 5 }), quota: fc.integer({ min: 1, max: 4 }) }).map((r) => ({ type: 'SUB.ADD' as const, ...r })),
  fc.uniqueArray(uid, { maxLength: 4 }).map((userIDs) => ({ type: 'SUB.REMOVE' as const, userIDs })),
  fc.constant({ type: 'SUB.REMOVE_ALL' as const }),
  fc.constant({ type: 'OWNER.LOGGED_OUT' as const }),
  fc.constant({ type: 'OWNER.LOGGED_IN' as const }),
);
export const subscriptionsSteps = fc.array(fc.oneof({ weight: 5, arbitrary: ev(subscriptionsEvent) }, { weight: 1, arbitrary: advance }), { maxLength: 40 });

/** Rate requests at increasing times. */
export const rateRequests: fc.Arbitrary<RateWindowEvent[]> = fc
  .array(fc.record({ gap: fc.integer({ min: 0, max: 700 }), requests: fc.integer({ min: 1, max: 4 }), windowMs: fc.constantFrom(1000, 2000) }), { maxLength: 60 })
  .map((xs) => {
    let now = 0;
    return xs.map(({ gap, requests, windowMs }) => ({ type: 'RATE.REQUEST' as const, now: (now += gap), requests, windowMs }));
  });

export const deviceLinkSteps = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: ev(fc.constantFrom<DeviceLinkEvent>({ type: 'LINK.SILENT' }, { type: 'LINK.HEARTBEAT' }, { type: 'LINK.CLOSED' }, { type: 'LINK.OPEN' })) },
    { weight: 1, arbitrary: advance },
  ),
  { maxLength: 30 },
);
