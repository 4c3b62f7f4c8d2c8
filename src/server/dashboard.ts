// GET /dashboard: the administrator's live page (built from dashboard/ by Vite into dist/dashboard, served
// from there, nothing from elsewhere) and its small JSON API under /dashboard/api. Every API call and the
// live stream (Server-Sent Events, read with fetch so that the UserSig travels in a header, never a URL)
// prove the administrator's UserSig. The console settings and explain go through the admin REST API itself.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock';
import type { EngineInspection, EnginePort } from '../engine/port';
import { StatusError } from '../errors';
import type { StatusTransition } from '../records';
import { ADMIN_IDENTIFIER } from './usersig';
import { MACHINE_GRAPHS, OnlineCount, describeUser } from './dashboardView';
import type { ClusterDashboard } from './dashboardCluster';

export interface DashboardOptions {
  /** One process: the engine. Cluster mode: this node's port (its shards' steps, live); reads go to `cluster`. */
  core: (EnginePort & EngineInspection) | EnginePort;
  clock: Clock;
  sdkAppId: number;
  verifyUserSig(userID: string, userSig: unknown): string;
  /** Open connections by protocol, for the counts. */
  connections(): Record<string, number>;
  /** Where the built page is; default the package's dist/dashboard. */
  dir?: string;
  /** Cluster mode (src/server/dashboardCluster.ts): the whole cluster's reads, and this node's panel. */
  cluster?: ClusterDashboard;
}

/** Live streams open at once; more are refused (each costs a listener and a timer). */
export const MAX_LIVE_STREAMS = 32;
/** A stream whose unsent data grows past this is a reader too slow to keep: it is closed. */
const MAX_STREAM_BUFFER = 1024 * 1024;
const MAX_WATCHED = 50;

const TYPES_BY_EXT: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** The built page: next to the bundled CLI (dist/cli/*.js), or in dist/ when running from src/. */
export function dashboardDir(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [path.resolve(here, '../dashboard'), path.resolve(here, 'dashboard'), path.resolve(here, '../../dist/dashboard')]) {
    if (existsSync(path.join(dir, 'index.html'))) return dir;
  }
  return null;
}

export function registerDashboard(app: FastifyInstance, o: DashboardOptions): void {
  const { core } = o;
  const dir = o.dir ?? dashboardDir();
  const headers = {
    'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
  const file = (reply: FastifyReply, name: string) => {
    if (!dir) return reply.code(503).type('text/plain').send('the dashboard is not built: run `npm run build` (it builds dist/dashboard)');
    const full = path.join(dir, name);
    if (!existsSync(full)) return reply.code(404).type('text/plain').send('not found');
    return reply.headers(headers).type(TYPES_BY_EXT[path.extname(name)] ?? 'application/octet-stream').send(readFileSync(full));
  };
  app.get('/dashboard', (_req, reply) => file(reply, 'index.html'));
  app.get('/dashboard/', (_req, reply) => file(reply, 'index.html'));
  app.get('/dashboard/assets/:name', (req, reply) => {
    const { name } = req.params as { name: string };
    // Flat names only: nothing outside the built assets can be named.
    if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) return reply.code(404).send('not found');
    return file(reply, path.join('assets', name));
  });

  const fail = (reply: FastifyReply, e: unknown) => {
    if (e instanceof StatusError) return reply.code(e.code === 70107 ? 404 : 400).send({ ErrorCode: e.code, ErrorInfo: e.message });
    throw e;
  };
  /** `Authorization: UserSig <administrator's UserSig>`; a wrong one is a 401 with the verifier's code. */
  const gate = async (req: FastifyRequest, reply: FastifyReply) => {
    const h = req.headers.authorization ?? '';
    const m = /^UserSig (\S+)$/.exec(h);
    try {
      o.verifyUserSig(ADMIN_IDENTIFIER, m ? m[1] : undefined);
    } catch (e) {
      if (e instanceof StatusError) return reply.code(401).send({ ErrorCode: e.code, ErrorInfo: e.message });
      throw e;
    }
    return undefined;
  };
  const api = (url: string, handler: (req: FastifyRequest, reply: FastifyReply) => unknown) => app.get(`/dashboard/api/${url}`, { onRequest: gate }, handler);

  api('session', () => ({ identifier: ADMIN_IDENTIFIER, sdkAppId: o.sdkAppId }));
  api('machines', () => MACHINE_GRAPHS());
  api('users/:userID', async (req, reply) => {
    const { userID } = req.params as { userID: string };
    try {
      return o.cluster ? await o.cluster.describe(userID) : describeUser(core as EnginePort & EngineInspection, userID);
    } catch (e) {
      return fail(reply, e);
    }
  });
  if (o.cluster) api('node', () => o.cluster!.node());

  // ---- the live stream: counts every second; each step of a watched user's status machine; settings changes.
  const streams = new Set<{ end(): void }>();
  let online: OnlineCount | null = null;
  let changes = 0;
  let unlisten: (() => void) | null = null;
  const listeners = new Set<(userID: string, data: unknown) => void>();
  const listen = () => {
    // Cluster mode: the online count is the cluster's (polled), not one made from this node's steps.
    online = o.cluster ? null : new OnlineCount(core);
    unlisten = core.onTransition((e) => {
      changes++;
      online?.seen(e.userID, e.after.statusType);
      for (const l of listeners) l(e.userID, e);
    });
  };
  const counts = async () =>
    o.cluster
      ? { ...(await o.cluster.counts()), connections: o.connections(), seq: core.currentSeq }
      : { registeredUsers: core.userCount(), onlineUsers: online?.size ?? 0, connections: o.connections(), seq: core.currentSeq };

  api('counts', () => counts());
  api('live', (req, reply) => {
    if (streams.size >= MAX_LIVE_STREAMS) return reply.code(503).send({ ErrorInfo: `too many live streams (MAX_LIVE_STREAMS = ${MAX_LIVE_STREAMS})` });
    const q = req.query as { watch?: string };
    const watch = new Set((q.watch ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0 && s.length <= 256).slice(0, MAX_WATCHED));
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', connection: 'keep-alive' });
    if (streams.size === 0 || !unlisten) listen();
    let timer: unknown = null;
    let last = { at: o.clock.now(), changes };
    const send = (event: string, data: unknown) => {
      if (res.writableLength > MAX_STREAM_BUFFER) return stream.end();
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let perSecond = 0;
    const sendCounts = () =>
      void counts().then(
        (c) => streams.has(stream) && send('counts', { ...c, changesPerSecond: Math.round(perSecond * 10) / 10 }),
        () => undefined,
      );
    const tick = () => {
      const now = o.clock.now();
      perSecond = now > last.at ? ((changes - last.changes) * 1000) / (now - last.at) : 0;
      last = { at: now, changes };
      sendCounts();
      timer = o.clock.setTimeout(tick, 1000);
    };
    // Counts also follow the changes themselves, once per command (and so under a clock that stands still).
    let countsDue = false;
    // Cluster mode: watched users owned elsewhere are polled; each step is sent once (by its seq).
    const follow = o.cluster?.follow(watch, (t) => send('transition', t));
    const onStep = (userID: string, data: unknown) => {
      if (watch.has(userID) && (!follow || follow.seen(data as StatusTransition))) send('transition', data);
      if (countsDue) return;
      countsDue = true;
      queueMicrotask(() => {
        countsDue = false;
        if (streams.has(stream)) sendCounts();
      });
    };
    const offSettings = core.onSettingsChange((s) => send('settings', s));
    const stream = {
      end() {
        if (!streams.delete(stream)) return;
        listeners.delete(onStep);
        offSettings();
        if (timer !== null) o.clock.clearTimeout(timer);
        follow?.stop();
        if (streams.size === 0 && unlisten) {
          unlisten();
          unlisten = null;
          online = null;
        }
        res.end();
      },
    };
    streams.add(stream);
    listeners.add(onStep);
    req.raw.on('close', () => stream.end());
    send('hello', { watching: [...watch], ...(o.cluster ? { cluster: { node: o.cluster.nodeId, pollMs: o.cluster.pollMs } } : {}) });
    tick();
  });
  // Open streams would hold a shutdown: they end first.
  app.addHook('preClose', (done) => {
    for (const s of [...streams]) s.end();
    done();
  });
}
