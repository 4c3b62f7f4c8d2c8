// The audit side of the admin REST API (EXT-3 over the server), in the Tencent REST style of rest.ts:
// POST /v4/im_open_status/explain {UserID} answers why a user shows what it shows (its status machine's
// journaled steps, oldest first); POST /v4/im_open_status/journal {FromSeq?, Limit?} pages the whole journal.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { EnginePort } from '../engine/port';
import { ErrorCode, StatusError } from '../errors';
import { WireCode } from '../protocol/codes';
import type { JournalEntry, StatusTransition } from '../types';
import { adminProofFailure } from './adminProof';
import { AuditTrail, type AuditEntry } from './rest';

export interface AuditRestOptions {
  core: EnginePort;
  sdkAppId: number;
  verifyUserSig(userID: string, userSig: unknown): string;
  /** Told of every call once it is answered, as rest.ts tells its own: the audit log and the refusal counter. */
  onCall?(call: AuditEntry): void;
}

/** The most journal entries one call returns; a caller pages on with NextSeq. */
export const JOURNAL_PAGE_MAX = 1000;

/** The audit reads' bodies (one process; a cluster node's journal also needs Shard: cluster/restAudit.ts). */
export const AUDIT_SCHEMAS = {
  explain: z.object({ UserID: z.string().min(1, 'must be a non-empty string').max(256, 'is over 256 characters'), Limit: z.number().int().min(1).max(JOURNAL_PAGE_MAX).optional() }).strict(),
  journal: z
    .object({
      FromSeq: z.number().int().min(0).optional(),
      Limit: z.number().int().min(1, `must be 1 to ${JOURNAL_PAGE_MAX}`).max(JOURNAL_PAGE_MAX, `is over ${JOURNAL_PAGE_MAX} (JOURNAL_PAGE_MAX)`).optional(),
    })
    .strict(),
} as const;
const schemas = AUDIT_SCHEMAS;

/** One step of a status machine in the REST style (PascalCase), as explain returns it. */
export function transitionRow(e: StatusTransition): Record<string, unknown> {
  return {
    Seq: e.seq,
    At: e.at,
    Cause: e.cause,
    Event: e.event,
    Reason: e.reason,
    From: e.from,
    To: e.to,
    Before: { StatusType: e.before.statusType, CustomStatus: e.before.customStatus },
    After: { StatusType: e.after.statusType, CustomStatus: e.after.customStatus },
    Version: e.version,
    Devices: e.devices,
  };
}

/** The admin proof an audit route checks from the URL (adminProof.ts), before the body is read. */
export type AuditProof = Pick<AuditRestOptions, 'sdkAppId' | 'verifyUserSig' | 'onCall'>;

/**
 * One audit route, `POST /v4/im_open_status/<name>`: the same proof as every admin call, then the body as a
 * JSON object through `schema` (the first issue named), then `run`'s fields in the Tencent REST style; a
 * StatusError is the answer's code. Shared by one process's routes and a cluster node's (cluster/restAudit.ts).
 */
export function auditRoute<S extends z.ZodType>(
  app: FastifyInstance,
  o: AuditProof,
  name: string,
  schema: S,
  run: (b: z.infer<S>) => Record<string, unknown> | Promise<Record<string, unknown>>,
): void {
  // Audit reads are admin calls too: each leaves its audit line, refused or not (docs/operations.md).
  const trail = new AuditTrail(o.onCall);
  const audit = (req: FastifyRequest, result: 'OK' | 'FAIL', code: number, info?: string) => trail.done(req, `im_open_status/${name}`, result, code, info);
  const fail = (reply: FastifyReply, code: number, info: string) => {
    audit(reply.request, 'FAIL', code, info);
    return reply.send({ ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info });
  };
  const gate = async (req: FastifyRequest, reply: FastifyReply) => {
    trail.start(req);
    const refused = adminProofFailure(req.query as Record<string, string | undefined>, o);
    if (refused) return fail(reply, refused.code, refused.info);
    return undefined;
  };
  app.post(`/v4/im_open_status/${name}`, { onRequest: gate }, async (req, reply) => {
    const text = typeof req.body === 'string' ? req.body : '';
    let body: unknown;
    try {
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return fail(reply, WireCode.BAD_JSON, 'the body is not valid JSON');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail(reply, WireCode.BAD_JSON, 'the body must be a JSON object');
    trail.body(req, body);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.map(String).join('.') || 'body';
      const what = issue?.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
      return fail(reply, WireCode.INVALID_BODY, `invalid ${where}: ${what}`);
    }
    try {
      const result = await run(parsed.data);
      audit(req, 'OK', 0);
      return reply.send({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...result });
    } catch (e) {
      if (e instanceof StatusError) return fail(reply, e.code === ErrorCode.INVALID_PARAMETER ? WireCode.INVALID_BODY : e.code, e.message);
      audit(req, 'FAIL', WireCode.INTERNAL, 'internal error');
      throw e;
    }
  });
}

export function registerAuditRest(app: FastifyInstance, o: AuditRestOptions): void {
  const route = <K extends keyof typeof schemas>(name: K, run: (b: z.infer<(typeof schemas)[K]>) => Record<string, unknown>) => auditRoute(app, o, name, schemas[name], run as (b: unknown) => Record<string, unknown>);

  route('explain', (b) => {
    const all = o.core.explain(b.UserID);
    // The newest `Limit` steps (all by default), oldest first as explain() gives them.
    const steps = b.Limit === undefined ? all : all.slice(-b.Limit);
    return { UserID: b.UserID, Total: all.length, Transitions: steps.map(transitionRow) };
  });

  route('journal', (b) => {
    const limit = b.Limit ?? JOURNAL_PAGE_MAX;
    const entries: JournalEntry[] = o.core.journal(b.FromSeq === undefined ? { limit } : { fromSeq: b.FromSeq, limit });
    const last = entries.at(-1);
    // Compaction (issue 9): where the kept journal starts, and the seq of the snapshot it replays from.
    const info = o.core.journalInfo?.();
    return { Entries: entries, NextSeq: last ? last.seq + 1 : (b.FromSeq ?? o.core.currentSeq + 1), ...(info ? { FirstSeq: info.firstSeq, SnapshotSeq: info.snapshotSeq } : {}) };
  });
}
