// The Web SDK's door into the engine: speaks tim-js-sdk's WebSocket protocol (shared/spec/TIM-WIRE.md) on
// /binfo and /info and translates each command into one EngineCore call. A thin layer: every rule (gates,
// limits, validation, who hears what) lives in the engine; this file only maps shapes, codes and sockets.
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { AccessContext } from '../../machines/access';
import type { Platform } from '../../machines/spec';
import type { DeviceHandle as DeviceSession, EnginePort as EngineCore } from '../engine/port';
import { ErrorCode, StatusError, notLoggedIn } from '../errors';
import { EVENT, type ClientEvent } from '../events';
import { PURCHASE_BITS_TTL_SEC, bootAnswer } from '../protocol/tim/boot';
import { DEFAULT_SESSION_KEY_TTL_MS, SessionKeys, type SessionKey } from '../protocol/tim/sessionKeys';
import type { OutboundBudget } from './link/budget';
import { isEchoableSeq, nestingOver, MAX_NESTING_DEPTH } from './link/bounds';
import { LinkGroup, type SocketLink } from './link/lifecycle';
import type { Retrier } from './link/retry';
import {
  CMD,
  EVENT_USER_STATUS,
  KICK_TYPE_MULTIPLE_DEVICE,
  SDK_CODE,
  WireError,
  decodeFrame,
  encodeFrame,
  errorBody,
  platformOf,
  purchaseBits,
  toBase64,
  wireFailure,
  wireStatus,
  type WireFrame,
  type WireHead,
} from '../protocol/tim/wire';
import { DEFAULT_REQUEST_BUDGET, RequestBudget, checkBudgetLimits, type RequestBudgetLimits } from './requestBudget';

type LogFn = (obj: unknown, msg?: string) => void;
export interface GatewayLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
}

export interface TimGatewayOptions {
  core: EngineCore;
  /** Returns the verified userID, or throws StatusError with the code the SDK's login() rejects with. */
  verifyUserSig: (userID: string | undefined, userSig: string | undefined) => string;
  sdkAppId: number;
  logger?: GatewayLogger;
  /** The login reply's HelloInterval: the SDK sends wshello this often (seconds). Default 30. */
  helloIntervalSec?: number;
  /**
   * No uplink frame for this long and the link is reported silent (LINK.SILENT); the engine then drops a web
   * device after webHeartbeatTimeoutMs (DEV-2). The SDK sends wshello every HelloInterval and heartbeat.alive
   * after 10 s without downlink, so a live SDK is never quiet this long. Default 1.5 x HelloInterval.
   */
  silentAfterMs?: number;
  /** How long a session key (A2Key/TinyId) lets the SDK relogin without a UserSig. Default 12 h. */
  sessionKeyTtlMs?: number;
  /** Wall-clock ms for the login reply's TimeStamp: the SDK sets its own clock from it. Default Date.now. */
  wallClock?: () => number;
  /** Uplink frames larger than this close the socket (1009). Default 1 MiB. */
  maxFrameBytes?: number;
  /** A socket that has not logged in this long after it opened is closed (4003). Default 2 x HelloInterval. */
  loginDeadlineMs?: number;
  /** A socket that falls this far behind (unsent bytes) is cut; the SDK reconnects and resumes (EXT-2). Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Shared with the hub: the global budget of unsent bytes, and the retrier of work owed to the engine. */
  budget?: OutboundBudget;
  retry?: Retrier;
  /**
   * Signs the session keys. A server that passes the same secret after a restart lets SDKs relogin with the
   * keys they hold (for devices the engine still has logged in). Default: a random one per gateway.
   */
  sessionKeySecret?: string | Buffer;
  /**
   * Requests a socket may send (src/server/requestBudget.ts): over it they are answered 2996 unserved, and a
   * client that keeps on is closed (1008). Default DEFAULT_REQUEST_BUDGET.
   */
  requestBudget?: RequestBudgetLimits;
}

export interface TimGateway {
  handle(ws: WebSocket, req: IncomingMessage): void;
  /** Open SDK sockets, for /healthz. */
  readonly connections: number;
  close(): Promise<void>;
}

/** What the gateway keeps with a session key: the device's engine session and the socket it is on now. */
interface DeviceState {
  session: DeviceSession | null;
  conn: Connection | null;
  /** EXT-2 resume point, kept while no socket holds the device. */
  lastSeq: number;
  /** The seq of the last status push written to the device's socket, and the last one the SDK acknowledged. */
  pushedSeq: number;
  ackedSeq: number;
}

const newState = (conn: Connection | null): DeviceState => ({ session: null, conn, lastSeq: 0, pushedSeq: 0, ackedSeq: 0 });

/**
 * EXT-2 over a socket: what was written is not what arrived. The SDK acknowledges each status push (NeedAck),
 * so the device has heard everything up to its last acknowledged push; if every push was acknowledged, up to
 * what the engine says.
 */
const resumePoint = (state: DeviceState, engineSeq: number): number => (state.ackedSeq >= state.pushedSeq ? engineSeq : state.ackedSeq);

type Key = SessionKey<DeviceState>;

const silentLogger: GatewayLogger = { info() {}, warn() {}, error() {}, debug() {} };
const WS_CLOSE_TOO_BIG = 1009;
const WS_CLOSE_REPLACED = 4001;
const WS_CLOSE_SHUTDOWN = 1001;
const WS_CLOSE_NO_LOGIN = 4003;
const WS_CLOSE_OVER_BUDGET = 1008;

export function createTimGateway(opts: TimGatewayOptions): TimGateway {
  return new Gateway(opts);
}

class Gateway implements TimGateway {
  readonly core: EngineCore;
  readonly log: GatewayLogger;
  readonly keys: SessionKeys<DeviceState>;
  readonly helloIntervalSec: number;
  readonly silentAfterMs: number;
  readonly maxFrameBytes: number;
  readonly wallClock: () => number;
  readonly requestBudget: RequestBudgetLimits;
  readonly conns = new Set<Connection>();
  readonly links: LinkGroup;

  get connections(): number {
    return this.conns.size;
  }
  private bits: string;
  closed = false;
  private readonly stopListening: () => void;

  constructor(readonly opts: TimGatewayOptions) {
    this.core = opts.core;
    this.log = opts.logger ?? silentLogger;
    this.helloIntervalSec = opts.helloIntervalSec ?? 30;
    this.silentAfterMs = opts.silentAfterMs ?? this.helloIntervalSec * 1500;
    this.maxFrameBytes = opts.maxFrameBytes ?? 1 << 20;
    this.links = new LinkGroup({
      clock: this.core.clock,
      log: this.log,
      budget: opts.budget,
      retry: opts.retry,
      maxBufferedBytes: opts.maxBufferedBytes,
      quietMs: this.silentAfterMs,
      loginDeadlineMs: opts.loginDeadlineMs ?? this.helloIntervalSec * 2000,
      codes: { loginDeadline: WS_CLOSE_NO_LOGIN, replaced: WS_CLOSE_REPLACED, shutdown: WS_CLOSE_SHUTDOWN },
    });
    this.wallClock = opts.wallClock ?? Date.now;
    this.requestBudget = checkBudgetLimits(opts.requestBudget ?? DEFAULT_REQUEST_BUDGET);
    this.keys = new SessionKeys(() => this.core.clock.now(), opts.sessionKeyTtlMs ?? DEFAULT_SESSION_KEY_TTL_MS, opts.sessionKeySecret);
    this.bits = purchaseBits(this.core.settings().edition);
    this.stopListening = this.core.onSettingsChange((s) => this.onSettings(s));
  }

  handle(ws: WebSocket, req: IncomingMessage): void {
    if (this.closed) {
      ws.close(WS_CLOSE_SHUTDOWN, 'server shutting down');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    const binary = url.pathname !== '/info';
    const conn = new Connection(this, ws, {
      binary,
      compress: binary && url.searchParams.get('compress') === 'gzip',
      urlPlatform: url.searchParams.get('platform'),
      urlAppId: url.searchParams.get('sdkappid'),
      remote: req.socket?.remoteAddress,
    });
    this.conns.add(conn);
  }

  get purchaseBits(): string {
    return this.bits;
  }

  /** GATE-1: a new edition reaches logged-in SDKs at once, so their own gate (3122) follows without a restart. */
  private onSettings(settings: AccessContext): void {
    const bits = purchaseBits(settings.edition);
    if (bits === this.bits) return;
    this.bits = bits;
    for (const c of this.conns) {
      if (!c.device) continue;
      try {
        c.push(CMD.PUSH_PURCHASE_BITS, { int32_error_code: 0, str_purchase_bits: bits, uint32_expired_time: PURCHASE_BITS_TTL_SEC });
      } catch (e) {
        this.log.error({ err: e }, 'tim gateway: pushing purchase bits failed');
      }
    }
  }

  forget(conn: Connection): void {
    this.conns.delete(conn);
  }

  /**
   * A shutdown, not a drop: the sockets close but the engine hears nothing, so every device stays as it was
   * and its SDK resumes after a restart (with the same sessionKeySecret) as after any dropped socket.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopListening();
    await this.links.shutdown();
    this.keys.clear();
  }
}

interface ConnInfo {
  binary: boolean;
  compress: boolean;
  urlPlatform: string | null;
  urlAppId: string | null;
  remote: string | undefined;
}

/** One SDK socket. It holds at most one device (one DeviceSession) at a time. */
class Connection {
  device: Key | null = null;
  readonly link: SocketLink;
  private silent = false;
  /** While a request is being handled, deliveries wait so that the reply goes first. */
  private held: Array<{ servcmd: string; body: unknown }> | null = null;
  private pushSeq = 0;
  /** Whatever the client sends, the work it can cause is bounded. */
  private readonly budget: RequestBudget;

  constructor(
    private readonly gw: Gateway,
    readonly ws: WebSocket,
    private readonly info: ConnInfo,
  ) {
    this.budget = new RequestBudget(gw.requestBudget, () => gw.core.clock.now());
    // The link's login deadline closes a socket that holds no device (never logged in, or logged out)
    // whatever it sends; its quiet timer makes the device's link silent (DEV-2).
    this.link = gw.links.open(ws, info.remote ?? '?', {
      onFrame: (data, isBinary) => this.onMessage(data, isBinary),
      onQuiet: () => this.onQuiet(),
      isAuthenticated: () => this.device !== null,
      onClose: () => this.onClose(),
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // Uplink.

  private onMessage(data: Buffer, isBinary: boolean): void {
    const verdict = this.budget.take();
    if (verdict.kind === 'close') {
      if (this.link.closing) return; // closed already; frames in flight are dropped
      this.gw.log.warn({ remote: this.info.remote, userID: this.device?.userID, reason: verdict.reason }, 'tim gateway: client kept on over its request budget, closing');
      this.link.close(WS_CLOSE_OVER_BUDGET, 'request budget exceeded');
      return;
    }
    if (data.length > this.gw.maxFrameBytes) {
      this.gw.log.warn({ bytes: data.length, limit: this.gw.maxFrameBytes, remote: this.info.remote }, 'tim gateway: frame too large, closing');
      this.link.close(WS_CLOSE_TOO_BIG, `frame over ${this.gw.maxFrameBytes} bytes`);
      return;
    }
    if (verdict.kind === 'refuse') return this.refuse(data, isBinary, verdict);
    let frame: WireFrame;
    try {
      frame = decodeFrame(isBinary ? data : data.toString('utf8'));
    } catch (e) {
      // Nothing to answer: without a servcmd and seq the SDK could not match a reply.
      this.gw.log.warn({ err: e instanceof WireError ? e.message : e, remote: this.info.remote }, 'tim gateway: bad frame dropped');
      return;
    }
    // The reply echoes head.seq, and handlers read head and body: a frame nested past the limit, or whose
    // seq is not a number or a short string, is dropped before anything reads it (nothing could answer it).
    if (nestingOver(frame, MAX_NESTING_DEPTH) !== null || !(frame.head.seq === undefined || isEchoableSeq(frame.head.seq)) || frame.head.servcmd.length > 128) {
      this.gw.log.warn({ remote: this.info.remote, limitName: 'maxNestingDepth', limit: MAX_NESTING_DEPTH }, 'tim gateway: frame out of bounds dropped (nesting, head.seq or head.servcmd)');
      return;
    }
    this.held = [];
    this.heard();
    let body: unknown;
    try {
      body = this.dispatch(frame);
    } catch (e) {
      body = this.failure(frame.head, e);
    }
    const held = this.held;
    this.held = null;
    if (body !== undefined) this.send({ head: { servcmd: frame.head.servcmd, seq: frame.head.seq }, body });
    for (const p of held) this.push(p.servcmd, p.body);
  }

  /** Over the budget: answered unserved (the SDK rejects that call with 2996), logged once per episode. */
  private refuse(data: Buffer, isBinary: boolean, verdict: { error: StatusError; first: boolean }): void {
    if (verdict.first) this.gw.log.warn({ remote: this.info.remote, userID: this.device?.userID, limits: this.gw.requestBudget }, 'tim gateway: client over its request budget, refusing');
    let head: WireHead;
    try {
      const frame = decodeFrame(isBinary ? data : data.toString('utf8'));
      if (nestingOver(frame, MAX_NESTING_DEPTH) !== null) return; // dropped, as any over-deep frame is
      head = frame.head;
    } catch {
      return; // nothing to answer, and no line per frame: the episode's line above says it
    }
    if (typeof head.servcmd !== 'string' || !isEchoableSeq(head.seq)) return;
    this.send({ head: { servcmd: head.servcmd, seq: head.seq }, body: errorBody(verdict.error.code, verdict.error.message) });
  }

  private failure(head: WireHead, e: unknown): unknown {
    if (e instanceof StatusError) {
      this.gw.log.debug({ servcmd: head.servcmd, code: e.code, message: e.message }, 'tim gateway: refused');
      return errorBody(e.code, e.message);
    }
    this.gw.log.error({ err: e, servcmd: head.servcmd }, 'tim gateway: request failed');
    return errorBody(SDK_CODE.INTERNAL, `internal error handling ${head.servcmd}`);
  }

  /** Any uplink frame shows the link is alive (DEV-2). A device the engine dropped meanwhile comes back. */
  private heard(): void {
    const core = this.gw.core;
    const s = this.device?.data.session;
    if (s?.userID && (this.silent || !s.loggedIn || !s.connected)) {
      // Back from a silence, or the engine gave up on it (heartbeat timeout) while the SDK was only slow:
      // restore it as its relogin would, with what it missed (EXT-2).
      try {
        core.reconnect(s);
      } catch (e) {
        this.gw.log.warn({ err: e }, 'tim gateway: could not restore a quiet device');
        return; // still silent: the next frame tries again
      }
    }
    this.silent = false;
  }

  /** The socket went quiet: the device's link is silent. A throw (the store) is retried by the link while quiet. */
  private onQuiet(): void {
    const s = this.device?.data.session;
    if (!s) return;
    this.gw.core.linkEvent(s, { type: 'LINK.SILENT' });
    this.silent = true;
  }

  private dispatch(frame: WireFrame): unknown {
    const { head, body } = frame;
    const core = this.gw.core;
    switch (head.servcmd) {
      case CMD.LOGIN:
        return this.login(head, body);
      case CMD.LOGOUT:
        return this.logout();
      case CMD.PUSH_ACK: {
        const state = this.device?.data;
        const seq = Number(body.SessionData);
        if (state && Number.isSafeInteger(seq) && seq > state.ackedSeq && seq <= state.pushedSeq) state.ackedSeq = seq;
        return {};
      }
      case CMD.ALIVE:
      case CMD.HELLO: {
        const s = this.device?.data.session;
        if (s?.loggedIn) core.linkEvent(s, { type: 'LINK.HEARTBEAT' });
        return {};
      }
      case CMD.SET_CUSTOM_STATUS:
        core.setSelfStatus(this.session(head), { customStatus: body.CustomStatus });
        return {};
      case CMD.GET_USER_STATUS: {
        const r = core.getUserStatus(this.session(head), { userIDList: body.To_Account });
        return { UserStatusList: r.successUserList.map(wireStatus), ErrorList: r.failureUserList.map(wireFailure) };
      }
      case CMD.SUBSCRIBE: {
        const r = core.subscribe(this.session(head), { userIDList: body.To_Account });
        return { ErrorList: r.failureUserList.map(wireFailure) };
      }
      case CMD.UNSUBSCRIBE: {
        const all = body.UnsubscribeAll === 1 || body.UnsubscribeAll === true;
        const r = core.unsubscribe(this.session(head), all ? {} : { userIDList: body.To_Account });
        return { ErrorList: r.failureUserList.map(wireFailure) };
      }
      default:
        // Boot commands get their empty results (the SDK then stops paging); anything else a clear error.
        return bootAnswer(head.servcmd, body, { sdkAppId: this.gw.opts.sdkAppId, purchaseBits: this.gw.purchaseBits });
    }
  }

  /** The device a status command acts for; the head's session key, when given, must be this socket's. */
  private session(head: WireHead): DeviceSession {
    const key = this.device;
    const s = key?.data.session;
    if (!key || !s) throw notLoggedIn();
    if (head.a2 !== undefined && head.a2 !== key.a2) {
      throw new StatusError(SDK_CODE.SESSION_KEY_EXPIRED, 'the request carries another session key than this connection logged in with');
    }
    return s;
  }

  private checkAppId(head: WireHead): void {
    const want = this.gw.opts.sdkAppId;
    for (const given of [this.info.urlAppId, head.sdkappid]) {
      if (given === null || given === undefined || given === '') continue;
      if (Number(given) !== want) {
        throw new StatusError(ErrorCode.USERSIG_APP_MISMATCH, `SDKAppID ${String(given)} is not this server's SDKAppID ${want}`);
      }
    }
  }

  private platform(body: Record<string, unknown>): Platform {
    const p = platformOf(this.info.urlPlatform, body.InstType);
    if (!p.known) this.gw.log.debug({ platform: this.info.urlPlatform, instType: body.InstType }, 'tim gateway: unknown platform, taken as web');
    return p.platform;
  }

  private login(head: WireHead, body: Record<string, unknown>): unknown {
    this.checkAppId(head);
    if (head.identifier === undefined && head.usersig === undefined && head.a2 !== undefined) return this.relogin(head);
    const core = this.gw.core;
    const userID = this.gw.opts.verifyUserSig(str(head.identifier), str(head.usersig));
    const current = this.device;
    if (current?.data.session) {
      // The same socket logs in again: the engine says whether that is a repeat (fine) or another user (6017).
      const r = core.login(current.data.session, userID);
      return this.loginReply(current, r.status.customStatus);
    }
    const platform = this.platform(body);
    const state = newState(this);
    const session = core.openSession(platform, (event, seq) => state.conn?.deliver(event, seq));
    let status;
    try {
      status = core.login(session, userID).status;
    } catch (e) {
      core.closeSession(session);
      throw e;
    }
    state.session = session;
    const key = this.gw.keys.issue({ userID, deviceId: session.deviceId, platform }, state);
    this.device = key;
    this.gw.log.info({ userID, deviceId: session.deviceId, platform }, 'tim gateway: login');
    return this.loginReply(key, status.customStatus);
  }

  /** The SDK's reconnect: only the session key. Map it back to the user and device, and resume (EXT-2). */
  private relogin(head: WireHead): unknown {
    const core = this.gw.core;
    const found = this.gw.keys.find(head.a2, head.tinyid);
    const expired = () =>
      new StatusError(SDK_CODE.SESSION_KEY_EXPIRED, 'the session key (A2Key/TinyId) is unknown or expired: log in again with a UserSig');
    if (!found) throw expired();
    let key: Key;
    if ('key' in found) key = found.key;
    else {
      // Issued before a restart: good while the engine still holds that device (no logout or kick since).
      const held = core.queryStatus([found.claims.userID], { detail: true })[0]?.devices?.some((d) => d.deviceId === found.claims.deviceId);
      if (!held) throw expired();
      key = this.gw.keys.adopt(found, newState(null));
    }
    const state = key.data;
    const previous = state.conn;
    if (previous && previous !== this) {
      // The SDK gave up on its old socket before the server noticed: the device moves here, no drop in between.
      previous.device = null;
      previous.link.replaced('replaced by a newer connection of the same device');
    }
    if (this.device && this.device !== key) this.release();
    state.conn = this;
    this.device = key;
    // A close the store had refused is no longer owed: the device is back before it was recorded.
    this.gw.links.retry.cancel(closeKey(key));
    if (state.session) {
      // Still attached (the old socket had not closed): what it wrote there may never have arrived.
      core.reconnect(state.session, { lastSeq: resumePoint(state, state.session.lastSeq) });
    } else {
      const s = core.openSession(key.platform, (event, seq) => state.conn?.deliver(event, seq), key.deviceId);
      state.session = s;
      try {
        // The device comes back: restored and resumed, or logged in again if it had been dropped (DEV-1).
        core.adopt(s, key.userID, { lastSeq: state.lastSeq });
      } catch (e) {
        state.session = null;
        state.conn = null;
        this.device = null;
        core.closeSession(s);
        throw e;
      }
    }
    this.gw.log.info({ userID: key.userID, deviceId: key.deviceId }, 'tim gateway: relogin');
    return this.loginReply(key, core.statusOf(key.userID, key.userID).customStatus);
  }

  private loginReply(key: Key, customStatus: string): unknown {
    return {
      A2Key: key.a2,
      TinyId: key.tinyId,
      TimeStamp: Math.floor(this.gw.wallClock() / 1000),
      InstId: key.instId,
      HelloInterval: this.gw.helloIntervalSec,
      CustomStatus: toBase64(customStatus),
      PurchaseBits: this.gw.purchaseBits,
      // Not the vendor's: the engine's id of this device (tim.login resolves with it as data.deviceId).
      DeviceId: key.deviceId,
    };
  }

  private logout(): unknown {
    const key = this.device;
    if (!key) return {}; // already out (e.g. kicked: the SDK logs out after KICKED_OUT)
    const s = key.data.session;
    // The engine first: when the store refuses the logout, the device stays as it was (logged in, on this
    // socket) and the SDK hears the error, rather than a device the engine holds and no socket does.
    if (s?.loggedIn) this.gw.core.logout(s);
    this.device = null;
    this.gw.keys.revoke(key);
    key.data.conn = null;
    key.data.session = null;
    if (!s) return {};
    this.gw.core.closeSession(s); // logged out: no command, nothing for the store to refuse
    this.gw.log.info({ userID: key.userID, deviceId: key.deviceId }, 'tim gateway: logout');
    return {};
  }

  /** Lets go of this socket's device without logging it out (its link is closed: DEV-2/3 apply). */
  private release(): void {
    const key = this.device;
    this.device = null;
    if (!key || key.data.conn !== this) return;
    const s = key.data.session;
    key.data.conn = null;
    if (!s) return;
    // LINK.CLOSED for a logged-in device (it also marks what the device has heard). If the store refuses
    // it, the session stays the device's (a relogin resumes it) and the close is retried until it lands.
    const state = key.data;
    this.gw.links.retry.run(closeKey(key), 'closing a Web SDK device', () => {
      if (state.conn !== null || state.session !== s) return; // it came back first
      this.gw.core.closeSession(s);
      state.session = null;
      state.lastSeq = resumePoint(state, s.lastSeq);
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // Downlink.

  /** What the engine sends this device, in the SDK's terms. */
  deliver(event: ClientEvent, seq: number): void {
    switch (event.name) {
      case EVENT.USER_STATUS_UPDATED: {
        const state = this.device?.data;
        if (state) state.pushedSeq = Math.max(state.pushedSeq, seq);
        this.push(CMD.PUSH_MSG, {
          EventArray: [{ Event: EVENT_USER_STATUS, UserStatusList: event.data.map(wireStatus) }],
          // The SDK answers openim.ws_msg_push_ack with this SessionData: the resume point (EXT-2).
          NeedAck: 1,
          SessionData: String(seq),
        });
        return;
      }
      case EVENT.KICKED_OUT: {
        // DEV-4: the SDK's own multi-device kick: it logs out and emits KICKED_OUT {type: 'multipleDevice'}.
        this.push(CMD.PUSH_FORCE_OFFLINE, {
          EventArray: [{ Event: EVENT_USER_STATUS, C2cNotifyMsgArray: [{ KickoutMsgNotify: { KickType: KICK_TYPE_MULTIPLE_DEVICE, NewInstInfo: {} } }] }],
        });
        const key = this.device;
        if (key) {
          this.gw.keys.revoke(key);
          const s = key.data.session;
          key.data.session = null;
          key.data.conn = null;
          this.device = null;
          // Not from inside the engine's delivery loop; guarded, as nothing may throw from a microtask.
          if (s) queueMicrotask(() => this.gw.links.guard('closing a kicked session', () => this.gw.core.closeSession(s)));
        }
        return;
      }
      default:
        // SUBSCRIPTION_ENDED (EXT-4) has no counterpart in the SDK.
        this.gw.log.debug({ event: event.name }, 'tim gateway: event with no SDK counterpart dropped');
    }
  }

  push(servcmd: string, body: unknown): void {
    if (this.held) {
      this.held.push({ servcmd, body });
      return;
    }
    this.send({ head: { servcmd, seq: ++this.pushSeq }, body });
  }

  /** Through the link: within the send budgets (a slow SDK is cut, then reconnects and resumes), never throwing. */
  private send(frame: unknown): void {
    this.link.send(() => encodeFrame(frame, { binary: this.info.binary, compress: this.info.compress }), this.info.binary);
  }

  // -------------------------------------------------------------------------------------------------------
  // Lifecycle (the rest is the link's).

  private onClose(): void {
    this.gw.forget(this);
    if (this.gw.closed) return; // a shutdown is not a drop
    this.release();
  }
}

/** The retrier's key of a device's owed close. */
const closeKey = (key: Key): string => `tim-close:${key.deviceId}`;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : v === undefined || v === null ? undefined : String(v));
