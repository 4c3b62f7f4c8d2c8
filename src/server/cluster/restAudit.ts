// The audit reads of the admin REST API (restAudit.ts) on a cluster node: `im_open_status/explain {UserID}`
// asks the user's owner through the ClusterAdmin; `im_open_status/journal {Shard, FromSeq?, Limit?}` pages
// one shard's journal (each shard has its own sequence, so a cluster has no one journal). Same proof,
// same limits and error codes as on one process.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ClusterAdmin } from '../../cluster/service';
import { auditRoute, JOURNAL_PAGE_MAX, transitionRow } from '../restAudit';

export interface ClusterAuditOptions {
  admin: ClusterAdmin;
  shardCount: number;
  sdkAppId: number;
  verifyUserSig(userID: string, userSig: unknown): string;
}

export function registerClusterAuditRest(app: FastifyInstance, o: ClusterAuditOptions): void {
  const schemas = {
    explain: z.object({ UserID: z.string().min(1, 'must be a non-empty string').max(256, 'is over 256 characters'), Limit: z.number().int().min(1).max(JOURNAL_PAGE_MAX).optional() }).strict(),
    journal: z
      .object({
        Shard: z.number({ error: 'is required on a cluster (each shard has its own journal)' }).int().min(0).max(o.shardCount - 1, `must be 0 to ${o.shardCount - 1} (the cluster's shards)`),
        FromSeq: z.number().int().min(0).optional(),
        Limit: z.number().int().min(1, `must be 1 to ${JOURNAL_PAGE_MAX}`).max(JOURNAL_PAGE_MAX, `is over ${JOURNAL_PAGE_MAX} (JOURNAL_PAGE_MAX)`).optional(),
      })
      .strict(),
  } as const;
  const route = <K extends keyof typeof schemas>(name: K, run: (b: z.infer<(typeof schemas)[K]>) => Promise<Record<string, unknown>>) => auditRoute(app, o, name, schemas[name], run as (b: unknown) => Promise<Record<string, unknown>>);

  route('explain', async (b) => {
    const all = await o.admin.explain(b.UserID);
    const steps = b.Limit === undefined ? all : all.slice(-b.Limit);
    return { UserID: b.UserID, Total: all.length, Transitions: steps.map(transitionRow) };
  });
  route('journal', async (b) => {
    const limit = b.Limit ?? JOURNAL_PAGE_MAX;
    const entries = await o.admin.journal(b.Shard, b.FromSeq === undefined ? { limit } : { fromSeq: b.FromSeq, limit });
    const last = entries.at(-1);
    return { Shard: b.Shard, Entries: entries, NextSeq: last ? last.seq + 1 : (b.FromSeq ?? 0) };
  });
}
