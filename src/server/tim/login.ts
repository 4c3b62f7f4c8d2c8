// The Web SDK's login, relogin (by session key, EXT-2 resume), logout and letting go of a device, mapped onto
// the engine port. Which user a socket holds is the session key's; whether a login is allowed is the engine's.
import type { Platform } from '../../../machines/spec';
import type { PreparedCall } from '../../cluster/service';
import type { DeviceHandle } from '../../engine/port';
import { ErrorCode, StatusError, invalidParameter } from '../../errors';
import { SDK_CODE, platformOf, toBase64, type WireHead } from '../../protocol/tim/wire';
import { closeKey, newState, resumePoint, type DeviceSocket, type GatewayContext, type Key } from './device';

/** A head field as text: a string, or a number the SDK may send; anything else (String() may throw on it) is 6017. */
const str = (v: unknown, field: string): string | undefined => {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return String(v);
  throw invalidParameter(`head.${field}`, `expected a string, got ${Array.isArray(v) ? 'an array' : typeof v}`);
};

function checkAppId(gw: GatewayContext, conn: DeviceSocket, head: WireHead): void {
  const want = gw.sdkAppId;
  for (const given of [conn.info.urlAppId, head.sdkappid]) {
    if (given === null || given === undefined || given === '') continue;
    if (Number(str(given, 'sdkappid')) !== want) {
      throw new StatusError(ErrorCode.USERSIG_APP_MISMATCH, `SDKAppID ${String(given)} is not this server's SDKAppID ${want}`);
    }
  }
}

function platform(gw: GatewayContext, conn: DeviceSocket, body: Record<string, unknown>): Platform {
  const p = platformOf(conn.info.urlPlatform, body.InstType);
  if (!p.known) gw.log.debug({ platform: conn.info.urlPlatform, instType: body.InstType }, 'tim gateway: unknown platform, taken as web');
  return p.platform;
}

/**
 * A port call that must be prepared first (cluster mode: facts of users on other nodes, src/cluster/service.ts).
 * Login and relogin are written as steps that yield these: run synchronously when the port needs no
 * preparing (`runSteps`), or awaiting each one (`runStepsAsync`), with one body of code for both.
 */
export interface Prep {
  call: PreparedCall;
  session: DeviceHandle;
  arg: unknown;
}
export type Steps<T> = Generator<Prep, T, void>;

export function runSteps<T>(g: Steps<T>): T {
  let r = g.next();
  while (!r.done) r = g.next();
  return r.value;
}

/** A failed prepare is thrown into the steps, so that they undo what they began (a session opened). */
export async function runStepsAsync<T>(g: Steps<T>, prepare: (call: PreparedCall, session: DeviceHandle, arg: unknown) => Promise<void>): Promise<T> {
  let r = g.next();
  while (!r.done) {
    try {
      await prepare(r.value.call, r.value.session, r.value.arg);
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next();
  }
  return r.value;
}

/** The user a LOGIN frame proves: its UserSig's, or its session key's (issued by any node: the key is shared). */
export function loginUser(gw: GatewayContext, conn: DeviceSocket, head: WireHead): string {
  checkAppId(gw, conn, head);
  if (head.identifier === undefined && head.usersig === undefined && head.a2 !== undefined) {
    const found = gw.keys.find(head.a2, head.tinyid);
    if (!found) throw new StatusError(SDK_CODE.SESSION_KEY_EXPIRED, 'the session key (A2Key/TinyId) is unknown or expired: log in again with a UserSig');
    return 'key' in found ? found.key.userID : found.claims.userID;
  }
  return gw.verifyUserSig(str(head.identifier, 'identifier'), str(head.usersig, 'usersig'));
}

export function login(gw: GatewayContext, conn: DeviceSocket, head: WireHead, body: Record<string, unknown>): unknown {
  return runSteps(loginSteps(gw, conn, head, body));
}

export function* loginSteps(gw: GatewayContext, conn: DeviceSocket, head: WireHead, body: Record<string, unknown>): Steps<unknown> {
  checkAppId(gw, conn, head);
  if (head.identifier === undefined && head.usersig === undefined && head.a2 !== undefined) return yield* relogin(gw, conn, head);
  const core = gw.core;
  const userID = gw.verifyUserSig(str(head.identifier, 'identifier'), str(head.usersig, 'usersig'));
  const current = conn.device;
  if (current?.data.session) {
    // The same socket logs in again: the engine says whether that is a repeat (fine) or another user (6017).
    yield { call: 'login', session: current.data.session, arg: userID };
    const r = core.login(current.data.session, userID);
    return loginReply(gw, current, r.status.customStatus);
  }
  const p = platform(gw, conn, body);
  const state = newState(conn);
  const session = core.openSession(p, (event, seq) => state.conn?.deliver(event, seq));
  let status;
  try {
    yield { call: 'login', session, arg: userID };
    status = core.login(session, userID).status;
  } catch (e) {
    core.closeSession(session);
    throw e;
  }
  state.session = session;
  const key = gw.keys.issue({ userID, deviceId: session.deviceId, platform: p }, state);
  conn.device = key;
  gw.log.info({ userID, deviceId: session.deviceId, platform: p }, 'tim gateway: login');
  return loginReply(gw, key, status.customStatus);
}

/** The SDK's reconnect: only the session key. Map it back to the user and device, and resume (EXT-2). */
function* relogin(gw: GatewayContext, conn: DeviceSocket, head: WireHead): Steps<unknown> {
  const core = gw.core;
  const found = gw.keys.find(head.a2, head.tinyid);
  const expired = () =>
    new StatusError(SDK_CODE.SESSION_KEY_EXPIRED, 'the session key (A2Key/TinyId) is unknown or expired: log in again with a UserSig');
  if (!found) throw expired();
  let key: Key;
  if ('key' in found) key = found.key;
  else {
    // Issued before a restart: good while the engine still holds that device (no logout or kick since).
    const held = core.queryStatus([found.claims.userID], { detail: true })[0]?.devices?.some((d) => d.deviceId === found.claims.deviceId);
    if (!held) throw expired();
    key = gw.keys.adopt(found, newState(null));
  }
  const state = key.data;
  const previous = state.conn;
  if (previous && previous !== conn) {
    // The SDK gave up on its old socket before the server noticed: the device moves here, no drop in between.
    previous.device = null;
    previous.link.replaced('replaced by a newer connection of the same device');
  }
  if (conn.device && conn.device !== key) release(gw, conn);
  state.conn = conn;
  conn.device = key;
  // A close the store had refused is no longer owed: the device is back before it was recorded.
  gw.links.retry.cancel(closeKey(key));
  if (state.session) {
    // Still attached (the old socket had not closed): what it wrote there may never have arrived.
    const point = { lastSeq: resumePoint(state, state.session.lastSeq) };
    yield { call: 'reconnect', session: state.session, arg: point };
    core.reconnect(state.session, point);
  } else {
    const s = core.openSession(key.platform, (event, seq) => state.conn?.deliver(event, seq), key.deviceId);
    state.session = s;
    try {
      yield { call: 'adopt', session: s, arg: key.userID };
      // The device comes back: restored and resumed, or logged in again if it had been dropped (DEV-1).
      core.adopt(s, key.userID, { lastSeq: state.lastSeq });
    } catch (e) {
      state.session = null;
      state.conn = null;
      conn.device = null;
      core.closeSession(s);
      throw e;
    }
  }
  gw.log.info({ userID: key.userID, deviceId: key.deviceId }, 'tim gateway: relogin');
  return loginReply(gw, key, core.statusOf(key.userID, key.userID).customStatus);
}

function loginReply(gw: GatewayContext, key: Key, customStatus: string): unknown {
  return {
    A2Key: key.a2,
    TinyId: key.tinyId,
    TimeStamp: Math.floor(gw.wallClock() / 1000),
    InstId: key.instId,
    HelloInterval: gw.helloIntervalSec,
    CustomStatus: toBase64(customStatus),
    PurchaseBits: gw.purchaseBits,
    // Not the vendor's: the engine's id of this device (tim.login resolves with it as data.deviceId).
    DeviceId: key.deviceId,
  };
}

export function logout(gw: GatewayContext, conn: DeviceSocket): unknown {
  const key = conn.device;
  if (!key) return {}; // already out (e.g. kicked: the SDK logs out after KICKED_OUT)
  const s = key.data.session;
  // The engine first: when the store refuses the logout, the device stays as it was (logged in, on this
  // socket) and the SDK hears the error, rather than a device the engine holds and no socket does.
  if (s?.loggedIn) gw.core.logout(s);
  conn.device = null;
  gw.keys.revoke(key);
  key.data.conn = null;
  key.data.session = null;
  if (!s) return {};
  gw.core.closeSession(s); // logged out: no command, nothing for the store to refuse
  gw.log.info({ userID: key.userID, deviceId: key.deviceId }, 'tim gateway: logout');
  return {};
}

/** Lets go of the socket's device without logging it out (its link is closed: DEV-2/3 apply). */
export function release(gw: GatewayContext, conn: DeviceSocket): void {
  const key = conn.device;
  conn.device = null;
  if (!key || key.data.conn !== conn) return;
  const s = key.data.session;
  key.data.conn = null;
  if (!s) return;
  // LINK.CLOSED for a logged-in device (it also marks what the device has heard). If the store refuses
  // it, the session stays the device's (a relogin resumes it) and the close is retried until it lands.
  const state = key.data;
  gw.links.retry.run(closeKey(key), 'closing a Web SDK device', () => {
    if (state.conn !== null || state.session !== s) return; // it came back first
    gw.core.closeSession(s);
    state.session = null;
    state.lastSeq = resumePoint(state, s.lastSeq);
  });
}
