// Which WebSocket upgrades get a socket, before any UserSig is seen: another node's relay only with a valid
// token, the client's address (behind a trusted proxy, the one it names), the caps on sockets not logged in
// (per address, 429; all together, 503), each refusal answered with a body naming its limit. upgrades.ts routes
// what is admitted; this module counts it until it logs in or closes.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Clock } from '../clock';
import { WS_PATH } from '../protocol/messages';
import { TrustedProxies, clientAddress, clientAddressOf, rememberClient, remoteLabel } from './clientAddress';
import { RELAY_HEADER, RelayGate } from './cluster/relayAuth';
import { socketAuthenticated } from './link/lifecycle';
import type { ServerMetrics } from './metrics';
import { DEFAULT_PENDING_LIMITS, PendingLogins, type PendingLimits } from './requestBudget';

export interface AdmissionOptions {
  log: Logger;
  metrics: ServerMetrics;
  clock: Clock;
  secretKey: string;
  /** Cluster mode: this node's id (a relay token must name it). */
  nodeId: string | null;
  pendingLogins?: PendingLimits;
  trustProxy?: readonly string[];
}

/** An HTTP answer on the raw upgrade socket, then its end. */
export function refuseUpgrade(socket: Duplex, status: string, body = '', extra = ''): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n${extra}${body ? 'Content-Type: application/json\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** ws's own check of a handshake's key (lib/websocket-server.js): 16 bytes in base64. */
const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;

/**
 * The status ws would refuse this handshake with (its method, Upgrade, key and version checks, in its order),
 * or null. Asked before admission, so that a handshake that gets no socket costs no room at the total.
 */
export function handshakeRefusal(req: IncomingMessage): string | null {
  if (req.method !== 'GET') return '405 Method Not Allowed';
  const version = Number(req.headers['sec-websocket-version']);
  const key = req.headers['sec-websocket-key'];
  if (req.headers.upgrade?.toLowerCase() !== 'websocket' || key === undefined || !WS_KEY.test(key) || (version !== 13 && version !== 8)) return '400 Bad Request';
  return null;
}

export class Admission {
  readonly trust: TrustedProxies;
  readonly pending: PendingLogins;
  private readonly relayGate: RelayGate;
  /** The total cap's warnings, by kind (refused, closed to make room): when last written, and events since. */
  private readonly warned = new Map<string, { at: number; events: number }>();
  /** One listener for every socket (a closure per socket would live as long as it). */
  private readonly socketError = (err: Error): void => this.o.log.debug({ err }, 'socket error');

  constructor(private readonly o: AdmissionOptions) {
    this.trust = new TrustedProxies(o.trustProxy);
    this.pending = new PendingLogins({ ...DEFAULT_PENDING_LIMITS, ...o.pendingLogins });
    this.relayGate = new RelayGate(o.secretKey, o.nodeId);
  }

  /** A REST request: behind a trusted proxy, its client is remembered (for the audit log). */
  request(req: IncomingMessage): void {
    if (this.trust.size > 0) rememberClient(req, clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.trust));
  }

  /** Whether the upgrade goes on (and whether it is a relay), or null: refused, and answered. */
  admit(req: IncomingMessage, socket: Duplex): { viaRelay: boolean } | null {
    const { log, metrics, clock } = this.o;
    const protocol = (req.url ?? '/').split('?')[0] === WS_PATH ? 'client' : 'sdk';
    // Another node's relay of its client: admitted only with a valid token (src/server/cluster/relayAuth.ts).
    const relay = req.headers[RELAY_HEADER];
    if (relay !== undefined) {
      const verdict = this.relayGate.check(relay, Date.now());
      if (verdict.ok) return { viaRelay: true };
      metrics.refused(protocol, 401);
      // One line per interval, with the count: refusals are as cheap to send as any upgrade.
      if (verdict.log) log.warn({ remote: remoteLabel(req), reason: verdict.reason, refused: verdict.log.refused }, 'relay refused');
      refuseUpgrade(socket, '401 Unauthorized');
      return null;
    }
    // Behind a trusted proxy, the client it names (its X-Forwarded-For); anyone else's header is ignored.
    this.request(req);
    const evicted = this.pending.evicted;
    const tooMany = this.pending.check(clientAddressOf(req), clock.now());
    if (this.pending.evicted > evicted) this.atTotal('sockets not logged in closed to make room: this server is at its total', this.pending.limits.total ?? 0, req);
    if (!tooMany) return { viaRelay: false };
    const body = JSON.stringify({ ActionStatus: 'FAIL', ErrorCode: tooMany.code, ErrorInfo: tooMany.message, limit: tooMany.limit, limitName: tooMany.limitName });
    if (tooMany.limitName === 'pendingLogins.total') {
      metrics.refused(protocol, 503);
      this.atTotal('upgrades refused: too many sockets not logged in on this server', tooMany.limit as number, req);
      refuseUpgrade(socket, '503 Service Unavailable', body, 'Retry-After: 5\r\n');
      return null;
    }
    metrics.refused(protocol, 429);
    log.debug({ remote: remoteLabel(req), limit: tooMany.limit }, 'upgrade refused: too many sockets not logged in from one address');
    refuseUpgrade(socket, '429 Too Many Requests', body);
    return null;
  }

  /** At the total: one warning per interval and kind, with the count since the last (a flood's upgrades are cheap to send). */
  private atTotal(msg: string, limit: number, req: IncomingMessage): void {
    const now = this.o.clock.now();
    let w = this.warned.get(msg);
    if (!w) this.warned.set(msg, (w = { at: -Infinity, events: 0 }));
    w.events++;
    if (now - w.at < 10_000 && now >= w.at) return;
    this.o.log.warn({ remote: remoteLabel(req), limit, events: w.events, evicted: this.pending.evicted }, msg);
    w.at = now;
    w.events = 0;
  }

  /**
   * An admitted socket. One with no 'error' listener throws what it hears (a bad frame, a reset) out of the
   * event loop: every one gets a listener before anything else can happen to it. Then it is counted against
   * its address until it logs in or closes (relays are counted at their first node).
   */
  opened(ws: WebSocket, req: IncomingMessage, viaRelay: boolean): void {
    ws.on('error', this.socketError);
    // At the total the oldest goes first: terminated, not closed (a flood would not answer a close frame,
    // and its descriptor is what the newcomer needs).
    if (!viaRelay) ws.once('close', this.pending.track(clientAddressOf(req), () => socketAuthenticated(ws), { now: this.o.clock.now(), evict: () => ws.terminate() }));
  }
}
