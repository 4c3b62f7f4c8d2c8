// What an operator's tools ask the server, beside the protocols: /readyz (200 serving, 503 starting or
// draining), /metrics (Prometheus text), /openapi.json (the admin REST API), and the browser-origin rule
// (--allowed-origins) that both HTTP (CORS) and the WebSocket upgrade apply.
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from './metrics';
import { buildOpenApi } from './openapi';

export type Readiness = 'starting' | 'ready' | 'draining';

/** How long one rendering of /metrics is served again (Prometheus scrapes every 15-60 s). */
export const METRICS_REUSE_MS = 1000;

/**
 * Browser origins allowed: undefined = no rule (any origin may connect; HTTP answers carry no CORS headers);
 * a list (or '*') = only those. A request without an Origin header is not a browser's and is never refused.
 */
export function originAllowed(allowed: readonly string[] | undefined, origin: string | undefined): boolean {
  if (!allowed || origin === undefined) return true;
  return allowed.includes('*') || allowed.includes(origin);
}

export interface OpsOptions {
  readiness(): Readiness;
  metrics: ServerMetrics;
  allowedOrigins?: readonly string[];
}

export function registerOps(app: FastifyInstance, o: OpsOptions): void {
  app.get('/readyz', async (_req, reply) => {
    const state = o.readiness();
    return reply.code(state === 'ready' ? 200 : 503).send({ status: state });
  });
  // One rendering serves every scrape for METRICS_REUSE_MS of real time: it lists the process's open files and
  // handles (milliseconds with thousands of sockets), and anyone may ask. Real time: a simulated clock stands still.
  let last: { at: number; text: Promise<string> } | null = null;
  app.get('/metrics', async (_req, reply) => {
    const now = Date.now();
    if (!last || now - last.at >= METRICS_REUSE_MS || now < last.at) {
      const text = o.metrics.text();
      const mine = (last = { at: now, text });
      text.catch(() => last === mine && (last = null));
    }
    return reply.type(o.metrics.registry.contentType).send(await last.text);
  });
  const openapi = JSON.stringify(buildOpenApi(), null, 2);
  app.get('/openapi.json', async (_req, reply) => reply.type('application/json').send(openapi));

  const allowed = o.allowedOrigins;
  if (!allowed) return;
  // CORS: an allowed origin gets the headers (and its preflight an answer); any other browser origin is
  // refused before the route runs, because a "simple" cross-site POST would otherwise still be executed.
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (origin === undefined) return;
    if (!originAllowed(allowed, origin)) {
      return reply.code(403).send({ ActionStatus: 'FAIL', ErrorCode: 403, ErrorInfo: `origin '${origin}' is not allowed (serve --allowed-origins)` });
    }
    reply.header('access-control-allow-origin', allowed.includes('*') ? '*' : origin);
    reply.header('vary', 'Origin');
    if (req.method === 'OPTIONS') {
      return reply
        .code(204)
        .header('access-control-allow-methods', 'GET, POST, OPTIONS')
        .header('access-control-allow-headers', req.headers['access-control-request-headers'] ?? 'content-type')
        .header('access-control-max-age', '600')
        .send();
    }
    return undefined;
  });
  app.options('/*', async (_req, reply) => reply.code(204).send());
}

/** The WebSocket half of the origin rule: the upgrade's Origin header. */
export function upgradeOriginAllowed(allowed: readonly string[] | undefined, req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  return originAllowed(allowed, typeof origin === 'string' ? origin : undefined);
}
