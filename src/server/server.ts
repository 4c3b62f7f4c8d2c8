// `status-engine serve` as a function: one engine, one port for the client protocol (/ws), the Web SDK's
// protocol (/binfo, /info, through the gateway module when it is present), the admin REST API (/v4/...)
// and /healthz. The CLI (src/cli.ts) parses flags and calls startServer; tests may call it directly.
import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { mergeSettings } from '../../machines/access';
import { systemClock, type Clock } from '../clock';
import type { EngineCore } from '../engine/core';
import { coreOf, createEngine } from '../engine/engine';
import type { StatusError } from '../errors';
import type { Store } from '../store/types';
import type { ConfigChange } from '../types';
import { WireCode } from '../protocol/codes';
import { WS_PATH } from '../protocol/messages';
import { ManualClock } from './clock';
import { DEFAULTS } from './defaults';
import { ClientHub } from './hub';
import { registerRest } from './rest';
import { verifyUserSig } from './usersig';
import { Webhook, callbackOf } from './webhook';

export { DEFAULTS };

export interface ServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Where state lives; default a MemoryStore. Closed with the server. */
  store?: Store;
  /**
   * Settings named on the command line. A fresh store starts with them (they open its journal); a store that
   * already has settings gets them as a change (GATE-1: only what they name), when they change anything.
   */
  settings?: ConfigChange;
  /** 'simulated' (tests only): time stands still until POST /v4/test/advance; enables /v4/test/*. */
  clock?: 'system' | 'simulated';
  sdkAppId: number;
  secretKey: string;
  logger: Logger;
  heartbeatMs?: number;
  maxFrameBytes?: number;
  /** A WebSocket message over this closes the socket (1009); the hard limit behind maxFrameBytes. */
  maxPayloadBytes?: number;
  bodyLimit?: number;
  retentionMs?: number;
  webhook?: { url: string; secret?: string; baseDelayMs?: number; maxAttempts?: number; maxQueue?: number };
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  core: EngineCore;
  clock: Clock;
  /** Stops accepting, closes the sockets (devices keep their state), then the engine and the store. */
  close(): Promise<void>;
}


/** The Web SDK's gateway (src/server/timGateway.ts, built separately): loaded guarded, so a broken one costs /binfo only. */
async function loadGateway(log: Logger): Promise<typeof import('./timGateway').createTimGateway | null> {
  try {
    const mod = await import('./timGateway');
    return typeof mod.createTimGateway === 'function' ? mod.createTimGateway : null;
  } catch (err) {
    log.error({ err }, 'the Web SDK gateway failed to load: /binfo and /info are off');
    return null;
  }
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const log = o.logger;
  const started = Date.now();
  const manual = o.clock === 'simulated' ? new ManualClock(Date.now()) : null;
  const base: Clock = manual ?? systemClock;
  const clock = base;

  const had = o.store?.getSettings() !== undefined;
  const core = coreOf(createEngine({ clock, store: o.store, ...(had ? {} : o.settings) }));
  if (had && o.settings && Object.keys(o.settings).length > 0) {
    const now = core.settings();
    if (JSON.stringify(mergeSettings(now, o.settings)) !== JSON.stringify(now)) core.configure(o.settings);
  }

  const verify = (expected: string | undefined, userSig: unknown): string =>
    verifyUserSig(userSig, expected, { sdkAppId: o.sdkAppId, secretKey: o.secretKey, nowMs: base.now() });

  const webhook = o.webhook
    ? new Webhook({ url: o.webhook.url, secret: o.webhook.secret, sdkAppId: o.sdkAppId, clock: base, logger: log.child({ part: 'webhook' }), baseDelayMs: o.webhook.baseDelayMs, maxAttempts: o.webhook.maxAttempts, maxQueue: o.webhook.maxQueue })
    : null;
  // EXT-8: every step of a user's status machine, once its command has landed, becomes a callback.
  if (webhook) {
    core.onTransition((e, command) => {
      try {
        const cb = callbackOf(e, command);
        if (cb) webhook.enqueue(cb);
      } catch (err) {
        log.error({ err }, 'building the webhook callback failed');
      }
    });
  }

  const hub = new ClientHub({
    core,
    clock,
    logger: log.child({ part: 'ws' }),
    sdkAppId: o.sdkAppId,
    verifyUserSig: (userID, userSig) => verify(userID, userSig),
    heartbeatMs: o.heartbeatMs ?? DEFAULTS.heartbeatMs,
    maxFrameBytes: o.maxFrameBytes ?? DEFAULTS.maxFrameBytes,
    retentionMs: o.retentionMs ?? DEFAULTS.retentionMs,
  });

  const app: FastifyInstance = Fastify({
    loggerInstance: log.child({ part: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimit ?? DEFAULTS.bodyLimit,
  });
  // Tencent's REST clients send JSON under many content types (or none): every body is read as text here
  // and parsed by the route, so that bad JSON gets the REST error shape and not Fastify's.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ ActionStatus: 'FAIL', ErrorCode: WireCode.HTTP_UNREADABLE, ErrorInfo: `the body is over the limit bodyLimit = ${o.bodyLimit ?? DEFAULTS.bodyLimit} bytes` });
    }
    if (err.statusCode && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ ActionStatus: 'FAIL', ErrorCode: WireCode.HTTP_UNREADABLE, ErrorInfo: err.message });
    }
    log.error({ err }, 'request failed');
    return reply.code(500).send({ ActionStatus: 'FAIL', ErrorCode: WireCode.INTERNAL, ErrorInfo: 'internal error (logged on the server)' });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ ActionStatus: 'FAIL', ErrorCode: WireCode.UNKNOWN_COMMAND, ErrorInfo: `no such endpoint: ${req.method} ${req.url.split('?')[0]}` }),
  );

  app.get('/healthz', async () => {
    const users = core.store.userCount();
    return {
      status: 'ok',
      uptimeMs: Date.now() - started,
      clock: manual ? 'simulated' : 'system',
      now: base.now(),
      store: core.store.kind,
      seq: core.currentSeq,
      users,
      ...hub.stats(),
      sdkConnections: gateway?.connections ?? 0,
      webhook: webhook?.stats() ?? null,
    };
  });

  registerRest(app, {
    core,
    sdkAppId: o.sdkAppId,
    verifyUserSig: (userID, userSig) => verify(userID, userSig),
    test: manual
      ? {
          advance: (ms) => {
            manual.advance(ms);
            return manual.now();
          },
          drop: (userID) => hub.dropUser(userID),
        }
      : undefined,
  });

  const createGateway = await loadGateway(log);
  const gateway = createGateway
    ? createGateway({
        core,
        sdkAppId: o.sdkAppId,
        logger: log.child({ part: 'tim' }),
        verifyUserSig: (userID, userSig) => verify(userID, userSig),
        // Derived from the app key, so that SDKs relogin with their session keys after a restart.
        sessionKeySecret: createHmac('sha256', o.secretKey).update('status-engine tim session keys').digest(),
      })
    : null;

  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes, perMessageDeflate: false });
  let closing = false;
  const refuseUpgrade = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = (req.url ?? '/').split('?')[0];
    if (closing) return refuseUpgrade(socket, '503 Service Unavailable');
    if (pathname === WS_PATH) {
      wss.handleUpgrade(req, socket, head, (ws) => hub.accept(ws, req));
    } else if ((pathname === '/binfo' || pathname === '/info') && gateway) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        try {
          gateway.handle(ws, req);
        } catch (err) {
          log.error({ err }, 'gateway refused a connection');
          ws.terminate();
        }
      });
    } else {
      refuseUpgrade(socket, '404 Not Found');
    }
  });

  await app.listen({ host: o.host ?? DEFAULTS.host, port: o.port ?? DEFAULTS.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (o.port ?? DEFAULTS.port);
  const host = o.host ?? DEFAULTS.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closed: Promise<void> | null = null;
  return {
    url,
    host,
    port,
    core,
    clock,
    close: () =>
      (closed ??= (async () => {
        closing = true;
        // New connections are refused from here; the sockets close without the engine hearing a drop, so
        // every device resumes where it was on the next start.
        await Promise.all([hub.close(), gateway?.close().catch((err: StatusError) => log.warn({ err }, 'gateway close failed'))]);
        wss.close();
        await app.close();
        webhook?.close();
        core.close();
        core.store.close();
      })()),
  };
}
