// The admin REST API as an OpenAPI 3.1 document, generated from the zod schemas that rest.ts checks bodies
// with (z.toJSONSchema), so that the document cannot drift from the code. Served at /openapi.json and
// shipped as docs/openapi.json (`npm run docs:openapi`; a test keeps the two equal).
import { z } from 'zod';
import { version } from '../../package.json';
import { REST_SCHEMAS } from './rest';
import { AUDIT_SCHEMAS } from './restAudit';
import { BACKUP_SCHEMA } from './restBackup';

const envelope = {
  ActionStatus: z.enum(['OK', 'FAIL']),
  ErrorCode: z.number().int().describe('0 on success; the codes are in docs/server.md'),
  ErrorInfo: z.string(),
};
const resultItem = z.object({ To_Account: z.string(), ResultCode: z.number().int(), ResultInfo: z.string() });
const statusOut = z.object({ StatusType: z.number().int(), CustomStatus: z.string() });
const switchesOut = z.object({ UserStatus: z.enum(['on', 'off']), FriendStatusNotify: z.enum(['on', 'off']) });

/** What each command answers besides the envelope. */
const REPLIES = {
  'im_open_login_svc/account_import': z.object({}),
  'im_open_login_svc/multiaccount_import': z.object({ FailAccounts: z.array(z.string()) }),
  'sns/friend_add': z.object({ ResultItem: z.array(resultItem), Fail_Account: z.array(z.string()) }),
  'sns/friend_delete': z.object({ ResultItem: z.array(resultItem), Fail_Account: z.array(z.string()) }),
  'openim/query_online_status': z.object({
    QueryResult: z.array(
      z.object({
        To_Account: z.string(),
        Status: z.enum(['Online', 'PushOnline', 'Offline']),
        StatusType: z.number().int().describe('TYPES: 1 online, 2 offline, 3 unlogined'),
        Version: z.number().int(),
        CustomStatus: z.string().optional(),
        Detail: z
          .array(z.object({ Platform: z.enum(['Web', 'Android', 'iPhone', 'iPad', 'Mac', 'PC']), Status: z.enum(['Online', 'PushOnline', 'Disconnect']), DeviceId: z.string() }))
          .optional(),
      }),
    ),
    ErrorList: z.array(z.object({ To_Account: z.string(), ErrorCode: z.number().int(), ErrorInfo: z.string() })),
  }),
  'im_open_status/config': z.object({ Edition: z.enum(['trial', 'pro', 'ultimate']), Switches: switchesOut, Limits: z.record(z.string(), z.unknown()) }),
  'im_open_status/explain': z.object({
    UserID: z.string(),
    Total: z.number().int().describe('How many journaled steps the user has; Transitions holds the newest Limit of them'),
    Transitions: z.array(
      z.object({
        Seq: z.number().int(),
        At: z.number().int().describe('ms since the epoch, on the server clock'),
        Cause: z.string(),
        Event: z.string(),
        Reason: z.string(),
        From: z.string(),
        To: z.string(),
        Before: statusOut,
        After: statusOut,
        Version: z.number().int(),
        Devices: z.array(z.record(z.string(), z.unknown())),
      }),
    ),
  }),
  'im_open_status/journal': z.object({
    Entries: z.array(z.record(z.string(), z.unknown()).describe('One journal entry: seq, at, and the command or step it records')),
    NextSeq: z.number().int().describe('FromSeq of the next page'),
    FirstSeq: z.number().int().optional().describe('Where the kept journal starts (after compaction)'),
    SnapshotSeq: z.number().int().optional().describe('The seq of the snapshot the kept journal replays from'),
  }),
  'im_open_status/backup': z.object({
    File: z.string().describe('The copy, <data>/backups/status-engine-<UTC time>.db'),
    Bytes: z.number().int(),
    Seq: z.number().int().describe('The journal seq the server had reached when the copy was whole'),
    Removed: z.array(z.string()).optional().describe('With Keep: the older copies deleted (file names in <data>/backups)'),
    NotRemoved: z.array(z.object({ File: z.string(), Error: z.string() })).optional().describe('With Keep: older copies that could not be deleted, and why'),
  }),
} as const;

/** What each command takes: rest.ts's bodies, the audit reads' (restAudit.ts) and the backup's (restBackup.ts). */
const REQUESTS: Record<keyof typeof REPLIES, z.ZodType> = {
  ...REST_SCHEMAS,
  'im_open_status/explain': AUDIT_SCHEMAS.explain,
  'im_open_status/journal': AUDIT_SCHEMAS.journal,
  'im_open_status/backup': BACKUP_SCHEMA,
};

const SUMMARIES: Record<keyof typeof REPLIES, string> = {
  'im_open_login_svc/account_import': 'Register one user',
  'im_open_login_svc/multiaccount_import': 'Register many users',
  'sns/friend_add': "Add users to From_Account's friend list (Add_Type_Both: each to the other's)",
  'sns/friend_delete': "Remove users from From_Account's friend list",
  'openim/query_online_status': 'Query users\' status (EXT-9), with per-device detail on IsNeedDetail: 1',
  'im_open_status/config': 'Read ({}) or change the edition, console switches and limits at run time (GATE-1)',
  'im_open_status/explain': "Why a user shows what it shows: its status machine's journaled steps, oldest first (EXT-3)",
  'im_open_status/journal': 'Page through the audit journal from FromSeq (on a cluster node, Shard names the shard: each has its own)',
  'im_open_status/backup': 'Copy the SQLite store while serving, to <data>/backups (docs/operations.md); 60009 without a SQLite store',
};

const json = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

export function buildOpenApi(): Record<string, unknown> {
  const query = [
    ['sdkappid', 'The SDKAppID of this server', { type: 'integer' }],
    ['identifier', "The admin identifier: 'administrator'", { type: 'string', const: 'administrator' }],
    ['usersig', "The administrator's UserSig (status-engine usersig administrator)", { type: 'string' }],
    ['random', 'Any 32-bit number (Tencent style; not checked)', { type: 'integer' }],
    ['contenttype', "'json'", { type: 'string', const: 'json' }],
  ].map(([name, description, schema]) => ({ name, in: 'query', required: name !== 'random' && name !== 'contenttype', description, schema }));
  const paths: Record<string, unknown> = {};
  for (const name of Object.keys(REPLIES) as Array<keyof typeof REPLIES>) {
    const reply = (REPLIES[name] as z.ZodObject).extend(envelope);
    paths[`/v4/${name}`] = {
      post: {
        operationId: name.replace('/', '.'),
        summary: SUMMARIES[name],
        parameters: query,
        requestBody: { required: true, content: { 'application/json': { schema: json(REQUESTS[name], 'input') } } },
        responses: {
          '200': {
            description: "Always HTTP 200 in Tencent's style: ActionStatus OK, or FAIL with ErrorCode and ErrorInfo (the other fields are then absent)",
            content: { 'application/json': { schema: json(reply, 'output') } },
          },
          '404': { description: 'No such command (60009)', content: { 'application/json': { schema: json(z.object(envelope), 'output') } } },
          '413': { description: 'The body is over --body-limit (60002)', content: { 'application/json': { schema: json(z.object(envelope), 'output') } } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'status-engine admin REST API',
      version,
      description: "Tencent Cloud IM's REST style: POST, JSON in and out (any content type), every call proved by the administrator's UserSig in the query string.",
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: 'http://127.0.0.1:8080' }],
    paths,
  };
}
