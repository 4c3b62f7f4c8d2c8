// The server's side of the client protocol (docs/protocol.md): one WebSocket per connection, bound to one
// device session of the engine once the connection has proved a UserSig. A device outlives its sockets: a
// client that reconnects (after a drop, or after a server restart) binds its new socket to the same device
// and resumes (EXT-2). Heartbeats drive the device link through the clock (DEV-2/DEV-3): a socket quiet for
// a heartbeat interval makes the link silent, any frame brings it back, a close is a closed link.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { Clock } from '../clock';
import type { DeviceHandle as DeviceSession, EnginePort as EngineCore } from '../engine/port';
import * as check from '../engine/validate';
import { ErrorCode, StatusError, invalidParameter, notLoggedIn } from '../errors';
import type { ClientEvent } from '../events';
import type { Platform } from '../../machines/spec';
import { WireCode } from '../protocol/codes';
import type { OutboundBudget } from './link/budget';
import { closeReason, frameBoundsError } from './link/bounds';
import { LinkGroup, type SocketLink } from './link/lifecycle';
import type { Retrier } from './link/retry';
import {
  OPS,
  PROTOCOL_VERSION,
  deviceIdSchema,
  platformSchema,
  requestSchema,
  resumeSchema,
  type Op,
  type ServerFrame,
  type WireError,
} from '../protocol/messages';
import { DEFAULT_REQUEST_BUDGET, RequestBudget, checkBudgetLimits, type BudgetVerdict, type RequestBudgetLimits } from './requestBudget';

/**
 * The engine's id of a client's device: the client names its device, but only within its own user's
 * devices, so that no one can take over another user's device by naming it.
 */
export function engineDeviceId(userID: string, clientDeviceId: string): string {
  return `${clientDeviceId}.${createHash('sha256').update(userID).digest('base64url').slice(0, 16)}`;
}

export interface HubOptions {
  core: EngineCore;
  clock: Clock;
  logger: Logger;
  sdkAppId: number;
  /** Verifies a UserSig for `userID`; returns the userID or throws StatusError (70001/70003/70013/70014). */
  verifyUserSig(userID: string, userSig: unknown): string;
  /** How often the server checks that each socket spoke (the client pings at half this). */
  heartbeatMs: number;
  /** A frame over this many bytes is answered with FRAME_TOO_LARGE and not read. */
  maxFrameBytes: number;
  /** A device with no socket is forgotten after this long (it keeps its state in the engine). */
  retentionMs: number;
  /** A socket whose unsent data grows past this is a consumer too slow to keep: it is cut. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Frames a socket may send (src/server/requestBudget.ts): over it they are refused, and a client that keeps on is cut. */
  requestBudget?: RequestBudgetLimits;
  /** A socket that has not proved a UserSig (login, auth, resume) this long after it opened is closed (4008), whatever it sends. Default 3 heartbeats. */
  loginDeadlineMs?: number;
  /** Shared with the gateway: the global budget of unsent bytes, and the retrier of work owed to the engine. */
  budget?: OutboundBudget;
  retry?: Retrier;
}

/** One device of the engine as the hub keeps it: its session, and the socket bound to it, if any. */
interface Device {
  session: DeviceSession;
  conn: Conn | null;
  /** When it lost its last socket (clock time), for the retention sweep. */
  detachedAt: number | null;
}

interface Conn {
  ws: WebSocket;
  link: SocketLink;
  deviceId: string;
  platform: Platform;
  device: Device | null;
  /** The hub made its device link silent: a frame brings it back, a timeout closes it. */
  silenced: boolean;
  remote: string;
  /** Whatever it sends, the work it can cause is bounded. */
  budget: RequestBudget;
}

const OPEN = WebSocket.OPEN;

/** Close codes the hub uses (4000-4999 are the application's). */
export const CloseCode = Object.freeze({
  SHUTDOWN: 1001,
  BAD_REQUEST: 4400,
  DROPPED: 4001,
  HEARTBEAT_TIMEOUT: 4008,
  REPLACED: 4009,
  /** The client kept on sending over its request budget (WebSocket's "policy violation"). */
  OVER_BUDGET: 1008,
} as const);

export class ClientHub {
  private readonly devices = new Map<string, Device>();
  private readonly conns = new Set<Conn>();
  private readonly core: EngineCore;
  private readonly log: Logger;
  private readonly links: LinkGroup;
  private closing = false;
  private timer: unknown = null;
  private readonly budgetLimits: RequestBudgetLimits;

  constructor(private readonly o: HubOptions) {
    this.core = o.core;
    this.log = o.logger;
    this.budgetLimits = checkBudgetLimits(o.requestBudget ?? DEFAULT_REQUEST_BUDGET);
    this.links = new LinkGroup({
      clock: o.clock,
      log: o.logger,
      budget: o.budget,
      retry: o.retry,
      maxBufferedBytes: o.maxBufferedBytes,
      // Quiet for a whole interval (a live client pings twice in one).
      quietMs: o.heartbeatMs,
      loginDeadlineMs: o.loginDeadlineMs ?? 3 * o.heartbeatMs,
      codes: { loginDeadline: CloseCode.HEARTBEAT_TIMEOUT, replaced: CloseCode.REPLACED, shutdown: CloseCode.SHUTDOWN },
    });
    // Devices the store still lists as connected after a restart wait in the engine (adoptStoredDevices)
    // for their clients to resume, for their heartbeat timeout.
    this.armCheck();
  }

  // -------------------------------------------------------------------------------------------------------
  // Sockets.

  accept(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const refuse = (error: WireError) => {
      this.sendRaw(ws, { t: 'res', id: null, ok: false, error, seq: 0 });
      ws.close(CloseCode.BAD_REQUEST, closeReason(error.message)); // the message may quote the URL: any length, any script
    };
    if (this.closing) {
      ws.close(CloseCode.SHUTDOWN, 'server shutting down');
      return;
    }
    const v = url.searchParams.get('v');
    if (v !== String(PROTOCOL_VERSION)) {
      refuse({ code: WireCode.UNSUPPORTED_VERSION, message: `protocol version ${v ?? '(none)'} is not supported; this server speaks v=${PROTOCOL_VERSION}` });
      return;
    }
    const platformRaw = url.searchParams.get('platform') ?? 'web';
    const platform = platformSchema.safeParse(platformRaw);
    if (!platform.success) {
      refuse({ code: ErrorCode.INVALID_PARAMETER, message: `invalid parameter platform: '${platformRaw}' is not a platform`, param: 'platform' });
      return;
    }
    const deviceRaw = url.searchParams.get('deviceId');
    let deviceId: string;
    if (deviceRaw === null) deviceId = randomBytes(16).toString('hex');
    else if (deviceIdSchema.safeParse(deviceRaw).success) deviceId = deviceRaw;
    else {
      refuse({ code: ErrorCode.INVALID_PARAMETER, message: 'invalid parameter deviceId: expected 8 to 128 characters of A-Z a-z 0-9 _ -', param: 'deviceId' });
      return;
    }
    const budget = new RequestBudget(this.budgetLimits, () => this.o.clock.now());
    const conn = { ws, deviceId, platform: platform.data, device: null, silenced: false, remote, budget } as Omit<Conn, 'link'> as Conn;
    conn.link = this.links.open(ws, remote, {
      onFrame: (data, isBinary) => this.onFrame(conn, data, isBinary),
      onQuiet: () => this.onQuiet(conn),
      // Proved a UserSig on this socket (its device may since have logged out: it may log in again).
      isAuthenticated: () => conn.device !== null,
      onClose: (code) => this.onClose(conn, code),
    });
    this.conns.add(conn);
    this.send(conn, {
      t: 'hello',
      v: PROTOCOL_VERSION,
      deviceId,
      seq: this.core.currentSeq,
      heartbeatMs: this.o.heartbeatMs,
      serverTime: this.o.clock.now(),
      sdkAppId: this.o.sdkAppId,
    });
    this.log.debug({ remote, deviceId, platform: platform.data }, 'client connected');
  }

  private onFrame(conn: Conn, data: Buffer, isBinary: boolean): void {
    if (this.closing) return;
    // Whatever a client sends, the work it can cause is bounded (src/server/requestBudget.ts).
    const verdict = conn.budget.take();
    if (verdict.kind !== 'serve') return this.overBudget(conn, data, verdict);
    try {
      // Any frame is a heartbeat. A link the hub had made silent comes back, with what it missed (EXT-2).
      if (conn.silenced && conn.device) {
        const s = conn.device.session;
        if (s.linkState === 'closed') {
          // The heartbeat timeout already dropped this device: the client must log back in on a new socket.
          this.cut(conn, CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
          return;
        }
        try {
          if (s.linkState === 'silent' && s.userID) this.core.reconnect(s);
          conn.silenced = false;
        } catch (err) {
          // The store refused the comeback: still silent, the next frame tries again; this one is answered.
          this.log.warn({ err, deviceId: conn.deviceId }, 'could not bring a silent link back');
        }
      }
      this.handleFrame(conn, data, isBinary);
    } catch (err) {
      this.log.error({ err, deviceId: conn.deviceId }, 'frame handling failed');
    }
  }

  /** Quiet for a heartbeat interval: the device's link is silent. A throw (the store) is retried while quiet. */
  private onQuiet(conn: Conn): void {
    const s = conn.device?.session;
    if (!s || !s.loggedIn || !s.userID || s.linkState !== 'live') return;
    this.core.linkEvent(s, { type: 'LINK.SILENT' });
    conn.silenced = true;
  }

  private handleFrame(conn: Conn, data: Buffer, isBinary: boolean): void {
    if (data.length > this.o.maxFrameBytes) {
      this.replyError(conn, null, {
        code: WireCode.FRAME_TOO_LARGE,
        message: `frame of ${data.length} bytes is over the limit maxFrameBytes = ${this.o.maxFrameBytes}`,
        limit: this.o.maxFrameBytes,
        limitName: 'maxFrameBytes',
      });
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString('utf8'));
    } catch {
      this.replyError(conn, null, { code: WireCode.BAD_JSON, message: `the ${isBinary ? 'binary' : 'text'} frame is not JSON` });
      return;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      this.replyError(conn, null, { code: WireCode.BAD_JSON, message: 'a frame must be a JSON object {id, op, params}' });
      return;
    }
    const over = frameBoundsError(raw);
    if (over) {
      this.replyError(conn, null, { code: ErrorCode.INVALID_PARAMETER, message: `invalid frame: ${over.message}`, param: 'frame', limit: over.limit, limitName: over.limitName });
      return;
    }
    const maybeId = (raw as { id?: unknown }).id;
    const id = typeof maybeId === 'number' && Number.isSafeInteger(maybeId) && maybeId >= 0 ? maybeId : null;
    const parsed = requestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? issue.path.map(String).join('.') || 'frame' : 'frame';
      const what = issue?.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
      this.replyError(conn, id, { code: ErrorCode.INVALID_PARAMETER, message: `invalid frame: ${where}: ${what}`, param: where });
      return;
    }
    const { op, params } = parsed.data;
    if (!(OPS as readonly string[]).includes(op)) {
      this.replyError(conn, parsed.data.id, { code: WireCode.UNKNOWN_OP, message: `unknown op '${op.slice(0, 64)}'; known: ${OPS.join(', ')}`, param: 'op' });
      return;
    }
    let data2: unknown;
    try {
      data2 = this.handle(conn, op as Op, params);
    } catch (e) {
      if (e instanceof StatusError) {
        this.replyError(conn, parsed.data.id, toWire(e));
      } else {
        this.log.error({ err: e, op, deviceId: conn.deviceId }, 'op failed');
        this.replyError(conn, parsed.data.id, { code: WireCode.INTERNAL, message: 'internal error (logged on the server)' });
      }
      return;
    }
    this.send(conn, { t: 'res', id: parsed.data.id, ok: true, data: data2 ?? {}, seq: this.caughtUp(conn) });
    if (op === 'disconnect' || op === 'bye') conn.ws.close(1000, op === 'bye' ? 'bye' : 'link closed');
  }

  /** Refused frames get the error (their id when it can be read); one log line per episode; a cut if it keeps on. */
  private overBudget(conn: Conn, data: Buffer, verdict: Exclude<BudgetVerdict, { kind: 'serve' }>): void {
    if (verdict.kind === 'close') {
      if (!this.conns.has(conn)) return; // cut already; frames in flight are dropped
      this.log.warn({ deviceId: conn.deviceId, remote: conn.remote, reason: verdict.reason }, 'client kept on over its request budget: socket cut');
      this.cut(conn, CloseCode.OVER_BUDGET, 'request budget exceeded');
      return;
    }
    if (verdict.first) this.log.warn({ deviceId: conn.deviceId, remote: conn.remote, limits: this.budgetLimits }, 'client over its request budget: frames refused');
    let id: number | null = null;
    try {
      const maybe = data.length <= this.o.maxFrameBytes ? (JSON.parse(data.toString('utf8')) as { id?: unknown } | null)?.id : undefined;
      if (typeof maybe === 'number' && Number.isSafeInteger(maybe) && maybe >= 0) id = maybe;
    } catch {
      // not a frame: the error goes with id null
    }
    this.replyError(conn, id, toWire(verdict.error));
  }

  private onClose(conn: Conn, code: number): void {
    this.conns.delete(conn);
    const d = conn.device;
    if (!d || d.conn !== conn) return;
    this.unbind(conn);
    // A shutdown is not a drop: the devices keep their state and resume on the next start.
    if (this.closing) return;
    this.closeLink(d);
    this.log.debug({ deviceId: conn.deviceId, code }, 'client disconnected');
  }

  // -------------------------------------------------------------------------------------------------------
  // Operations. Every one acts for the device's own user only; a socket reaches a device only by proving
  // that user's UserSig (login, auth, resume).

  private handle(conn: Conn, op: Op, params: unknown): unknown {
    const core = this.core;
    switch (op) {
      case 'ping':
        return {};
      case 'login': {
        const { userID } = this.credentials(params);
        const id = engineDeviceId(userID, conn.deviceId);
        const device = this.devices.get(id);
        if (device && device.session.loggedIn && device.session.userID !== userID) {
          throw invalidParameter('userID', `this device is logged in as '${device.session.userID}': call logout() first`);
        }
        const created = !device;
        const d = device ?? this.create(id, conn.platform);
        this.bind(conn, d);
        try {
          const r = core.login(d.session, userID);
          return { repeatLogin: r.repeatLogin, userID, status: r.status };
        } catch (e) {
          if (created) this.forget(d);
          throw e;
        }
      }
      case 'auth': {
        const { userID } = this.credentials(params);
        const d = this.devices.get(engineDeviceId(userID, conn.deviceId));
        if (!d || d.session.userID !== userID) throw notLoggedIn();
        this.bind(conn, d);
        return { loggedIn: d.session.loggedIn, connected: d.session.connected };
      }
      case 'resume': {
        const { userID } = this.credentials(params);
        const held = resumeSchema.safeParse(params);
        if (!held.success) {
          const issue = held.error.issues[0];
          const where = issue?.path.map(String).join('.') || 'params';
          throw invalidParameter(where, issue?.message ?? 'invalid');
        }
        const id = engineDeviceId(userID, conn.deviceId);
        let d = this.devices.get(id);
        if (d && d.session.userID !== userID) {
          if (d.session.userID === null) throw new StatusError(ErrorCode.NOT_LOGGED_IN, 'not logged in: this device was logged out or kicked out; call login() again');
          throw invalidParameter('userID', `this device is logged in as '${d.session.userID}'`);
        }
        const created = !d;
        if (!d) d = this.create(id, conn.platform);
        // On a new socket the client's record is the truth of what it heard (pushes written to a dying socket
        // never arrived). On the same live socket the engine's is: what it sent is still on its way, ahead
        // of this reply, and the client's record does not have it yet.
        const sameLiveSocket = d.conn === conn && d.session.receiving;
        this.bind(conn, d);
        const since = sameLiveSocket ? undefined : { lastSeq: held.data.lastSeq ?? 0, versions: held.data.versions ?? {} };
        try {
          // A device this process does not know (e.g. after a restart) is adopted: the session takes its
          // place (a dropped web device logs in again, DEV-1), then resumes.
          if (created) core.adopt(d.session, userID, since);
          else core.reconnect(d.session, since);
        } catch (e) {
          if (created) this.forget(d);
          throw e;
        }
        return { userID, status: core.statusOf(userID, userID) };
      }
      case 'logout':
        core.logout(this.sessionOf(conn));
        return {};
      case 'setSelfStatus':
        return core.setSelfStatus(this.sessionOf(conn), params);
      case 'getUserStatus':
        return core.getUserStatus(this.sessionOf(conn), params);
      case 'subscribeUserStatus':
        return core.subscribe(this.sessionOf(conn), params);
      case 'unsubscribeUserStatus':
        return core.unsubscribe(this.sessionOf(conn), params);
      case 'setVisibility': {
        const s = this.sessionOf(conn);
        const p = check.options(params, 'setVisibility');
        return core.setVisibility(s, p.visibility);
      }
      case 'background': {
        const s = this.sessionOf(conn);
        if (s.loggedIn) core.background(s);
        return {};
      }
      case 'foreground': {
        const s = this.sessionOf(conn);
        if (s.loggedIn) core.foreground(s);
        return {};
      }
      case 'disconnect': {
        // DEV-1: the client closes its link on purpose; the engine hears it now, not when TCP gets round to it.
        const d = conn.device;
        if (d) {
          this.unbind(conn);
          this.closeLink(d);
        }
        return {};
      }
      case 'bye': {
        const d = conn.device;
        if (d) {
          this.unbind(conn);
          this.links.retry.run(closeKey(d), 'forgetting a device', () => {
            if (!d.conn) this.forget(d);
          });
        }
        return {};
      }
    }
  }

  /** 6017 for a bad userID comes before the UserSig's verdict (SPEC.md section 10 order). */
  private credentials(params: unknown): { userID: string } {
    const p = check.options(params, 'login');
    const userID = check.userID(p.userID);
    return { userID: this.o.verifyUserSig(userID, p.userSig) };
  }

  private sessionOf(conn: Conn): DeviceSession {
    if (!conn.device) throw notLoggedIn();
    return conn.device.session;
  }

  // -------------------------------------------------------------------------------------------------------
  // Devices.

  private create(deviceId: string, platform: Platform): Device {
    const d: Device = { session: null as unknown as DeviceSession, conn: null, detachedAt: this.o.clock.now() };
    d.session = this.core.openSession(platform, (event, seq) => this.push(d, event, seq), deviceId);
    this.devices.set(deviceId, d);
    return d;
  }

  /** The engine first: if the store refuses the close, the hub still has the device (to retry, or to resume). */
  private forget(d: Device): void {
    if (d.conn) this.unbind(d.conn);
    this.core.closeSession(d.session);
    if (this.devices.get(d.session.deviceId) === d) this.devices.delete(d.session.deviceId);
  }

  /**
   * The device lost its socket: its link is closed (DEV-1..3), a logged-out device is forgotten. When the
   * store refuses it (a full disk), it is retried on the clock until it lands, unless the device comes
   * back on a new socket first: presence converges, with no ghost.
   */
  private closeLink(d: Device): void {
    this.links.retry.run(closeKey(d), 'closing a device link', () => {
      if (d.conn) return;
      const s = d.session;
      if (s.userID && s.linkState !== null && s.linkState !== 'closed') this.core.linkEvent(s, { type: 'LINK.CLOSED' });
      if (s.userID === null) this.forget(d);
    });
  }

  private bind(conn: Conn, d: Device): void {
    if (conn.device && conn.device !== d) this.unbind(conn);
    const old = d.conn;
    if (old && old !== conn) {
      // The same device on a newer socket (the old one is a half-dead connection the client gave up on).
      old.device = null;
      old.link.replaced();
    }
    this.links.retry.cancel(closeKey(d)); // back before an owed close landed: it is no longer owed
    d.conn = conn;
    d.detachedAt = null;
    conn.device = d;
    conn.silenced = false;
  }

  private unbind(conn: Conn): void {
    const d = conn.device;
    conn.device = null;
    if (d && d.conn === conn) {
      d.conn = null;
      d.detachedAt = this.o.clock.now();
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // The retention sweep, on the clock (quiet detection and the login deadline are the links').

  private armCheck(): void {
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      if (this.closing) return;
      this.links.guard('hub check', () => this.check());
      this.armCheck();
    }, this.o.heartbeatMs);
  }

  private check(): void {
    for (const conn of [...this.conns]) {
      const s = conn.device?.session;
      // The heartbeat timeout dropped a device whose socket stayed silent: the socket is of no more use.
      if (s && conn.silenced && s.linkState === 'closed') this.cut(conn, CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
    }
    const now = this.o.clock.now();
    for (const d of [...this.devices.values()]) {
      if (d.conn || this.links.retry.has(closeKey(d))) continue;
      if (d.session.userID === null || (d.detachedAt !== null && now - d.detachedAt >= this.o.retentionMs)) {
        this.links.guard('forgetting a device', () => this.forget(d), { deviceId: d.session.deviceId });
      }
    }
  }

  /** The server ends a socket; its device hears a closed link at once (not when TCP gets round to it). */
  private cut(conn: Conn, code: number, reason: string): void {
    const d = conn.device;
    this.conns.delete(conn);
    if (d) {
      this.unbind(conn);
      this.closeLink(d);
    }
    conn.link.close(code, reason);
    this.log.debug({ deviceId: conn.deviceId, code, reason }, 'socket cut');
  }

  /** Test endpoint: the server drops every socket of a user, as a network fault would. */
  dropUser(userID: string): number {
    let n = 0;
    for (const conn of [...this.conns]) {
      const d = conn.device;
      if (!d || d.session.userID !== userID) continue;
      this.unbind(conn);
      this.closeLink(d);
      this.conns.delete(conn);
      conn.ws.terminate();
      n++;
    }
    return n;
  }

  // -------------------------------------------------------------------------------------------------------
  // Output.

  /** The last push encoded: the engine hands one event object to every recipient of a change, so the JSON is made once. */
  private lastPush: { event: ClientEvent | null; seq: number; text: string } = { event: null, seq: -1, text: '' };

  private push(d: Device, event: ClientEvent, seq: number): void {
    const conn = d.conn;
    if (!conn || this.closing) return;
    conn.link.send(() => {
      const last = this.lastPush;
      if (last.event === event && last.seq === seq) return last.text;
      const text = JSON.stringify({ t: 'push', seq, event } satisfies ServerFrame);
      this.lastPush = { event, seq, text };
      return text;
    }, false);
  }

  /**
   * The seq a reply carries: while the device receives, every delivery up to the journal's end has been
   * written to this socket before this reply, so the client has caught up to there; otherwise to what the
   * engine last handed it.
   */
  private caughtUp(conn: Conn): number {
    const s = conn.device?.session;
    if (!s) return 0;
    return s.receiving ? Math.max(s.lastSeq, this.core.currentSeq) : s.lastSeq;
  }

  private replyError(conn: Conn, id: number | null, error: WireError): void {
    this.send(conn, { t: 'res', id, ok: false, error, seq: this.caughtUp(conn) });
  }

  /** Through the link: within the send budgets (a slow consumer is cut, then resumes), never throwing. */
  private send(conn: Conn, frame: ServerFrame): void {
    conn.link.send(() => JSON.stringify(frame), false);
  }

  private sendRaw(ws: WebSocket, frame: ServerFrame): void {
    if (ws.readyState !== OPEN) return;
    ws.send(JSON.stringify(frame));
  }

  // -------------------------------------------------------------------------------------------------------

  stats(): { connections: number; devices: number; loggedIn: number } {
    let loggedIn = 0;
    for (const d of this.devices.values()) if (d.session.loggedIn) loggedIn++;
    return { connections: this.conns.size, devices: this.devices.size, loggedIn };
  }

  /** Stops the sweep and closes every socket without telling the engine (a shutdown is not a drop). */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    await this.links.shutdown(graceMs);
  }
}

/** The retrier's key of a device's owed close. */
const closeKey = (d: Device): string => `hub-close:${d.session.deviceId}`;

function toWire(e: StatusError): WireError {
  const out: WireError = { code: e.code, message: e.message };
  for (const k of ['param', 'limit', 'limitName', 'retryAfterMs', 'requests', 'windowMs'] as const) {
    const v = e[k];
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}
