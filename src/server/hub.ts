// The server's side of the client protocol (docs/protocol.md): one WebSocket per connection, bound to one
// device session of the engine once the connection has proved a UserSig. A device outlives its sockets: a
// client that reconnects (after a drop, or after a server restart) binds its new socket to the same device
// and resumes (EXT-2). Heartbeats drive the device link through the clock (DEV-2/DEV-3): a socket quiet for
// a heartbeat interval makes the link silent, any frame brings it back, a close is a closed link.
// This file holds the sockets; the devices are src/server/hub/devices.ts, frames hub/frames.ts, ops hub/ops.ts.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import type { Clock } from '../clock';
import type { ClusterPort } from '../cluster/service';
import type { EnginePort } from '../engine/port';
import { ErrorCode, StatusError } from '../errors';
import type { ClientEvent } from '../events';
import { WireCode } from '../protocol/codes';
import { PROTOCOL_VERSION, deviceIdSchema, platformSchema, type ServerFrame, type WireError } from '../protocol/messages';
import type { FrontCluster } from './cluster/front';
import { CLOSE_MOVED } from './cluster/relay';
import { enqueue, moved, shardLost } from './hub/async';
import { CALL_DEADLINE_MS, withDeadline } from './cluster/deadline';
import { DeviceRegistry, type Conn, type Device } from './hub/devices';
import { readFrame, refusedFrameId, toWire } from './hub/frames';
import { OP_TABLE, type OpContext } from './hub/ops';
import type { OutboundBudget } from './link/budget';
import { closeReason } from './link/bounds';
import { LinkGroup } from './link/lifecycle';
import { HubConn } from './hub/conn';
import { PushFrames } from './hub/push';
import type { Retrier } from './link/retry';
import { DEFAULT_REQUEST_BUDGET, RequestBudget, checkBudgetLimits, type BudgetVerdict, type RequestBudgetLimits } from './requestBudget';
import { remoteLabel } from './clientAddress';

export { engineDeviceId } from './hub/devices';

export interface HubOptions {
  core: EnginePort;
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
  /** Cluster mode: a client whose user another node owns is relayed there (src/server/cluster/). */
  cluster?: FrontCluster;
  /** The asynchronous path: a prepare or an acknowledgement not settled in this long answers the call (75007/75002). */
  callDeadlineMs?: number;
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
  /** Cluster mode: the user's shard moved to another node (or its owner went away): reconnect and resume. */
  MOVED: CLOSE_MOVED,
} as const);

export class ClientHub {
  /** @internal (src/server/hub/async.ts reads the members marked so) */
  readonly conns = new Set<Conn>();
  /** @internal Sockets whose device link the hub made silent (HubConn.silenced), for the check. */
  readonly silencedConns = new Set<Conn>();
  /** @internal */
  readonly core: EnginePort;
  /** @internal */
  readonly log: Logger;
  private readonly links: LinkGroup;
  /** @internal */
  readonly devices: DeviceRegistry;
  /** @internal */
  readonly ops: OpContext;
  /** @internal */
  closing = false;
  private timer: unknown = null;
  private readonly budgetLimits: RequestBudgetLimits;
  /** A port whose calls need preparing or acknowledging later: frames of a connection run one at a time. */
  private readonly asyncCalls: boolean;
  /** The clock as each socket's request budget reads it (one function for all of them). */
  private readonly now = (): number => this.o.clock.now();

  constructor(/** @internal */ readonly o: HubOptions) {
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
    this.devices = new DeviceRegistry({
      port: o.core,
      clock: o.clock,
      retry: this.links.retry,
      guard: (what, fn, extra) => this.links.guard(what, fn, extra),
      push: (d, event, seq) => this.push(d, event, seq),
    });
    const cport = o.core as Partial<ClusterPort>;
    const prepare = typeof cport.prepare === 'function' ? cport.prepare.bind(o.core) : undefined;
    this.asyncCalls = prepare !== undefined || o.core.acknowledgesLater || o.cluster !== undefined;
    this.ops = {
      port: o.core,
      devices: this.devices,
      verifyUserSig: (userID, userSig) => o.verifyUserSig(userID, userSig),
      ...(prepare ? { prepare } : {}),
      deadline: (stage, p) => withDeadline(o.clock, o.callDeadlineMs ?? CALL_DEADLINE_MS, stage, p),
    };
    // Devices the store still lists as connected after a restart wait in the engine (adoptStoredDevices)
    // for their clients to resume, for their heartbeat timeout.
    this.armCheck();
  }

  // -------------------------------------------------------------------------------------------------------
  // Sockets.

  /** `viaRelay`: another node of the cluster relays its client here (its relay token was checked). */
  accept(ws: WebSocket, req: IncomingMessage, viaRelay = false): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const forwarded = viaRelay ? req.headers['x-status-engine-client'] : undefined;
    const remote = typeof forwarded === 'string' ? `${forwarded.slice(0, 64)} (relayed)` : remoteLabel(req);
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
    const conn = new HubConn(this, ws, deviceId, platform.data, remote, new RequestBudget(this.budgetLimits, this.now), viaRelay);
    conn.link = this.links.open(ws, remote, conn);
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

  /** @internal (HubConn) */
  onFrame(conn: Conn, data: Buffer, isBinary: boolean): void {
    if (this.closing) return;
    // Whatever a client sends, the work it can cause is bounded (src/server/requestBudget.ts).
    const verdict = conn.budget.take(data.length);
    if (verdict.kind !== 'serve') return this.overBudget(conn, data, verdict);
    if (this.asyncCalls) return enqueue(this, conn, data, isBinary);
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

  /** Relays opened so far (for /healthz and the metrics). */
  relayed = 0;

  /** Cluster mode: this node stopped owning `shard`: the sockets of its users close (MOVED), their devices are let go of. */
  shardLost(shard: number): number {
    return shardLost(this, shard);
  }

  /** Quiet for a heartbeat interval: the device's link is silent. A throw (the store) is retried while quiet. */
  /** @internal (HubConn) */
  onQuiet(conn: Conn): void {
    const s = conn.device?.session;
    if (!s || !s.loggedIn || !s.userID || s.linkState !== 'live') return;
    this.core.linkEvent(s, { type: 'LINK.SILENT' });
    conn.silenced = true;
  }

  private handleFrame(conn: Conn, data: Buffer, isBinary: boolean): void {
    const frame = readFrame(data, isBinary, this.o.maxFrameBytes);
    if (!frame.ok) return this.replyError(conn, frame.id, frame.error);
    const { id, op, params } = frame;
    let result: unknown;
    try {
      result = OP_TABLE[op](this.ops, conn, params);
    } catch (e) {
      if (e instanceof StatusError) {
        this.replyError(conn, id, toWire(e));
      } else {
        this.log.error({ err: e, op, deviceId: conn.deviceId }, 'op failed');
        this.replyError(conn, id, { code: WireCode.INTERNAL, message: 'internal error (logged on the server)' });
      }
      return;
    }
    this.send(conn, { t: 'res', id, ok: true, data: result ?? {}, seq: this.caughtUp(conn) });
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
    this.replyError(conn, refusedFrameId(data, this.o.maxFrameBytes), toWire(verdict.error));
  }

  /** @internal (HubConn) */
  onClose(conn: Conn, code: number): void {
    this.conns.delete(conn);
    this.silencedConns.delete(conn);
    conn.relay?.close();
    const d = conn.device;
    if (!d || d.conn !== conn) return;
    this.devices.unbind(conn);
    // A shutdown is not a drop: the devices keep their state and resume on the next start.
    if (this.closing) return;
    this.devices.closeLink(d);
    this.log.debug({ deviceId: conn.deviceId, code }, 'client disconnected');
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

  /** The silenced sockets and socketless devices only (a sweep of every socket was a periodic stall); all in cluster mode. */
  private check(): void {
    for (const conn of this.silencedConns) {
      const s = conn.device?.session;
      // The heartbeat timeout dropped a device whose socket stayed silent: the socket is of no more use.
      if (s && s.linkState === 'closed' && this.conns.has(conn)) this.cut(conn, CloseCode.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
    }
    const cluster = this.o.cluster;
    if (cluster) {
      // A missed change of owner: a relay to a node no longer the owner, or a device of a user this node no longer owns, reconnects.
      for (const conn of this.conns) {
        const s = conn.device?.session;
        if (conn.relay && cluster.ownerOf(conn.relay.userID) !== conn.relay.node) moved(this, conn, `the owner of user '${conn.relay.userID}' changed: reconnect`);
        else if (s?.userID && cluster.ownerOf(s.userID) !== cluster.nodeId) moved(this, conn, `user '${s.userID}' is owned by another node now: reconnect`);
      }
    }
    this.devices.sweep(this.o.retentionMs);
  }

  /** The server ends a socket; its device hears a closed link at once (not when TCP gets round to it). */
  /** @internal */
  cut(conn: Conn, code: number, reason: string): void {
    this.conns.delete(conn);
    this.silencedConns.delete(conn);
    this.devices.detach(conn);
    conn.link.close(code, reason);
    this.log.debug({ deviceId: conn.deviceId, code, reason }, 'socket cut');
  }

  /** Test endpoint: the server drops every socket of a user, as a network fault would. */
  dropUser(userID: string): number {
    let n = 0;
    for (const conn of [...this.conns]) {
      const d = conn.device;
      if (!d || d.session.userID !== userID) continue;
      this.devices.detach(conn);
      this.conns.delete(conn);
      conn.ws.terminate();
      n++;
    }
    return n;
  }

  // -------------------------------------------------------------------------------------------------------
  // Output.

  /** The engine hands one event object to every recipient of a change: its frame is made once (hub/push.ts). */
  private readonly pushes = new PushFrames();

  private push(d: Device, event: ClientEvent, seq: number): void {
    const conn = d.conn;
    if (!conn || this.closing || conn.link.closing) return;
    let frame;
    try {
      frame = this.pushes.frame(event, seq);
    } catch (err) {
      this.log.error({ err, remote: conn.remote }, 'a reply could not be encoded: dropped');
      return;
    }
    conn.link.send(frame, false);
  }

  /**
   * The seq a reply carries: while the device receives, every delivery up to the journal's end has been
   * written to this socket before this reply, so the client has caught up to there; otherwise to what the
   * engine last handed it.
   */
  /** @internal */
  caughtUp(conn: Conn): number {
    const s = conn.device?.session;
    if (!s) return 0;
    return s.receiving ? Math.max(s.lastSeq, this.core.currentSeq) : s.lastSeq;
  }

  /** @internal */
  replyError(conn: Conn, id: number | null, error: WireError): void {
    this.send(conn, { t: 'res', id, ok: false, error, seq: this.caughtUp(conn) });
  }

  /** Through the link: within the send budgets (a slow consumer is cut, then resumes), never throwing. */
  /** @internal */
  send(conn: Conn, frame: ServerFrame): void {
    conn.link.send(() => JSON.stringify(frame), false);
  }

  private sendRaw(ws: WebSocket, frame: ServerFrame): void {
    if (ws.readyState !== OPEN) return;
    ws.send(JSON.stringify(frame));
  }

  // -------------------------------------------------------------------------------------------------------

  stats(): { connections: number; devices: number; loggedIn: number } {
    return { connections: this.conns.size, ...this.devices.stats() };
  }

  /** Sockets piped to another node now. */
  relaying(): number {
    let n = 0;
    for (const c of this.conns) if (c.relay) n++;
    return n;
  }

  /** Stops the sweep and closes every socket without telling the engine (a shutdown is not a drop). */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    await this.links.shutdown(graceMs);
  }
}
