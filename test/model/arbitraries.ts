// The random command sequences of the model-based tests: 4-6 users' devices logging in and out, losing
// and regaining their links, calling the four APIs (with pushCurrent), changing their visibility, the admin
// changing friends, edition, switches and limits (EXT-7's grace too), and time passing beyond every delay.
import fc from 'fast-check';
import { CLIENTS, GHOST, LIMITS, SELF, USERS } from './config';
import type { ModelCommand } from './commands/base';
import { AdvanceCommand } from './commands/advance';
import { BackgroundCommand } from './commands/background';
import { ConfigureCommand } from './commands/configure';
import { DisconnectCommand } from './commands/disconnect';
import { ForegroundCommand } from './commands/foreground';
import { FriendsCommand } from './commands/friends';
import { GetUserStatusCommand } from './commands/getUserStatus';
import { LoginCommand } from './commands/login';
import { LogoutCommand } from './commands/logout';
import { ReconnectCommand } from './commands/reconnect';
import { SetSelfStatusCommand } from './commands/setSelfStatus';
import { SetVisibilityCommand } from './commands/setVisibility';
import { SubscribeCommand } from './commands/subscribe';
import { UnsubscribeCommand } from './commands/unsubscribe';
import { Target } from './commands/target';

const pick = fc.integer({ min: 0, max: CLIENTS.length - 1 });
/** Mostly a logged-in device; now and then any device, logged in or not. */
const device = fc.tuple(pick, fc.integer({ min: 0, max: 5 })).map(([p, k]) => new Target(p, k > 0));
/** Logins: usually the device's own user, sometimes another (DEV-4 kicks, 6017) or the ghost (70107). */
const login = fc
  .tuple(pick, fc.integer({ min: 0, max: 7 }), fc.constantFrom(...USERS))
  .map(([p, k, other]) => new LoginCommand(new Target(p, false), k < 6 ? CLIENTS[p]!.home : k === 6 ? other : GHOST));
const user = fc.constantFrom(...USERS);
/** Mostly registered users, sometimes the ghost (GET-5, SUB-4), or the caller itself (SELF, resolved at run time). */
const anyID = fc.oneof({ weight: 8, arbitrary: fc.constantFrom<string>(...USERS) }, { weight: 1, arbitrary: fc.constant(GHOST) }, { weight: 2, arbitrary: fc.constant(SELF) });
/** Short lists with repeats; now and then empty or over the per-call limits (6017); or just the caller (GET-2, CL-2). */
const list = fc.oneof(
  { weight: 5, arbitrary: fc.array(anyID, { minLength: 0, maxLength: LIMITS.subscribeMaxUsers + 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(1, 2).map((n) => Array<string>(n).fill(SELF)) },
);
/** Around the byte limit of 8: 'zzzzzzzzz' and '中文中' are 9 bytes. */
const customStatus = fc.constantFrom('', '', 'busy', 'away', 'x', '中文', 'zzzzzzzz', 'zzzzzzzzz', '中文中');
/** Small steps inside the rate window, steps across it, and long ones past the heartbeats and clearing delays. */
const ms = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 400 }) },
  { weight: 1, arbitrary: fc.integer({ min: LIMITS.rateLimit.windowMs - 50, max: LIMITS.rateLimit.windowMs + 50 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1500, max: 6000 }) },
);
/** Mostly the gate open (so that the calls get through), now and then a lower edition or a switch off. */
const edition = fc.constantFrom('ultimate' as const, 'ultimate' as const, 'ultimate' as const, 'pro' as const, 'trial' as const);
const userStatus = fc.constantFrom(true, true, true, false);
/** Limits changed at run time (GATE-1): caps, quota, byte limit, heartbeat timeout and EXT-7's grace. */
const limits = fc.oneof(
  fc.record({ flapGraceMs: fc.constantFrom(0, 800, 2500) }),
  fc.record({ maxWebInstances: fc.constantFrom(1, 2, 3) }),
  fc.record({ subscriptionQuota: fc.constantFrom(2, 3) }),
  fc.record({ customStatusMaxBytes: fc.constantFrom(4, 8) }),
  fc.record({ webHeartbeatTimeoutMs: fc.constantFrom(1000, 2000) }),
);
const change = fc.oneof(
  { weight: 2, arbitrary: limits.map((l) => ({ limits: l })) },
  fc.record({ edition }),
  fc.record({ switches: fc.record({ userStatus, friendStatusNotify: fc.boolean() }, { requiredKeys: [] }) }),
  fc.record({ edition, switches: fc.record({ userStatus, friendStatusNotify: fc.boolean() }) }),
);
/** Friend changes name the owner or the ghost now and then, never both (their order is not specified). */
const friends = fc
  .tuple(user, fc.uniqueArray(user, { minLength: 1, maxLength: 3 }), fc.constantFrom('plain', 'plain', 'plain', 'self', 'ghost'), fc.boolean())
  .map(([owner, ids, extra, add]) => {
    const others = ids.filter((id) => id !== owner);
    const friendIDs = extra === 'self' ? [...others, owner] : extra === 'ghost' ? [...others, GHOST] : others.length > 0 ? others : [owner === 'u0' ? 'u1' : 'u0'];
    return new FriendsCommand(owner, friendIDs, add);
  });

/** Devices logged in (as their own user) before the commands start, so that runs begin in a busy world. */
export const prelude = fc.subarray(CLIENTS.map((_, i) => i));

export const commands: Array<fc.Arbitrary<ModelCommand>> = [
  login,
  login,
  login,
  device.map((d) => new LogoutCommand(d)),
  fc.tuple(device, fc.constantFrom('link_closed' as const, 'network_lost' as const)).map(([d, how]) => new DisconnectCommand(d, how)),
  device.map((d) => new ReconnectCommand(d)),
  device.map((d) => new BackgroundCommand(d)),
  device.map((d) => new ForegroundCommand(d)),
  fc.tuple(device, customStatus).map(([d, s]) => new SetSelfStatusCommand(d, s)),
  fc.tuple(device, customStatus).map(([d, s]) => new SetSelfStatusCommand(d, s)),
  fc.tuple(device, list).map(([d, l]) => new GetUserStatusCommand(d, l)),
  fc.tuple(device, list).map(([d, l]) => new SubscribeCommand(d, l)),
  fc.tuple(device, list, fc.boolean()).map(([d, l, push]) => new SubscribeCommand(d, l, push)),
  fc.tuple(device, fc.constantFrom('everyone' as const, 'friends' as const, 'nobody' as const)).map(([d, v]) => new SetVisibilityCommand(d, v)),
  fc.tuple(device, fc.oneof(list, fc.constant(undefined), fc.constant(null))).map(([d, l]) => new UnsubscribeCommand(d, l)),
  friends,
  change.map((c) => new ConfigureCommand(c)),
  ms.map((n) => new AdvanceCommand(n)),
  ms.map((n) => new AdvanceCommand(n)),
];
