// The Web SDK's door into the engine: speaks tim-js-sdk's WebSocket protocol (shared/spec/TIM-WIRE.md) on
// /binfo and /info and translates each command into one EnginePort call. A thin layer: every rule (gates,
// limits, validation, who hears what) lives in the engine; this file holds the gateway (its options, the
// sockets, the edition's purchase bits), src/server/tim/ the socket (connection.ts), the command table
// (commands.ts), login and relogin by session key (login.ts) and push delivery (downlink.ts).
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { AccessContext } from '../../machines/access';
import type { EnginePort } from '../engine/port';
import { PURCHASE_BITS_TTL_SEC } from '../protocol/tim/boot';
import { DEFAULT_SESSION_KEY_TTL_MS, SessionKeys } from '../protocol/tim/sessionKeys';
import { CMD, purchaseBits } from '../protocol/tim/wire';
import type { OutboundBudget } from './link/budget';
import { LinkGroup } from './link/lifecycle';
import type { Retrier } from './link/retry';
import { DEFAULT_REQUEST_BUDGET, checkBudgetLimits, type RequestBudgetLimits } from './requestBudget';
import { Connection, WS_CLOSE_NO_LOGIN, WS_CLOSE_REPLACED, WS_CLOSE_SHUTDOWN } from './tim/connection';
import { closeKey, type DeviceSocket, type DeviceState, type GatewayContext, type GatewayLogger } from './tim/device';
import type { ClusterPort, PreparedCall } from '../cluster/service';
import type { DeviceHandle } from '../engine/port';
import type { FrontCluster } from './cluster/front';
import { CLOSE_MOVED } from './cluster/relay';
import { CALL_DEADLINE_MS } from './cluster/deadline';
import { clientAddressOf } from './clientAddress';

export type { GatewayLogger } from './tim/device';

export interface TimGatewayOptions {
  core: EnginePort;
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
  /**
   * The same bound for a socket that has not logged in (1009). Default 64 KiB: the SDK's frames before its
   * login (the login, a relogin, queued calls) are small, and a socket that proved nothing should not make the
   * server parse megabytes of JSON.
   */
  maxPreLoginFrameBytes?: number;
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
  /** Cluster mode: an SDK whose user another node owns is relayed there (src/server/cluster/). */
  cluster?: FrontCluster;
  /** The asynchronous path: a prepare or an acknowledgement not settled in this long answers the call. Default 10 s. */
  callDeadlineMs?: number;
}

export interface TimGateway {
  /** `viaRelay`: another node of the cluster relays its SDK here (its relay token was checked). */
  handle(ws: WebSocket, req: IncomingMessage, viaRelay?: boolean): void;
  /** Open SDK sockets, for /healthz. */
  readonly connections: number;
  /** Cluster mode: sockets piped to another node now, and relays opened so far. */
  relaying(): number;
  readonly relayed: number;
  /** Cluster mode: this node stopped owning `shard`: its users' SDKs are closed (1012) to reconnect. */
  shardLost(shard: number): number;
  close(): Promise<void>;
}

const silentLogger: GatewayLogger = { info() {}, warn() {}, error() {}, debug() {} };

export function createTimGateway(opts: TimGatewayOptions): TimGateway {
  return new Gateway(opts);
}

/** The gateway: what its sockets share (GatewayContext), and the edition pushed to them when it changes. */
class Gateway implements TimGateway, GatewayContext {
  readonly core: EnginePort;
  readonly log: GatewayLogger;
  readonly keys: SessionKeys<DeviceState>;
  readonly helloIntervalSec: number;
  readonly silentAfterMs: number;
  readonly maxFrameBytes: number;
  readonly maxPreLoginFrameBytes: number;
  readonly wallClock: () => number;
  readonly now = (): number => this.core.clock.now();
  readonly requestBudget: RequestBudgetLimits;
  readonly sdkAppId: number;
  readonly conns = new Set<DeviceSocket>();
  readonly links: LinkGroup;
  readonly asyncCalls: boolean;
  readonly prepare?: (call: PreparedCall, session: DeviceHandle, arg: unknown) => Promise<void>;
  readonly cluster?: FrontCluster;
  relayed = 0;
  readonly callDeadlineMs: number;

  get connections(): number {
    return this.conns.size;
  }
  /** The edition's purchase bits; null until read (in cluster mode a node may own no shard yet at start). */
  private bits: string | null = null;
  closed = false;
  private readonly stopListening: () => void;

  constructor(readonly opts: TimGatewayOptions) {
    this.core = opts.core;
    this.callDeadlineMs = opts.callDeadlineMs ?? CALL_DEADLINE_MS;
    const cport = opts.core as Partial<ClusterPort>;
    if (typeof cport.prepare === 'function') this.prepare = cport.prepare.bind(opts.core);
    if (opts.cluster) this.cluster = opts.cluster;
    this.asyncCalls = this.prepare !== undefined || opts.core.acknowledgesLater || opts.cluster !== undefined;
    this.sdkAppId = opts.sdkAppId;
    this.log = opts.logger ?? silentLogger;
    this.helloIntervalSec = opts.helloIntervalSec ?? 30;
    this.silentAfterMs = opts.silentAfterMs ?? this.helloIntervalSec * 1500;
    this.maxFrameBytes = opts.maxFrameBytes ?? 1 << 20;
    this.maxPreLoginFrameBytes = Math.min(this.maxFrameBytes, opts.maxPreLoginFrameBytes ?? 64 * 1024);
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
    // A key whose device a socket holds (or whose close is still owed) stays in memory; idle ones are capped.
    this.keys = new SessionKeys(() => this.core.clock.now(), opts.sessionKeyTtlMs ?? DEFAULT_SESSION_KEY_TTL_MS, opts.sessionKeySecret, (d) => d.conn !== null || d.session !== null);
    this.stopListening = this.core.onSettingsChange((s) => this.onSettings(s));
    if (this.cluster) this.armOwnerCheck();
  }

  handle(ws: WebSocket, req: IncomingMessage, viaRelay = false): void {
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
      remote: viaRelay && typeof req.headers['x-status-engine-client'] === 'string' ? `${req.headers['x-status-engine-client'].slice(0, 64)} (relayed)` : clientAddressOf(req),
      viaRelay,
      path: `${url.pathname}${url.search}`,
    });
    this.conns.add(conn);
  }

  relaying(): number {
    let n = 0;
    for (const c of this.conns) if (c.relaying) n++;
    return n;
  }

  private ownerTimer: unknown = null;

  /** Cluster mode, in case a change of owner was missed (a paused owner): every HelloInterval, a socket whose
   * relay no longer goes to the owner, or whose user this node no longer owns, is sent to reconnect. */
  private armOwnerCheck(): void {
    this.ownerTimer = this.core.clock.setTimeout(() => {
      this.ownerTimer = null;
      if (this.closed) return;
      this.links.guard('owner check', () => {
        const cluster = this.cluster!;
        for (const c of [...this.conns]) {
          const r = c.relayTarget;
          if (r && cluster.ownerOf(r.userID) !== r.node) c.link.close(CLOSE_MOVED, `the owner of user '${r.userID}' changed: reconnect`);
          else if (c.device && cluster.ownerOf(c.device.userID) !== cluster.nodeId) this.letGo(c, `user '${c.device.userID}' is owned by another node now: reconnect`);
        }
      });
      this.armOwnerCheck();
    }, this.helloIntervalSec * 1000);
  }

  /** The socket's device is let go of here without a word to the port (its state is another node's now, or lost). */
  letGo(c: DeviceSocket, reason: string): void {
    const key = c.device;
    if (key) {
      c.device = null;
      key.data.conn = null;
      key.data.session = null;
      this.links.retry.cancel(closeKey(key));
    }
    c.link.close(CLOSE_MOVED, reason);
  }

  shardLost(shard: number): number {
    const cluster = this.cluster;
    if (!cluster) return 0;
    let n = 0;
    for (const c of [...this.conns]) {
      const key = c.device;
      if (!key || cluster.shardOf(key.userID) !== shard) continue;
      this.letGo(c, `user '${key.userID}' moved to another node (its shard ${shard} changed owner): reconnect`);
      n++;
    }
    return n;
  }

  get purchaseBits(): string {
    if (this.bits === null) {
      try {
        this.bits = purchaseBits(this.core.settings().edition);
      } catch {
        // Cluster mode, a node that owns no shard right now: the SDK logs in at the owner, which sends its own.
        return purchaseBits('trial');
      }
    }
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

  verifyUserSig(userID: string | undefined, userSig: string | undefined): string {
    return this.opts.verifyUserSig(userID, userSig);
  }

  forget(conn: DeviceSocket): void {
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
    if (this.ownerTimer !== null) this.core.clock.clearTimeout(this.ownerTimer);
    await this.links.shutdown();
    this.keys.clear();
  }
}

