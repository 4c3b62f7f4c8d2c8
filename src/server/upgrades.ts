// Where a WebSocket upgrade goes: refused while closing, for a foreign Origin, to an unknown path or with a
// handshake ws would refuse (each before admission, so it costs no room at the pending total), then admitted
// (src/server/admission.ts) and handed to the hub (/ws) or the Web SDK's gateway (/binfo, /info).
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from 'ws';
import { WS_PATH } from '../protocol/messages';
import { handshakeRefusal, refuseUpgrade, type Admission } from './admission';
import type { ServerMetrics } from './metrics';
import { upgradeOriginAllowed } from './ops';

/** What takes an opened socket: the hub's accept or the gateway's handle. */
type Taker = (ws: WebSocket, req: IncomingMessage, viaRelay: boolean) => void;

export interface UpgradeRoutes {
  wss: WebSocketServer;
  admission: Admission;
  metrics: ServerMetrics;
  log: Logger;
  allowedOrigins?: readonly string[];
  client: Taker;
  /** The Web SDK's gateway, when it loaded. */
  sdk: Taker | null;
}

/** Routes the server's upgrades; `close()` refuses every later one with 503. */
export function routeUpgrades(server: Server, r: UpgradeRoutes): { close(): void } {
  let closing = false;
  // Made once, not per socket: a closure made in the upgrade handler would keep its whole scope (the request,
  // its headers) for the socket's life.
  const upgradeSocketError = (err: Error) => r.log.debug({ err }, 'upgrade socket error');
  const open = (req: IncomingMessage, socket: Duplex, head: Buffer, viaRelay: boolean, kind: 'client' | 'sdk', take: Taker): void => {
    r.wss.handleUpgrade(req, socket, head, (ws) => {
      r.admission.opened(ws, req, viaRelay);
      r.metrics.connectionOpened(kind);
      try {
        take(ws, req, viaRelay);
      } catch (err) {
        r.log.error({ err }, kind === 'client' ? 'the hub refused a connection' : 'gateway refused a connection');
        ws.terminate();
      }
    });
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', upgradeSocketError);
    const pathname = (req.url ?? '/').split('?')[0];
    if (closing) return refuseUpgrade(socket, '503 Service Unavailable');
    if (!upgradeOriginAllowed(r.allowedOrigins, req)) return refuseUpgrade(socket, '403 Forbidden');
    // Refused before admission: at the total, admission closes an old socket not logged in to make room, and
    // an upgrade that would get no socket anyway (an unknown path, a handshake ws refuses) must not do that.
    const sdk = (pathname === '/binfo' || pathname === '/info') && r.sdk !== null;
    if (pathname !== WS_PATH && !sdk) return refuseUpgrade(socket, '404 Not Found');
    const badHandshake = handshakeRefusal(req);
    if (badHandshake !== null) return refuseUpgrade(socket, badHandshake);
    const admitted = r.admission.admit(req, socket);
    if (!admitted) return;
    if (pathname === WS_PATH) open(req, socket, head, admitted.viaRelay, 'client', r.client);
    else open(req, socket, head, admitted.viaRelay, 'sdk', r.sdk!);
  });
  return {
    close: () => {
      closing = true;
    },
  };
}
