// The hub's op table: each client op (docs/protocol.md) mapped onto one or two engine port calls. Every op
// acts for the device's own user only; a socket reaches a device only by proving that user's UserSig
// (login, auth, resume). Rules (gates, limits, validation) are the engine's; this maps shapes.
import type { DeviceHandle, EnginePort } from '../../engine/port';
import * as check from '../../engine/validate';
import { ErrorCode, StatusError, invalidParameter, notLoggedIn } from '../../errors';
import { resumeSchema, type Op } from '../../protocol/messages';
import { engineDeviceId, type Conn, type DeviceRegistry } from './devices';

export interface OpContext {
  port: EnginePort;
  devices: DeviceRegistry;
  /** Verifies a UserSig for `userID`; returns the userID or throws StatusError. */
  verifyUserSig(userID: string, userSig: unknown): string;
}

type OpHandler = (cx: OpContext, conn: Conn, params: unknown) => unknown;

/** 6017 for a bad userID comes before the UserSig's verdict (SPEC.md section 10 order). */
function credentials(cx: OpContext, params: unknown): { userID: string } {
  const p = check.options(params, 'login');
  const userID = check.userID(p.userID);
  return { userID: cx.verifyUserSig(userID, p.userSig) };
}

function sessionOf(conn: Conn): DeviceHandle {
  if (!conn.device) throw notLoggedIn();
  return conn.device.session;
}

function login(cx: OpContext, conn: Conn, params: unknown): unknown {
  const { userID } = credentials(cx, params);
  const id = engineDeviceId(userID, conn.deviceId);
  const device = cx.devices.get(id);
  if (device && device.session.loggedIn && device.session.userID !== userID) {
    throw invalidParameter('userID', `this device is logged in as '${device.session.userID}': call logout() first`);
  }
  const created = !device;
  const d = device ?? cx.devices.create(id, conn.platform);
  cx.devices.bind(conn, d);
  try {
    const r = cx.port.login(d.session, userID);
    return { repeatLogin: r.repeatLogin, userID, status: r.status };
  } catch (e) {
    if (created) cx.devices.forget(d);
    throw e;
  }
}

function auth(cx: OpContext, conn: Conn, params: unknown): unknown {
  const { userID } = credentials(cx, params);
  const d = cx.devices.get(engineDeviceId(userID, conn.deviceId));
  if (!d || d.session.userID !== userID) throw notLoggedIn();
  cx.devices.bind(conn, d);
  return { loggedIn: d.session.loggedIn, connected: d.session.connected };
}

/** EXT-2: the device comes back on this socket and hears what it missed. */
function resume(cx: OpContext, conn: Conn, params: unknown): unknown {
  const { userID } = credentials(cx, params);
  const held = resumeSchema.safeParse(params);
  if (!held.success) {
    const issue = held.error.issues[0];
    const where = issue?.path.map(String).join('.') || 'params';
    throw invalidParameter(where, issue?.message ?? 'invalid');
  }
  const id = engineDeviceId(userID, conn.deviceId);
  let d = cx.devices.get(id);
  if (d && d.session.userID !== userID) {
    if (d.session.userID === null) throw new StatusError(ErrorCode.NOT_LOGGED_IN, 'not logged in: this device was logged out or kicked out; call login() again');
    throw invalidParameter('userID', `this device is logged in as '${d.session.userID}'`);
  }
  const created = !d;
  if (!d) d = cx.devices.create(id, conn.platform);
  // On a new socket the client's record is the truth of what it heard (pushes written to a dying socket
  // never arrived). On the same live socket the engine's is: what it sent is still on its way, ahead
  // of this reply, and the client's record does not have it yet.
  const sameLiveSocket = d.conn === conn && d.session.receiving;
  cx.devices.bind(conn, d);
  const since = sameLiveSocket ? undefined : { lastSeq: held.data.lastSeq ?? 0, versions: held.data.versions ?? {} };
  try {
    // A device this process does not know (e.g. after a restart) is adopted: the session takes its
    // place (a dropped web device logs in again, DEV-1), then resumes.
    if (created) cx.port.adopt(d.session, userID, since);
    else cx.port.reconnect(d.session, since);
  } catch (e) {
    if (created) cx.devices.forget(d);
    throw e;
  }
  return { userID, status: cx.port.statusOf(userID, userID) };
}

export const OP_TABLE: { readonly [K in Op]: OpHandler } = {
  ping: () => ({}),
  login,
  auth,
  resume,
  logout: (cx, conn) => {
    cx.port.logout(sessionOf(conn));
    return {};
  },
  setSelfStatus: (cx, conn, params) => cx.port.setSelfStatus(sessionOf(conn), params),
  getUserStatus: (cx, conn, params) => cx.port.getUserStatus(sessionOf(conn), params),
  subscribeUserStatus: (cx, conn, params) => cx.port.subscribe(sessionOf(conn), params),
  unsubscribeUserStatus: (cx, conn, params) => cx.port.unsubscribe(sessionOf(conn), params),
  setVisibility: (cx, conn, params) => {
    const s = sessionOf(conn);
    const p = check.options(params, 'setVisibility');
    return cx.port.setVisibility(s, p.visibility);
  },
  background: (cx, conn) => {
    const s = sessionOf(conn);
    if (s.loggedIn) cx.port.background(s);
    return {};
  },
  foreground: (cx, conn) => {
    const s = sessionOf(conn);
    if (s.loggedIn) cx.port.foreground(s);
    return {};
  },
  // DEV-1: the client closes its link on purpose; the engine hears it now, not when TCP gets round to it.
  // (The hub closes the socket after the reply.)
  disconnect: (cx, conn) => {
    cx.devices.detach(conn);
    return {};
  },
  bye: (cx, conn) => {
    const d = conn.device;
    if (d) {
      cx.devices.unbind(conn);
      cx.devices.forgetOwed(d);
    }
    return {};
  },
};
