// The proof every admin REST call gives in its URL (rest.ts, restAudit.ts): this server's sdkappid, the
// administrator's identifier, and a UserSig of the administrator. Checked before the body is read.
import { StatusError } from '../errors';
import { WireCode } from '../protocol/codes';
import { ADMIN_IDENTIFIER } from './usersig';

export interface AdminProofOptions {
  sdkAppId: number;
  verifyUserSig(userID: string, userSig: unknown): string;
}

/** Why the URL's query does not prove the administrator, as the reply's ErrorCode and ErrorInfo; null when it does. */
export function adminProofFailure(q: Record<string, string | undefined>, o: AdminProofOptions): { code: number; info: string } | null {
  if (q.sdkappid === undefined || Number(q.sdkappid) !== o.sdkAppId) {
    const which = q.sdkappid === undefined ? 'is missing from the URL' : `'${q.sdkappid}' is not this server's`;
    return { code: WireCode.SDKAPPID_NOT_FOUND, info: `sdkappid ${which} (this server is ${o.sdkAppId})` };
  }
  if (q.identifier !== ADMIN_IDENTIFIER) {
    return { code: WireCode.NOT_ADMIN, info: `identifier '${q.identifier ?? ''}' is not the app administrator ('${ADMIN_IDENTIFIER}')` };
  }
  try {
    o.verifyUserSig(ADMIN_IDENTIFIER, q.usersig);
  } catch (e) {
    if (e instanceof StatusError) return { code: e.code, info: e.message };
    throw e;
  }
  return null;
}
