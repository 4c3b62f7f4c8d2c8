// GET /healthz: liveness for anyone ({status, mode}; in cluster mode 503 while Redis is not ready); the
// counts, and a cluster node's names and internal address, only with the admin proof in the query (as the
// REST API takes it, adminProof.ts) or with `healthDetail: 'public'` (a port only operators reach).
import type { FastifyInstance } from 'fastify';
import { adminProofFailure } from './adminProof';

export interface HealthOptions {
  detail: 'admin' | 'public';
  mode: 'single' | 'cluster';
  sdkAppId: number;
  verifyUserSig(userID: string, userSig: unknown): string;
  /** Cluster mode: this node's lines (their status decides the code). */
  node(): { status: 'ok' | 'unhealthy' } | null;
  /** The counts (read only when they are shown). */
  counts(): Record<string, unknown>;
}

export function registerHealth(app: FastifyInstance, o: HealthOptions): void {
  app.get('/healthz', async (req, reply) => {
    const node = o.node();
    if (node && node.status !== 'ok') reply.code(503);
    if (o.detail !== 'public') {
      const q = req.query as Record<string, string | undefined>;
      if (q.usersig === undefined && q.identifier === undefined && q.sdkappid === undefined) return { status: node?.status ?? 'ok', mode: o.mode };
      const refused = adminProofFailure(q, o);
      if (refused) return reply.code(403).send({ ActionStatus: 'FAIL', ErrorCode: refused.code, ErrorInfo: refused.info });
    }
    return { status: 'ok', mode: o.mode, ...node, ...o.counts() };
  });
}
