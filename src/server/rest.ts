// The admin REST API of API.md, in Tencent Cloud IM's REST style: POST /v4/<service>/<command>?sdkappid=..
// &identifier=administrator&usersig=..&random=..&contenttype=json, JSON in and out, always
// {ActionStatus, ErrorCode, ErrorInfo, ...}. Every call proves the administrator's UserSig; bodies are checked
// with zod and a bad one changes nothing; the same schemas make the OpenAPI document (openapi.ts). Every call,
// refused or not, leaves one audit line (who, what, result). Codes: src/protocol/codes.ts and src/errors.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ADMIN_MAX_USERS_PER_CALL, type Platform } from '../../machines/spec';
import type { EnginePort } from '../engine/port';
import { loneSurrogateAt } from '../engine/validate';
import { ErrorCode, StatusError } from '../errors';
import { WireCode } from '../protocol/codes';
import type { AdminStatus, ConfigChange } from '../types';
import { adminProofFailure } from './adminProof';
import { frameBoundsError } from './link/bounds';
import { clientAddressOf } from './clientAddress';

/**
 * The admin calls REST makes: the engine port's (synchronous, one process) or a cluster's ClusterAdmin
 * (asynchronous: split by shard, sent to the owners), whichever node the call reached.
 */
export type RestAdmin = {
  [K in 'registerUsers' | 'hasUser' | 'changeFriends' | 'configure' | 'settings' | 'queryStatus']: (
    ...args: Parameters<EnginePort[K]>
  ) => ReturnType<EnginePort[K]> | Promise<ReturnType<EnginePort[K]>>;
};

export interface RestOptions {
  core: RestAdmin;
  sdkAppId: number;
  /** Verifies the administrator's UserSig (throws StatusError 70001/70003/70013/70014). */
  verifyUserSig(userID: string, userSig: unknown): string;
  /** `serve --clock simulated` only: the test endpoints /v4/test/advance and /v4/test/drop. */
  test?: { advance(ms: number): number; drop(userID: string): number };
  /** Told of every call once it is answered: the audit log and the refusal counter. */
  onCall?(call: AuditEntry): void;
}

/** One admin call as the audit log records it. */
export interface AuditEntry {
  /** The identifier the URL named (the administrator once the UserSig is proved), and where from. */
  who: string;
  ip: string;
  /** `service/command`. */
  what: string;
  /** The users the call named (first few), so that the log says whom it touched. */
  users?: string[];
  result: 'OK' | 'FAIL';
  code: number;
  info?: string;
  ms: number;
}

type Body = Record<string, unknown>;
type Result = Record<string, unknown>;

const userID = z
  .string()
  .min(1, 'must be a non-empty string')
  .max(256, 'is over 256 characters')
  // A lone surrogate has no UTF-8 form: SQLite could not keep the user (the engine refuses it too).
  .refine((v) => loneSurrogateAt(v) < 0, 'is not well-formed text (a lone surrogate)');
const idList = (max: number) => z.array(userID).min(1, 'must not be empty').max(max, `is over ${max} entries`);
const flag = z.union([z.literal(0), z.literal(1)]);
/** A console switch: true/false, 1/0, or the strings "on"/"off", "true"/"false", "1"/"0" (any case), as docs/server.md says. */
const onOff = z.union([z.boolean(), z.literal(0), z.literal(1), z.string().regex(/^(on|off|On|Off|ON|OFF|true|false|True|False|TRUE|FALSE|1|0)$/, 'must be on/off, true/false or 1/0')]);

/** The request bodies, by `service/command` (the test ones only with serve --clock simulated). */
export const REST_SCHEMAS = {
  'im_open_login_svc/account_import': z
    .object({ UserID: userID.optional(), Identifier: userID.optional(), Nick: z.string().optional(), FaceUrl: z.string().optional() })
    .refine((b) => b.UserID !== undefined || b.Identifier !== undefined, { message: 'UserID is required', path: ['UserID'] }),
  'im_open_login_svc/multiaccount_import': z.object({ Accounts: idList(ADMIN_MAX_USERS_PER_CALL) }),
  'sns/friend_add': z.object({
    From_Account: userID,
    AddFriendItem: z.array(z.object({ To_Account: userID }).passthrough()).min(1, 'must not be empty').max(ADMIN_MAX_USERS_PER_CALL),
    AddType: z.enum(['Add_Type_Single', 'Add_Type_Both']).optional(),
    ForceAddFlags: flag.optional(),
  }),
  'sns/friend_delete': z.object({
    From_Account: userID,
    To_Account: idList(ADMIN_MAX_USERS_PER_CALL),
    DeleteType: z.enum(['Delete_Type_Single', 'Delete_Type_Both']).optional(),
  }),
  'openim/query_online_status': z.object({
    To_Account: z.array(userID).min(1, 'must not be empty'),
    IsNeedDetail: flag.optional(),
    IsReturnCustomStatus: flag.optional(),
  }),
  'im_open_status/config': z
    .object({
      Edition: z.string().optional(),
      Switches: z.object({ UserStatus: onOff.optional(), FriendStatusNotify: onOff.optional() }).strict().optional(),
      Limits: z.record(z.string(), z.unknown()).optional(),
    })
    .strict(),
  'test/advance': z.object({ Ms: z.number().int().min(0).max(10 * 365 * 24 * 3600 * 1000) }).strict(),
  'test/drop': z.object({ To_Account: userID }).strict(),
} as const;
const schemas = REST_SCHEMAS;
type Command = keyof typeof schemas;

/** Tencent's names of the platforms, as query_online_status reports them. */
export const PLATFORM_NAMES: Record<Platform, string> = { web: 'Web', android: 'Android', ios: 'iPhone', mac: 'Mac', windows: 'PC', ipad: 'iPad' };

const isOn = (v: z.infer<typeof onOff>): boolean => v === true || v === 1 || (typeof v === 'string' && /^(on|true|1)$/i.test(v));

export function registerRest(app: FastifyInstance, o: RestOptions): void {
  const { core } = o;

  const trail = new AuditTrail(o.onCall);
  const audit = (req: FastifyRequest, result: 'OK' | 'FAIL', code: number, info?: string) => {
    const { service, command } = req.params as { service: string; command: string };
    trail.done(req, `${service}/${command}`, result, code, info);
  };
  const fail = (reply: FastifyReply, code: number, info: string, http = 200) => {
    audit(reply.request, 'FAIL', code, info);
    return reply.code(http).send({ ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info });
  };

  const handlers: Record<Command, (b: any) => Result | Promise<Result>> = {
    'im_open_login_svc/account_import': async (b: { UserID?: string; Identifier?: string }) => {
      await core.registerUsers([(b.UserID ?? b.Identifier) as string]);
      return {};
    },
    'im_open_login_svc/multiaccount_import': async (b: { Accounts: string[] }) => {
      await core.registerUsers(b.Accounts);
      return { FailAccounts: [] };
    },
    'sns/friend_add': (b: { From_Account: string; AddFriendItem: Array<{ To_Account: string }>; AddType?: string }) =>
      changeFriends(b.From_Account, b.AddFriendItem.map((i) => i.To_Account), true, b.AddType === 'Add_Type_Both'),
    'sns/friend_delete': (b: { From_Account: string; To_Account: string[]; DeleteType?: string }) =>
      changeFriends(b.From_Account, b.To_Account, false, b.DeleteType === 'Delete_Type_Both'),
    'openim/query_online_status': async (b: { To_Account: string[]; IsNeedDetail?: 0 | 1; IsReturnCustomStatus?: 0 | 1 }) => {
      const rows = await core.queryStatus(b.To_Account, { detail: b.IsNeedDetail === 1 });
      const QueryResult: Result[] = [];
      const ErrorList: Result[] = [];
      for (const r of rows) {
        if (r.error) ErrorList.push({ To_Account: r.userID, ErrorCode: r.error.code, ErrorInfo: r.error.message });
        else QueryResult.push(onlineStatus(r, b.IsNeedDetail === 1, b.IsReturnCustomStatus !== 0));
      }
      return { QueryResult, ErrorList };
    },
    'im_open_status/config': async (b: { Edition?: string; Switches?: { UserStatus?: z.infer<typeof onOff>; FriendStatusNotify?: z.infer<typeof onOff> }; Limits?: Record<string, unknown> }) => {
      const change: ConfigChange = {};
      if (b.Edition !== undefined) change.edition = b.Edition.toLowerCase() as ConfigChange['edition'];
      if (b.Switches) {
        change.switches = {};
        if (b.Switches.UserStatus !== undefined) change.switches.userStatus = isOn(b.Switches.UserStatus);
        if (b.Switches.FriendStatusNotify !== undefined) change.switches.friendStatusNotify = isOn(b.Switches.FriendStatusNotify);
      }
      if (b.Limits) change.limits = b.Limits as ConfigChange['limits'];
      // An empty body only reads the settings (GATE-1: a change names what it changes, so {} changes nothing).
      if (Object.keys(change).length > 0) await core.configure(change);
      const s = await core.settings();
      return {
        Edition: s.edition,
        Switches: { UserStatus: s.switches.userStatus ? 'on' : 'off', FriendStatusNotify: s.switches.friendStatusNotify ? 'on' : 'off' },
        Limits: s.limits,
      };
    },
    'test/advance': (b: { Ms: number }) => ({ Now: o.test!.advance(b.Ms) }),
    'test/drop': (b: { To_Account: string }) => ({ Dropped: o.test!.drop(b.To_Account) }),
  };

  /** Per entry, as Tencent's friend APIs answer: an unknown friend fails alone; an unknown owner fails the call. */
  async function changeFriends(from: string, ids: string[], add: boolean, both: boolean): Promise<Result> {
    if (!(await core.hasUser(from))) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${from}' is not registered`, { param: 'From_Account' });
    const ResultItem: Result[] = [];
    const ok: string[] = [];
    const unique = [...new Set(ids)];
    // Asked together: on a cluster each is a question to the user's owner node.
    const known = await Promise.all(unique.map((id) => core.hasUser(id)));
    for (const [i, id] of unique.entries()) {
      if (!known[i]) ResultItem.push({ To_Account: id, ResultCode: ErrorCode.USER_NOT_FOUND, ResultInfo: `user '${id}' is not registered` });
      else if (id === from) ResultItem.push({ To_Account: id, ResultCode: WireCode.INVALID_BODY, ResultInfo: 'a user cannot be its own friend' });
      else {
        ok.push(id);
        ResultItem.push({ To_Account: id, ResultCode: 0, ResultInfo: '' });
      }
    }
    if (ok.length > 0) {
      await core.changeFriends(from, ok, add, both);
    }
    return { ResultItem, Fail_Account: ResultItem.filter((r) => r.ResultCode !== 0).map((r) => r.To_Account) };
  }

  /** Who is asking, checked from the URL before the body is read: an unauthenticated caller costs no body. */
  const gate = async (req: FastifyRequest, reply: FastifyReply) => {
    trail.start(req);
    const { service, command } = req.params as { service: string; command: string };
    const name = `${service}/${command}`;
    const isTest = service === 'test';
    if (!(name in schemas) || (isTest && !o.test)) {
      return fail(reply, WireCode.UNKNOWN_COMMAND, `unknown command /v4/${name}${isTest ? ' (test endpoints need serve --clock simulated)' : ''}`, 404);
    }
    const refused = adminProofFailure(req.query as Record<string, string | undefined>, o);
    if (refused) return fail(reply, refused.code, refused.info);
    return undefined;
  };

  app.post('/v4/:service/:command', { onRequest: gate }, async (req, reply) => {
    const { service, command } = req.params as { service: string; command: string };
    const name = `${service}/${command}`;
    let body: unknown;
    const text = typeof req.body === 'string' ? req.body : '';
    try {
      body = text.trim() === '' ? {} : JSON.parse(text);
    } catch {
      return fail(reply, WireCode.BAD_JSON, 'the body is not valid JSON');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail(reply, WireCode.BAD_JSON, 'the body must be a JSON object');
    const over = frameBoundsError(body);
    if (over) return fail(reply, WireCode.INVALID_BODY, `invalid body: ${over.message.replace('frame', 'body')}`);
    trail.body(req, body);
    const parsed = schemas[name as Command].safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.map(String).join('.') || 'body';
      const what = issue?.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
      return fail(reply, WireCode.INVALID_BODY, `invalid ${where}: ${what}`);
    }
    try {
      const result = await handlers[name as Command](parsed.data as Body);
      audit(req, 'OK', 0);
      return reply.send({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...result });
    } catch (e) {
      if (e instanceof StatusError) {
        // The engine's 6017 is a bad field of this body; the other codes (70107, ...) mean the same here.
        return fail(reply, e.code === ErrorCode.INVALID_PARAMETER ? WireCode.INVALID_BODY : e.code, e.message);
      }
      audit(req, 'FAIL', WireCode.INTERNAL, 'internal error');
      throw e;
    }
  });
}

/**
 * The audit line of admin calls (rest.ts's and the audit reads' of restAudit.ts): when a call started, the body
 * it named, then `onCall` once it is answered, refused or not.
 */
export class AuditTrail {
  private readonly started = new WeakMap<FastifyRequest, number>();
  private readonly bodies = new WeakMap<FastifyRequest, unknown>();
  constructor(private readonly onCall: ((call: AuditEntry) => void) | undefined) {}
  start(req: FastifyRequest): void {
    this.started.set(req, performance.now());
  }
  body(req: FastifyRequest, body: unknown): void {
    this.bodies.set(req, body);
  }
  done(req: FastifyRequest, what: string, result: 'OK' | 'FAIL', code: number, info?: string): void {
    if (!this.onCall) return;
    const t0 = this.started.get(req);
    this.onCall({
      who: (req.query as Record<string, string | undefined>).identifier ?? '',
      ip: clientAddressOf(req.raw) ?? req.ip,
      what,
      ...(namedUsers(this.bodies.get(req)) ?? {}),
      result,
      code,
      ...(info ? { info } : {}),
      ms: t0 === undefined ? 0 : Math.round((performance.now() - t0) * 1000) / 1000,
    });
  }
}

/** The users a body names, for the audit line: at most 10, and how many there were. */
function namedUsers(body: unknown): { users: string[] } | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const ids: string[] = [];
  let all = 0;
  const take = (v: unknown) => {
    if (typeof v === 'string') {
      if (all++ < 10) ids.push(v);
    } else if (Array.isArray(v)) for (const x of v) take(typeof x === 'object' && x !== null ? (x as Record<string, unknown>).To_Account : x);
  };
  for (const k of ['UserID', 'Identifier', 'From_Account', 'To_Account', 'Accounts', 'AddFriendItem']) take(b[k]);
  if (all === 0) return undefined;
  return { users: all > 10 ? [...ids, `(${all} in all)`] : ids };
}

/** EXT-9 in query_online_status's shape: Online / PushOnline (native, logged in, not connected) / Offline. */
function onlineStatus(r: AdminStatus, detail: boolean, custom: boolean): Result {
  const Status = r.statusType === 1 ? 'Online' : r.statusType === 2 ? 'PushOnline' : 'Offline';
  const out: Result = { To_Account: r.userID, Status, StatusType: r.statusType, Version: r.version };
  if (custom) out.CustomStatus = r.customStatus;
  if (detail) {
    out.Detail = (r.devices ?? []).map((d) => ({
      Platform: PLATFORM_NAMES[d.platform],
      Status: d.connected ? 'Online' : d.pushOnline ? 'PushOnline' : 'Disconnect',
      DeviceId: d.deviceId,
    }));
  }
  return out;
}
