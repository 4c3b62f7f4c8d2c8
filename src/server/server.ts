// `status-engine serve` as a function: one engine, one port for the client protocol (/ws), the Web SDK's
// protocol (/binfo, /info, through the gateway module when it is present), the admin REST API (/v4/...)
// and /healthz, /readyz, /metrics, /openapi.json (ops.ts), over TLS when given a certificate. The CLI
// (src/cli.ts) parses flags and calls startServer; tests may call it directly.
import { createHmac } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { mergeSettings } from '../../machines/access';
import { MemoryBroker } from '../broker/memory';
import { MemoryStore } from '../store/memory';
import { systemClock, type Clock } from '../clock';
import type { AddressBook } from '../cluster/addresses';
import type { ClusterService } from '../cluster/service';
import { coreOf, createEngine } from '../engine/engine';
import type { EnginePort } from '../engine/port';
import type { StatusError } from '../errors';
import type { Store } from '../store/types';
import type { ConfigChange } from '../types';
import { WireCode } from '../protocol/codes';
import { ManualClock } from './clock';
import { DEFAULTS } from './defaults';
import { registerDashboard } from './dashboard';
import { clusterDashboard } from './dashboardCluster';
import { ClientHub } from './hub';
import { createInspectLink } from './inspect';
import { ServerMetrics } from './metrics';
import { registerOps, type Readiness } from './ops';
import { OutboundBudget } from './link/budget';
import { Retrier } from './link/retry';
import type { PendingLimits, RequestBudgetLimits } from './requestBudget';
import { registerRest, type AuditEntry } from './rest';
import { registerClusterAuditRest } from './cluster/restAudit';
import { registerAuditRest } from './restAudit';
import { registerBackupRest, type BackupSource } from './restBackup';
import { verifyUserSig } from './usersig';
import { registerHealth } from './health';
import { Admission } from './admission';
import { routeUpgrades } from './upgrades';
import { clusterFront, clusterHealth, relayCounter, type ClusterParts } from './cluster/wiring';
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
  /** Limits and deadlines of docs/server.md: see DEFAULTS. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** How often node's HTTP server looks for requests past their deadlines (tests make it short). Default 1 s. */
  timeoutCheckMs?: number;
  loginDeadlineMs?: number;
  maxBufferedBytes?: number;
  maxTotalBufferedBytes?: number;
  /** Per-connection request budget of both socket front-ends (src/server/requestBudget.ts); default DEFAULT_REQUEST_BUDGET. */
  requestBudget?: RequestBudgetLimits;
  /** Sockets from one address not logged in yet (src/server/requestBudget.ts); default DEFAULT_PENDING_LIMITS. */
  pendingLogins?: PendingLimits;
  /**
   * Proxies whose X-Forwarded-For names the client (addresses, CIDRs, 'loopback', 'private'; src/server/
   * clientAddress.ts): on the upgrades and REST calls they make, that address is counted and logged. Default: none.
   */
  trustProxy?: readonly string[];
  /** Who gets /healthz's counts and node lines: 'admin' (the default: the admin proof in the query) or 'public'. */
  healthDetail?: 'admin' | 'public';
  webhook?: { url: string; secret?: string; baseDelayMs?: number; maxAttempts?: number; maxQueue?: number };
  /** `--inspect`: send the machines of these users (all by default) to a @statelyai/inspect WebSocket inspector. */
  inspect?: { url: string; users?: string };
  /** PEM certificate and key: HTTPS and WSS on the one port. */
  tls?: { cert: string; key: string };
  /** Browser origins allowed (CORS and the WebSocket Origin header); default: no rule. */
  allowedOrigins?: readonly string[];
  /** Also export prom-client's process metrics (CPU, memory, GC); the CLI turns them on. */
  processMetrics?: boolean;
  /**
   * Cluster mode (`serve --redis`, issue 13): the node's service (not started yet: the server starts it once
   * it listens, and stops it on close, handing its shards over), the node address registry, and the
   * address the other nodes reach this one at (default ws://HOST:PORT as it listens). `store` and
   * `settings` are not used: the cluster's state and settings live in Redis.
   */
  cluster?: { service: ClusterService; addresses: AddressBook; advertise?: string; close?: () => Promise<void> };
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  /** The port the front-ends call: the engine's, or in cluster mode the node's ClusterPort. */
  core: EnginePort;
  clock: Clock;
  /** Cluster mode: the node's service. */
  cluster?: ClusterService;
  /** What /readyz says. */
  readonly readiness: Readiness;
  /** /readyz says 503 from now on; everything is still served (a load balancer moves traffic away first). */
  drain(): void;
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
  const manual = o.clock === 'simulated' && !o.cluster ? new ManualClock(Date.now()) : null;
  // `base` tells the time of day (UserSig lifetimes, /healthz); `clock` runs the sockets' timers: the
  // engine's, which in cluster mode is the node's (tests drive the node and its sockets on one clock).
  const base: Clock = manual ?? systemClock;
  const clock: Clock = manual ?? o.cluster?.service.port.clock ?? systemClock;

  let readiness: Readiness = 'starting';
  // Counters fed through the engine's seams (broker, store, transition listener): see metrics.ts.
  const metrics: ServerMetrics = new ServerMetrics(
    {
      connections: (): { client: number; sdk: number } => ({ client: hub.stats().connections, sdk: gateway?.connections ?? 0 }),
      users: () => core.userCount(),
      webhook: () => webhook?.stats() ?? null,
      store: () => store,
    },
    { processMetrics: o.processMetrics },
  );
  const cluster = o.cluster?.service;
  const had = o.store?.getSettings() !== undefined;
  const inspectLink = o.inspect && !cluster ? createInspectLink({ url: o.inspect.url, clock, logger: log.child({ part: 'inspect' }) }) : null;
  const inspecting = inspectLink ? { inspect: inspectLink.inspect, inspectUsers: o.inspect?.users } : {};
  const store = cluster ? null : metrics.store(o.store ?? new MemoryStore());
  // One process: the engine itself (its inspection seams feed the dashboard). Cluster mode: the node's port.
  const engine = store ? coreOf(createEngine({ clock, store, broker: metrics.broker(new MemoryBroker()), ...(had ? {} : o.settings), ...inspecting })) : null;
  const core: EnginePort = cluster ? cluster.port : engine!;
  core.onTransition(metrics.onTransition);
  if (engine && had && o.settings && Object.keys(o.settings).length > 0) {
    const now = engine.settings();
    if (JSON.stringify(mergeSettings(now, o.settings)) !== JSON.stringify(now)) engine.configure(o.settings);
  }
  const parts: ClusterParts | null = o.cluster ? { ...o.cluster, secretKey: o.secretKey, log: log.child({ part: 'cluster' }), metrics, maxPayloadBytes: o.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes, maxBufferedBytes: o.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes } : null;
  const front = parts ? clusterFront(parts) : undefined;

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

  // One process, one memory: the hub and the gateway share the budget of unsent bytes, and one retrier of
  // the link closes the store refused (a full disk), so that presence converges once it takes them.
  const budget = new OutboundBudget(o.maxTotalBufferedBytes ?? DEFAULTS.maxTotalBufferedBytes);
  const retry = new Retrier({ clock, log: log.child({ part: 'retry' }) });
  const hub = new ClientHub({
    core: metrics.port(core, 'client'),
    clock,
    budget,
    retry,
    maxBufferedBytes: o.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
    loginDeadlineMs: o.loginDeadlineMs,
    logger: log.child({ part: 'ws' }),
    sdkAppId: o.sdkAppId,
    verifyUserSig: metrics.counted('client', verify),
    heartbeatMs: o.heartbeatMs ?? DEFAULTS.heartbeatMs,
    ...(o.requestBudget ? { requestBudget: o.requestBudget } : {}),
    maxFrameBytes: o.maxFrameBytes ?? DEFAULTS.maxFrameBytes,
    retentionMs: o.retentionMs ?? DEFAULTS.retentionMs,
    ...(front ? { cluster: front } : {}),
  });

  const httpDeadlines = { headersTimeout: o.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs, connectionsCheckingInterval: o.timeoutCheckMs ?? 1000 };
  const app: FastifyInstance = Fastify({
    loggerInstance: log.child({ part: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimit ?? DEFAULTS.bodyLimit,
    // An unauthenticated client may not hold a connection by trickling its headers or body.
    requestTimeout: o.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
    ...(o.tls ? { https: { cert: o.tls.cert, key: o.tls.key, ...httpDeadlines } } : { http: httpDeadlines }),
  });
  // Also set on the server itself: an HTTPS server is made without the `http` options above.
  app.server.headersTimeout = o.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs;
  // Tencent's REST clients send JSON under many content types (or none): every body is read as text here
  // and parsed by the route, so that bad JSON gets the REST error shape and not Fastify's.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  // Even a Content-Type Fastify cannot parse ('', 'weird', 'a, b') would be a 415 before the catch-all runs.
  // The upgrades' gate (src/server/admission.ts); it also names REST's client behind a trusted proxy (the audit log).
  const admission = new Admission({ log, metrics, clock, secretKey: o.secretKey, nodeId: parts ? parts.service.nodeId : null, pendingLogins: o.pendingLogins, trustProxy: o.trustProxy });
  app.addHook('onRequest', (req, _reply, done) => {
    if (req.headers['content-type'] !== undefined) req.headers['content-type'] = 'text/plain';
    admission.request(req.raw);
    done();
  });
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

  registerHealth(app, {
    detail: o.healthDetail ?? 'admin',
    mode: cluster ? 'cluster' : 'single',
    sdkAppId: o.sdkAppId,
    verifyUserSig: (u, s) => verify(u, s),
    node: () => (cluster ? clusterHealth(cluster, advertised, { client: hub.relayed, sdk: gateway?.relayed ?? 0 }) : null),
    counts: () => ({
      uptimeMs: Date.now() - started,
      clock: manual ? 'simulated' : 'system',
      now: base.now(),
      store: store?.kind ?? 'redis',
      seq: core.currentSeq,
      users: core.userCount(),
      ...hub.stats(),
      sdkConnections: gateway?.connections ?? 0,
      bufferedBytes: budget.total,
      retrying: retry.size,
      webhook: webhook?.stats() ?? null,
    }),
  });

  registerOps(app, { readiness: () => readiness, metrics, allowedOrigins: o.allowedOrigins });
  const audit = log.child({ part: 'audit' });
  // Every admin call (rest.ts, and the audit reads of restAudit.ts): one audit line, and a refusal counted.
  const onCall = (call: AuditEntry) => {
    if (call.result === 'FAIL') metrics.refused('rest', call.code);
    audit.info(call, 'admin call');
  };
  registerRest(app, {
    core: cluster ? cluster.admin : core,
    sdkAppId: o.sdkAppId,
    verifyUserSig: (userID, userSig) => verify(userID, userSig),
    onCall,
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
        core: metrics.port(core, 'sdk'),
        sdkAppId: o.sdkAppId,
        ...(o.requestBudget ? { requestBudget: o.requestBudget } : {}),
        budget,
        retry,
        maxBufferedBytes: o.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
        ...(o.loginDeadlineMs !== undefined ? { loginDeadlineMs: o.loginDeadlineMs } : {}),
        logger: log.child({ part: 'tim' }),
        verifyUserSig: metrics.counted('sdk', verify),
        // Derived from the app key, so that SDKs relogin with their session keys after a restart (and, in
        // cluster mode, on any node: every node has the same key).
        sessionKeySecret: createHmac('sha256', o.secretKey).update('status-engine tim session keys').digest(),
        ...(front ? { cluster: front } : {}),
      })
    : null;

  if (front) relayCounter(metrics, () => ({ client: hub.relayed, sdk: gateway?.relayed ?? 0 }));
  if (engine) {
    // One process only: the dashboard and the audit reads look into the engine (not split by shard yet).
    registerAuditRest(app, { core: engine, sdkAppId: o.sdkAppId, verifyUserSig: (userID, userSig) => verify(userID, userSig), onCall });
    registerDashboard(app, { core: engine, clock, sdkAppId: o.sdkAppId, verifyUserSig: (u, s) => verify(u, s), connections: () => ({ client: hub.stats().connections, webSdk: gateway?.connections ?? 0 }) });
  }
  // onCall reaches the shared auditRoute through the options object (cluster/restAudit.ts passes it on whole).
  // The online backup: the server copies its own SQLite file (it holds it exclusively), docs/operations.md.
  const sqlite = o.store && 'backup' in o.store && 'file' in o.store ? (o.store as unknown as BackupSource) : null;
  const nothing = cluster ? "a cluster node's state is in Redis: back up Redis (docs/cluster.md)" : 'this server runs --store memory (nothing is kept)';
  registerBackupRest(app, { source: sqlite ?? { none: nothing }, seq: () => core.currentSeq, sdkAppId: o.sdkAppId, verifyUserSig: (u, s) => verify(u, s), onCall });
  if (cluster) {
    const clusterAudit = { admin: cluster.admin, shardCount: cluster.health().shardCount, sdkAppId: o.sdkAppId, verifyUserSig: (u: string, s: unknown) => verify(u, s), onCall };
    registerClusterAuditRest(app, clusterAudit);
  }
  // Cluster mode: the same dashboard, reading the whole cluster through the ClusterAdmin (src/server/dashboardCluster.ts).
  const clusterView = cluster ? clusterDashboard(cluster, clock, () => clusterHealth(cluster, advertised, { client: hub.relayed, sdk: gateway?.relayed ?? 0 })) : null;
  if (clusterView) registerDashboard(app, { core, cluster: clusterView, clock, sdkAppId: o.sdkAppId, verifyUserSig: (u, s) => verify(u, s), connections: () => ({ client: hub.stats().connections, webSdk: gateway?.connections ?? 0 }) });
  // Cluster mode: when this node stops owning a shard, its users' sockets close to reconnect (to the new owner).
  const unlistenLost = cluster?.onShardLost((shard) => {
    const n = hub.shardLost(shard) + (gateway?.shardLost(shard) ?? 0);
    if (n > 0) log.info({ shard, sockets: n }, 'shard lost: its sockets were closed to reconnect');
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes, perMessageDeflate: false });
  const upgrades = routeUpgrades(app.server, {
    wss,
    admission,
    metrics,
    log,
    allowedOrigins: o.allowedOrigins,
    client: (ws, req, viaRelay) => hub.accept(ws, req, viaRelay),
    sdk: gateway ? (ws, req, viaRelay) => gateway.handle(ws, req, viaRelay) : null,
  });

  await app.listen({ host: o.host ?? DEFAULTS.host, port: o.port ?? DEFAULTS.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (o.port ?? DEFAULTS.port);
  const host = o.host ?? DEFAULTS.host;
  const url = `${o.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // Cluster mode: say where this node is, then join (take its share of the shards); ready once it has.
  const advertised = o.cluster?.advertise ?? `${o.tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (o.cluster) {
    try {
      await o.cluster.addresses.register(o.cluster.service.nodeId, advertised);
      await o.cluster.service.start();
    } catch (err) {
      await app.close().catch(() => {});
      metrics.close();
      throw err;
    }
  }
  readiness = 'ready';

  let closed: Promise<void> | null = null;
  return {
    url,
    host,
    port,
    core,
    clock,
    ...(cluster ? { cluster } : {}),
    get readiness() {
      return readiness;
    },
    drain: () => {
      readiness = 'draining';
    },
    close: () =>
      (closed ??= (async () => {
        readiness = 'draining';
        // Cluster mode first: the shards go to the other nodes at once (graceful handoff, SIGTERM), while
        // the sockets are still open; then they close (and their clients reconnect to the new owners).
        if (cluster) {
          await cluster.stop().catch((err: unknown) => log.warn({ err }, 'cluster stop failed'));
          unlistenLost?.();
          await o.cluster!.addresses.remove(cluster.nodeId).catch(() => {});
        }
        upgrades.close();
        // New connections are refused from here; the sockets close without the engine hearing a drop, so
        // every device resumes where it was on the next start.
        await Promise.all([hub.close(), gateway?.close().catch((err: StatusError) => log.warn({ err }, 'gateway close failed'))]);
        wss.close();
        retry.close();
        await app.close();
        webhook?.close();
        inspectLink?.close();
        if (engine) engine.close();
        store?.close();
        await o.cluster?.addresses.close();
        await o.cluster?.close?.().catch((err: unknown) => log.warn({ err }, 'closing the cluster backend failed'));
        metrics.close();
      })()),
  };
}
