// The hub's op table: each client op (docs/protocol.md) mapped onto one or two engine port calls. Every op
// acts for the device's own user only; a socket reaches a device only by proving that user's UserSig
// (login, auth, resume). Rules (gates, limits, validation) are the engine's; this maps shapes.
import type { PreparedCall } from '../../cluster/service';
import type { Stage } from '../cluster/deadline';
import type { DeviceHandle, EnginePort, ResumePoint } from '../../engine/port';
import * as check from '../../engine/validate';
import { ErrorCode, StatusError, invalidParameter, notLoggedIn } from '../../errors';
import { resumeSchema, type Op } from '../../protocol/messages';
import { engineDeviceId, type Conn, type Device, type DeviceRegistry } from './devices';

export interface OpContext {
  port: EnginePort;
  devices: DeviceRegistry;
  /** Verifies a UserSig for `userID`; returns the userID or throws StatusError. */
  verifyUserSig(userID: string, userSig: unknown): string;
  /** A ClusterPort's prepare (src/cluster/service.ts); absent: every call is synchronous. */
  prepare?: (call: PreparedCall, session: DeviceHandle, arg: unknown) => Promise<void>;
  /** Bounds a prepare or an acknowledgement (src/server/cluster/deadline.ts); absent: unbounded. */
  deadline?: <T>(stage: Stage, p: Promise<T>) => Promise<T>;
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

/** The device a login binds (made if new); refused when it is logged in as someone else. */
function loginDevice(cx: OpContext, conn: Conn, userID: string): { d: Device; created: boolean } {
  const id = engineDeviceId(userID, conn.deviceId);
  const device = cx.devices.get(id);
  if (device && device.session.loggedIn && device.session.userID !== userID) {
    throw invalidParameter('userID', `this device is logged in as '${device.session.userID}': call logout() first`);
  }
  const d = device ?? cx.devices.create(id, conn.platform);
  cx.devices.bind(conn, d);
  return { d, created: !device };
}

function loginCall(cx: OpContext, d: Device, userID: string): unknown {
  const r = cx.port.login(d.session, userID);
  return { repeatLogin: r.repeatLogin, userID, status: r.status };
}

function login(cx: OpContext, conn: Conn, params: unknown): unknown {
  const { userID } = credentials(cx, params);
  const { d, created } = loginDevice(cx, conn, userID);
  try {
    return loginCall(cx, d, userID);
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

/** EXT-2: the device a resume binds (made if this process does not know it), and what the client holds. */
function resumeDevice(cx: OpContext, conn: Conn, userID: string, params: unknown): { d: Device; created: boolean; since: ResumePoint | undefined } {
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
  return { d, created, since };
}

function resumeCall(cx: OpContext, d: Device, created: boolean, userID: string, since: ResumePoint | undefined): unknown {
  // A device this process does not know (e.g. after a restart) is adopted: the session takes its
  // place (a dropped web device logs in again, DEV-1), then resumes.
  if (created) cx.port.adopt(d.session, userID, since);
  else cx.port.reconnect(d.session, since);
  return { userID, status: cx.port.statusOf(userID, userID) };
}

function resume(cx: OpContext, conn: Conn, params: unknown): unknown {
  const { userID } = credentials(cx, params);
  const { d, created, since } = resumeDevice(cx, conn, userID, params);
  try {
    return resumeCall(cx, d, created, userID, since);
  } catch (e) {
    if (created) cx.devices.forget(d);
    throw e;
  }
}

/** The user a login, auth or resume frame proves (6017 / the UserSig's code otherwise); null for other ops. */
export function provedUser(cx: OpContext, op: Op, params: unknown): string | null {
  return op === 'login' || op === 'auth' || op === 'resume' ? credentials(cx, params).userID : null;
}

/**
 * The asynchronous call path (a ClusterPort, or a store that acknowledges later): `prepare` fetches the
 * facts of other nodes' users a call reads, before its synchronous call; the answer waits for the
 * acknowledgement (the call's command durable). The hub runs one frame of a connection at a time.
 */
export async function runOpAsync(cx: OpContext, conn: Conn, op: Op, params: unknown): Promise<unknown> {
  const bound = cx.deadline ?? (<T>(_stage: Stage, p: Promise<T>) => p);
  const prepare = cx.prepare && ((call: PreparedCall, s: DeviceHandle, arg: unknown) => bound('prepare', cx.prepare!(call, s, arg)));
  let value: unknown;
  if (prepare && op === 'login') {
    const { userID } = credentials(cx, params);
    const { d, created } = loginDevice(cx, conn, userID);
    try {
      await prepare('login', d.session, userID);
      value = loginCall(cx, d, userID);
    } catch (e) {
      if (created && !d.session.loggedIn) cx.devices.forget(d);
      throw e;
    }
  } else if (prepare && op === 'resume') {
    const { userID } = credentials(cx, params);
    const { d, created, since } = resumeDevice(cx, conn, userID, params);
    try {
      await (created ? prepare('adopt', d.session, userID) : prepare('reconnect', d.session, since));
      value = resumeCall(cx, d, created, userID, since);
    } catch (e) {
      if (created && !d.session.loggedIn) cx.devices.forget(d);
      throw e;
    }
  } else if (prepare && (op === 'getUserStatus' || op === 'subscribeUserStatus' || op === 'unsubscribeUserStatus')) {
    await prepare(PREPARED[op], sessionOf(conn), params);
    value = OP_TABLE[op](cx, conn, params);
  } else value = OP_TABLE[op](cx, conn, params);
  return cx.port.acknowledgesLater ? bound('acknowledge', cx.port.acknowledge(value)) : value;
}

const PREPARED = { getUserStatus: 'getUserStatus', subscribeUserStatus: 'subscribe', unsubscribeUserStatus: 'unsubscribe' } as const;

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
