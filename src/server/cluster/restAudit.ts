// The audit reads of the admin REST API (restAudit.ts) on a cluster node: `im_open_status/explain {UserID}`
// asks the user's owner through the ClusterAdmin; `im_open_status/journal {Shard, FromSeq?, Limit?}` pages
// one shard's journal (each shard has its own sequence, so a cluster has no one journal). Same proof,
// same limits and error codes as on one process.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ClusterAdmin } from '../../cluster/service';
import { ErrorCode, StatusError } from '../../errors';
import { WireCode } from '../../protocol/codes';
import { adminProofFailure } from '../adminProof';
import { JOURNAL_PAGE_MAX, transitionRow } from '../restAudit';

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
  const fail = (reply: FastifyReply, code: number, info: string) => reply.send({ ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info });
  const gate = async (req: FastifyRequest, reply: FastifyReply) => {
    const refused = adminProofFailure(req.query as Record<string, string | undefined>, o);
    if (refused) return fail(reply, refused.code, refused.info);
    return undefined;
  };
  const route = <K extends keyof typeof schemas>(name: K, run: (b: z.infer<(typeof schemas)[K]>) => Promise<Record<string, unknown>>) =>
    app.post(`/v4/im_open_status/${name}`, { onRequest: gate }, async (req, reply) => {
      const text = typeof req.body === 'string' ? req.body : '';
      let body: unknown;
      try {
        body = text.trim() === '' ? {} : JSON.parse(text);
      } catch {
        return fail(reply, WireCode.BAD_JSON, 'the body is not valid JSON');
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail(reply, WireCode.BAD_JSON, 'the body must be a JSON object');
      const parsed = schemas[name].safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue?.path.map(String).join('.') || 'body';
        const what = issue?.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
        return fail(reply, WireCode.INVALID_BODY, `invalid ${where}: ${what}`);
      }
      try {
        return reply.send({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...(await run(parsed.data as z.infer<(typeof schemas)[K]>)) });
      } catch (e) {
        if (e instanceof StatusError) return fail(reply, e.code === ErrorCode.INVALID_PARAMETER ? WireCode.INVALID_BODY : e.code, e.message);
        throw e;
      }
    });

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
