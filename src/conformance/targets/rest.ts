// The Tencent-style admin REST API as the suite's set-up: POST /v4/<service>/<command>?sdkappid=..
// &identifier=administrator&usersig=..&random=..&contenttype=json, {ActionStatus, ErrorCode, ErrorInfo}.
// It also probes the optional test hooks a server may offer (POST /v4/test/advance, /v4/test/drop).
import { randomInt } from 'node:crypto';
import { genUserSig } from '../../server/usersig';
import type { ConfigChange } from '../../types';
import type { AdminOps } from '../target';

export interface RestOptions {
  /** http://HOST:PORT of the admin API. */
  admin: string;
  sdkAppId: number;
  secretKey: string;
  /** The admin identity. Default 'administrator'. */
  identifier?: string;
}

export type Reply = Record<string, any> & { ActionStatus?: string; ErrorCode?: number; ErrorInfo?: string };

export interface RestAdmin extends AdminOps {
  /** Posts one command; the reply whatever it says. */
  post(command: string, body: unknown): Promise<Reply>;
  /** Posts one command; throws unless ActionStatus is OK. */
  ok(command: string, body: unknown): Promise<Reply>;
  /** The settings as im_open_status/config reports them (an empty change), or null when it refuses. */
  readSettings(): Promise<Reply | null>;
  userSig(userID: string): string;
}

const onOff = (v: boolean | undefined) => (v === undefined ? undefined : v ? 'on' : 'off');
/** Tencent's Status strings, for servers that do not add StatusType: Offline is "not logged in". */
const STATUS_TYPES: Record<string, number> = { Online: 1, PushOnline: 2, Offline: 3 };
const BATCH = 500;

export function restAdmin(o: RestOptions): RestAdmin {
  const identifier = o.identifier ?? 'administrator';
  const base = o.admin.replace(/\/+$/, '');
  const userSig = (userID: string) => genUserSig({ sdkAppId: o.sdkAppId, secretKey: o.secretKey, identifier: userID, expireSeconds: 86400 });
  const adminSig = userSig(identifier);
  const post = async (command: string, body: unknown): Promise<Reply> => {
    const q = new URLSearchParams({ sdkappid: String(o.sdkAppId), identifier, usersig: adminSig, random: String(randomInt(2 ** 32 - 1)), contenttype: 'json' });
    let res: Response;
    try {
      res = await fetch(`${base}/v4/${command}?${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (e) {
      // fetch says only "fetch failed": name the address and the cause (ECONNREFUSED, ENOTFOUND, ...).
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach the admin REST API at ${base} (${cause?.code ?? cause?.message ?? (e as Error).message}): is the server running, and is --admin its address?`, { cause: e });
    }
    const text = await res.text();
    try {
      return JSON.parse(text) as Reply;
    } catch {
      return { ActionStatus: 'FAIL', ErrorCode: res.status, ErrorInfo: `HTTP ${res.status}, not JSON: ${text.slice(0, 200)}` };
    }
  };
  const ok = async (command: string, body: unknown) => {
    const r = await post(command, body);
    if (r.ActionStatus !== 'OK') throw new Error(`admin ${command}: ${r.ErrorCode} ${r.ErrorInfo}`);
    return r;
  };
  const configure = async (c: ConfigChange) => {
    const body: Record<string, unknown> = {};
    if (c.edition) body.Edition = c.edition;
    if (c.switches) {
      body.Switches = Object.fromEntries(
        Object.entries({ UserStatus: onOff(c.switches.userStatus), FriendStatusNotify: onOff(c.switches.friendStatusNotify) }).filter(([, v]) => v !== undefined),
      );
    }
    if (c.limits) body.Limits = c.limits;
    await ok('im_open_status/config', body);
  };
  return {
    post,
    ok,
    userSig,
    async readSettings() {
      const r = await post('im_open_status/config', {});
      return r.ActionStatus === 'OK' ? r : null;
    },
    async register(ids) {
      for (let i = 0; i < ids.length; i += BATCH) await ok('im_open_login_svc/multiaccount_import', { Accounts: ids.slice(i, i + BATCH) });
    },
    addFriends: async (u, ids) => void (await ok('sns/friend_add', { From_Account: u, AddFriendItem: ids.map((To_Account) => ({ To_Account })) })),
    removeFriends: async (u, ids) => void (await ok('sns/friend_delete', { From_Account: u, To_Account: ids })),
    configure,
    async queryStatus(ids) {
      const r = await ok('openim/query_online_status', { To_Account: ids, IsReturnCustomStatus: 1 });
      return (r.QueryResult as Array<Record<string, any>>).map((q) => ({
        userID: q.To_Account as string,
        statusType: typeof q.StatusType === 'number' ? q.StatusType : (STATUS_TYPES[q.Status as string] ?? 0),
        customStatus: (q.CustomStatus as string | undefined) ?? '',
      }));
    },
  };
}

/** The test hooks a server offers: each is probed with a call that changes nothing. */
export async function probeHooks(rest: RestAdmin, probeUser: string): Promise<{ advance: boolean; drop: boolean }> {
  const [advance, drop] = await Promise.all([rest.post('test/advance', { Ms: 0 }), rest.post('test/drop', { To_Account: probeUser })]);
  return { advance: advance.ActionStatus === 'OK', drop: drop.ActionStatus === 'OK' };
}
