// The Web SDK gateway's command table: each servcmd the SDK sends (shared/spec/TIM-WIRE.md) mapped onto one
// engine port call and its answer put in the SDK's shapes; boot commands get their empty results (boot.ts).
import type { PreparedCall } from '../../cluster/service';
import { withDeadline, type Stage } from '../cluster/deadline';
import type { DeviceHandle } from '../../engine/port';
import { StatusError, notLoggedIn } from '../../errors';
import { bootAnswer } from '../../protocol/tim/boot';
import { CMD, SDK_CODE, errorBody, wireFailure, wireStatus, type WireFrame, type WireHead } from '../../protocol/tim/wire';
import type { DeviceSocket, GatewayContext } from './device';
import { login, loginSteps, logout, runStepsAsync } from './login';

type Command = (gw: GatewayContext, conn: DeviceSocket, head: WireHead, body: Record<string, unknown>) => unknown;

/** The device a status command acts for; the head's session key, when given, must be this socket's. */
function session(conn: DeviceSocket, head: WireHead): DeviceHandle {
  const key = conn.device;
  const s = key?.data.session;
  if (!key || !s) throw notLoggedIn();
  if (head.a2 !== undefined && head.a2 !== key.a2) {
    throw new StatusError(SDK_CODE.SESSION_KEY_EXPIRED, 'the request carries another session key than this connection logged in with');
  }
  return s;
}

const heartbeat: Command = (gw, conn) => {
  const s = conn.device?.data.session;
  if (s?.loggedIn) gw.core.linkEvent(s, { type: 'LINK.HEARTBEAT' });
  return {};
};

/** The port's options of a status read or subscription command (the same for its prepare). */
function statusArg(servcmd: string, body: Record<string, unknown>): unknown {
  if (servcmd === CMD.UNSUBSCRIBE && (body.UnsubscribeAll === 1 || body.UnsubscribeAll === true)) return {};
  return { userIDList: body.To_Account };
}

/** The commands whose port call reads users of other nodes (cluster mode), with their PreparedCall. */
const PREPARED = new Map<string, PreparedCall>([
  [CMD.GET_USER_STATUS, 'getUserStatus'],
  [CMD.SUBSCRIBE, 'subscribe'],
  [CMD.UNSUBSCRIBE, 'unsubscribe'],
]);

// A Map, not an object: a servcmd is whatever the client sent ('constructor', '__proto__', ...).
const COMMANDS = new Map<string, Command>([
  [CMD.LOGIN, login],
  [CMD.LOGOUT, (gw, conn) => logout(gw, conn)],
  [
    CMD.PUSH_ACK,
    // EXT-2's resume point. Both SDKs send the ack without waiting for an answer (their request layer lists
    // it for `simplySend`: no pending request, no timeout), so it gets none: an answer would be a second
    // write per recipient of every change, and a frame the SDK parses only to drop.
    (_gw, conn, _head, body) => {
      const state = conn.device?.data;
      const given = body.SessionData;
      const seq = typeof given === 'string' || typeof given === 'number' ? Number(given) : NaN; // Number() throws on some objects
      if (state && Number.isSafeInteger(seq) && seq > state.ackedSeq && seq <= state.pushedSeq) state.ackedSeq = seq;
      return undefined;
    },
  ],
  [CMD.ALIVE, heartbeat],
  [CMD.HELLO, heartbeat],
  [
    CMD.SET_CUSTOM_STATUS,
    (gw, conn, head, body) => {
      gw.core.setSelfStatus(session(conn, head), { customStatus: body.CustomStatus });
      return {};
    },
  ],
  [
    CMD.GET_USER_STATUS,
    (gw, conn, head, body) => {
      const r = gw.core.getUserStatus(session(conn, head), statusArg(CMD.GET_USER_STATUS, body));
      return { UserStatusList: r.successUserList.map(wireStatus), ErrorList: r.failureUserList.map(wireFailure) };
    },
  ],
  [
    CMD.SUBSCRIBE,
    (gw, conn, head, body) => {
      const r = gw.core.subscribe(session(conn, head), statusArg(CMD.SUBSCRIBE, body));
      return { ErrorList: r.failureUserList.map(wireFailure) };
    },
  ],
  [
    CMD.UNSUBSCRIBE,
    (gw, conn, head, body) => {
      const r = gw.core.unsubscribe(session(conn, head), statusArg(CMD.UNSUBSCRIBE, body));
      return { ErrorList: r.failureUserList.map(wireFailure) };
    },
  ],
]);

/** Frames the SDK sends without waiting for an answer: none is sent them, not even a refusal or an error. */
const UNANSWERED = new Set<string>([CMD.PUSH_ACK]);

/** Whether a frame of this servcmd gets an answer (its reply, or the error that stopped it). */
export const answers = (servcmd: string): boolean => !UNANSWERED.has(servcmd);

/** The answer to one request frame; undefined: no reply. Throws what `failure` turns into an error body. */
export function dispatch(gw: GatewayContext, conn: DeviceSocket, frame: WireFrame): unknown {
  const { head, body } = frame;
  const command = COMMANDS.get(head.servcmd);
  if (command) return command(gw, conn, head, body);
  // Boot commands get their empty results (the SDK then stops paging); anything else a clear error.
  return bootAnswer(head.servcmd, body, { sdkAppId: gw.sdkAppId, purchaseBits: gw.purchaseBits });
}

/**
 * The asynchronous path (cluster mode): the call prepared first when it reads users of other nodes, and
 * its answer only once acknowledged (its command durable). The connection runs one frame at a time.
 */
export async function dispatchAsync(gw: GatewayContext, conn: DeviceSocket, frame: WireFrame): Promise<unknown> {
  const { head, body } = frame;
  const bound = <T>(stage: Stage, p: Promise<T>) => withDeadline(gw.core.clock, gw.callDeadlineMs, stage, p);
  const prepare = gw.prepare && ((call: PreparedCall, s: DeviceHandle, arg: unknown) => bound('prepare', gw.prepare!(call, s, arg)));
  let value: unknown;
  if (prepare && head.servcmd === CMD.LOGIN) value = await runStepsAsync(loginSteps(gw, conn, head, body), prepare);
  else {
    const call = prepare ? PREPARED.get(head.servcmd) : undefined;
    if (call) await prepare!(call, session(conn, head), statusArg(head.servcmd, body));
    value = dispatch(gw, conn, frame);
  }
  // A frame that answers nothing (a push ack) changed nothing durable: it waits for no acknowledgement.
  return gw.core.acknowledgesLater && value !== undefined ? bound('acknowledge', gw.core.acknowledge(value)) : value;
}

/** A refusal in the SDK's terms; anything but a StatusError is a bug, logged. */
export function failure(gw: GatewayContext, head: WireHead, e: unknown): unknown {
  if (e instanceof StatusError) {
    gw.log.debug({ servcmd: head.servcmd, code: e.code, message: e.message }, 'tim gateway: refused');
    return errorBody(e.code, e.message);
  }
  gw.log.error({ err: e, servcmd: head.servcmd }, 'tim gateway: request failed');
  return errorBody(SDK_CODE.INTERNAL, `internal error handling ${head.servcmd}`);
}
