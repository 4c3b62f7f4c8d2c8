// Validation of settings changes (options of createEngine, configure, the admin REST config): GATE-1 says
// a change names only what it changes, so every key is optional, unknown keys are refused, and a bad value
// is answered with 6017 naming the key and the rule.
import { z } from 'zod';
import { EDITIONS } from '../../machines/spec';
import { invalidParameter } from '../errors';
import type { ConfigChange } from '../types';

const count = z.number().int().min(1).max(1_000_000_000);
const ms = z.number().int().min(0).max(10 * 365 * 24 * 3600 * 1000);

const limitsSchema = z
  .object({
    queryMaxUsers: count,
    subscribeMaxUsers: count,
    unsubscribeMaxUsers: count,
    rateLimit: z.object({ requests: count, windowMs: ms.min(1) }).partial().strict(),
    customStatusMaxBytes: z.number().int().min(0).max(1_000_000),
    subscriptionQuota: count,
    subscriptionClearAfterLogoutMs: ms,
    customStatusClearAfterLogoutMs: ms,
    webHeartbeatTimeoutMs: ms,
    nativeHeartbeatTimeoutMs: ms,
    maxWebInstances: count,
    maxDevicesPerNativePlatform: count,
    flapGraceMs: ms,
  })
  .partial()
  .strict();

const changeSchema = z
  .object({
    edition: z.enum(EDITIONS),
    switches: z.object({ userStatus: z.boolean(), friendStatusNotify: z.boolean() }).partial().strict(),
    limits: limitsSchema,
  })
  .partial()
  .strict();

/** Parses a settings change, dropping keys given as `undefined`; throws 6017 naming the first bad key. */
export function parseConfigChange(raw: unknown, param: string): ConfigChange {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidParameter(param, `expected an object with edition, switches or limits, got ${raw === null ? 'null' : typeof raw}`);
  }
  const result = changeSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0] as z.core.$ZodIssue;
    const where = [param, ...issue.path.map(String)].join('.');
    const message = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue.message;
    throw invalidParameter(where, message);
  }
  return withoutUndefined(result.data) as ConfigChange;
}

/** GATE-1: a key given as `undefined` names nothing, so it must not override a setting when merged. */
function withoutUndefined(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = withoutUndefined(x);
  return out;
}
