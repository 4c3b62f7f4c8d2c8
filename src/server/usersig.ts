// UserSig, in the format of the npm package `tls-sig-api-v2` (Tencent's "TLS v2" signature): a JSON document
// {TLS.ver, TLS.identifier, TLS.sdkappid, TLS.time, TLS.expire, TLS.sig}, zlib-deflated, base64 with the
// characters + / = written * - _. TLS.sig is an HMAC-SHA256 (base64) of the other fields under the app's
// secret key. The server verifies it at login and on every admin call; `status-engine usersig` mints one.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { ErrorCode, StatusError } from '../errors';

/** The REST admin's identifier (API.md). */
export const ADMIN_IDENTIFIER = 'administrator';
/** A UserSig longer than this is not one (real ones are about 200 to 400 characters). */
const MAX_SIG_CHARS = 4096;
/** The inflated document is small; a bigger one is refused before it is read (no zip bombs). */
const MAX_DOC_BYTES = 8192;

const escape = (b64: string) => b64.replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
const unescape = (s: string) => s.replace(/_/g, '=').replace(/-/g, '/').replace(/\*/g, '+');

function hmac(key: string, f: { identifier: string; sdkappid: number; time: number; expire: number; userbuf?: string }): string {
  let content = `TLS.identifier:${f.identifier}\nTLS.sdkappid:${f.sdkappid}\nTLS.time:${f.time}\nTLS.expire:${f.expire}\n`;
  if (f.userbuf !== undefined) content += `TLS.userbuf:${f.userbuf}\n`;
  return createHmac('sha256', key).update(content).digest('base64');
}

/** Mints a UserSig for `identifier`, valid `expireSeconds` from `nowMs` (what `genUserSig` of tls-sig-api-v2 makes). */
export function genUserSig(opts: { sdkAppId: number; secretKey: string; identifier: string; expireSeconds: number; nowMs?: number }): string {
  if (/[\u0000-\u001f\u007f]/.test(String(opts.identifier))) {
    // The signed text is newline-separated fields: an identifier with a newline could be made to sign another one.
    throw new StatusError(ErrorCode.INVALID_PARAMETER, 'a UserSig cannot be made for an identifier with control characters', { param: 'identifier' });
  }
  const time = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  const doc = {
    'TLS.ver': '2.0',
    'TLS.identifier': String(opts.identifier),
    'TLS.sdkappid': Number(opts.sdkAppId),
    'TLS.time': time,
    'TLS.expire': Number(opts.expireSeconds),
    'TLS.sig': hmac(opts.secretKey, { identifier: String(opts.identifier), sdkappid: opts.sdkAppId, time, expire: opts.expireSeconds }),
  };
  return escape(deflateSync(Buffer.from(JSON.stringify(doc))).toString('base64'));
}

export interface VerifyOptions {
  sdkAppId: number;
  secretKey: string;
  nowMs: number;
}

const invalid = (why: string) => new StatusError(ErrorCode.USERSIG_INVALID, `UserSig refused: ${why}`, { param: 'userSig' });

/**
 * Checks a UserSig and returns the identifier it was made for. Refusals, in this order: missing, malformed
 * or forged 70003; made for another SDKAppID 70014; for another userID than `expected` 70013; expired 70001.
 * The signature is checked first, so that a forged document tells nothing about the others.
 */
export function verifyUserSig(sig: unknown, expected: string | undefined, opts: VerifyOptions): string {
  if (typeof sig !== 'string' || sig.length === 0) throw invalid('missing (expected a non-empty string)');
  if (sig.length > MAX_SIG_CHARS) throw invalid(`longer than ${MAX_SIG_CHARS} characters`);
  if (!/^[A-Za-z0-9*_-]+$/.test(sig)) throw invalid('not in the base64 alphabet of tls-sig-api-v2');
  let doc: Record<string, unknown>;
  try {
    const raw = inflateSync(Buffer.from(unescape(sig), 'base64'), { maxOutputLength: MAX_DOC_BYTES });
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    doc = parsed as Record<string, unknown>;
  } catch {
    throw invalid('malformed (not a deflated JSON document)');
  }
  const identifier = doc['TLS.identifier'];
  const sdkappid = doc['TLS.sdkappid'];
  const time = doc['TLS.time'];
  const expire = doc['TLS.expire'];
  const mac = doc['TLS.sig'];
  const userbuf = doc['TLS.userbuf'];
  if (
    doc['TLS.ver'] !== '2.0' ||
    typeof identifier !== 'string' ||
    typeof sdkappid !== 'number' ||
    typeof time !== 'number' ||
    typeof expire !== 'number' ||
    typeof mac !== 'string' ||
    (userbuf !== undefined && typeof userbuf !== 'string')
  ) {
    throw invalid('malformed (a TLS field is missing or of the wrong type)');
  }
  // The signed text is newline-separated `TLS.name:value` lines: a control character in a value (or a userbuf
  // that is not base64, as tls-sig-api-v2 writes it) could carry another field into the signature.
  if (/[\u0000-\u001f\u007f]/.test(identifier) || (typeof userbuf === 'string' && !/^[A-Za-z0-9+/=]*$/.test(userbuf))) {
    throw invalid('malformed (a control character in the identifier, or a userbuf that is not base64)');
  }
  const want = Buffer.from(hmac(opts.secretKey, { identifier, sdkappid, time, expire, userbuf: userbuf as string | undefined }));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !timingSafeEqual(want, got)) throw invalid('the signature does not match (forged, or made with another key)');
  if (sdkappid !== opts.sdkAppId) {
    throw new StatusError(ErrorCode.USERSIG_APP_MISMATCH, `UserSig refused: made for SDKAppID ${sdkappid}, this server is ${opts.sdkAppId}`, { param: 'userSig' });
  }
  if (expected !== undefined && identifier !== expected) {
    throw new StatusError(ErrorCode.USERSIG_USER_MISMATCH, `UserSig refused: made for '${identifier}', not '${expected}'`, { param: 'userSig' });
  }
  if ((time + expire) * 1000 < opts.nowMs) {
    throw new StatusError(ErrorCode.USERSIG_EXPIRED, `UserSig refused: expired at ${new Date((time + expire) * 1000).toISOString()}`, { param: 'userSig' });
  }
  return identifier;
}
