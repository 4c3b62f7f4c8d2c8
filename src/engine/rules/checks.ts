// SPEC section 10: the order in which a call's checks run, so that a call broken in several ways always
// fails with the same code: 2024 not logged in, 6017 bad parameter, 2800 not connected, 3122 edition,
// 72001 switch, 2996 rate. One table; each call names which steps it has.
import { ErrorCode, StatusError, notLoggedIn } from '../../errors';
import type { Edition } from '../../../machines/spec';

export const CHECK_ORDER = ['login', 'params', 'connected', 'feature', 'rate'] as const;
export type CheckStep = (typeof CHECK_ORDER)[number];

/**
 * A call's checks, one method per step (made once per call kind, so a call allocates nothing for them):
 * `login` gives the caller's user, `params` the call's parsed parameters; the others throw or return.
 */
export interface CallChecks<A, P> {
  login(args: A): string;
  params(args: A, userID: string): P;
  connected(args: A): void;
  feature?(args: A, params: P, userID: string): void;
  rate?(args: A, params: P, userID: string): void;
}

/** Runs a call's checks in SPEC's order (CHECK_ORDER); the first to throw decides the call's error. */
export function runChecks<A, P>(c: CallChecks<A, P>, args: A): { userID: string; params: P } {
  const userID = c.login(args);
  const params = c.params(args, userID);
  c.connected(args);
  c.feature?.(args, params, userID);
  c.rate?.(args, params, userID);
  return { userID, params };
}

export type Gate = 'enabled' | 'editionLacks' | 'switchOff';

/** GATE-2/3: 3122 before 72001. */
export function featureError(gate: Gate, edition: Edition): StatusError | null {
  if (gate === 'editionLacks') return new StatusError(ErrorCode.EDITION_LACKS_FEATURE, `the ${edition} edition lacks user status: it needs Ultimate`);
  if (gate === 'switchOff') {
    return new StatusError(ErrorCode.SWITCH_OFF, 'the console switch "user status query and status change notification" (userStatus) is off');
  }
  return null;
}

/** 2024: a call needs a logged-in device. */
export function loginError(loggedIn: boolean): StatusError | null {
  return loggedIn ? null : notLoggedIn();
}

/** 2800: a call needs a live link; a device in the background, or whose network is gone, cannot reach us. */
export function connectionError(connected: boolean, linkLive: boolean): StatusError | null {
  return connected && linkLive ? null : new StatusError(ErrorCode.NOT_CONNECTED, 'this device is not connected: call reconnect() or foreground() first');
}
