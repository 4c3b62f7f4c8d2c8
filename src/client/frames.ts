// What the remote client makes of the server's side of the client protocol (docs/protocol.md): its URL, the
// frames it trusts, the errors they carry, and which refusals end a session for good.
import { ErrorCode, StatusError, invalidParameter } from '../errors';
import { WireCode } from '../protocol/codes';
import { WS_PATH, type ServerFrame, type WireError } from '../protocol/messages';

/** Codes after which resuming cannot work: the user must log in again. */
export const FINAL_RESUME_CODES = new Set<number>([
  ErrorCode.USERSIG_EXPIRED,
  ErrorCode.USERSIG_INVALID,
  ErrorCode.USERSIG_USER_MISMATCH,
  ErrorCode.USERSIG_APP_MISMATCH,
  ErrorCode.NOT_LOGGED_IN,
  ErrorCode.USER_NOT_FOUND,
  ErrorCode.INVALID_PARAMETER,
]);

export const lost = (why: string) => new StatusError(WireCode.CONNECTION_LOST, `connection to the server lost: ${why}`);

/** The client's server URLs: one, or a non-empty list of them (tried in turn when one fails). */
export function toSocketUrls(raw: unknown): URL[] {
  if (typeof raw === 'string') return [toSocketUrl(raw)];
  if (!Array.isArray(raw) || raw.length === 0) throw invalidParameter('url', 'expected a URL or a non-empty list of URLs');
  return raw.map((one: unknown, i) => {
    if (typeof one !== 'string') throw invalidParameter(`url[${i}]`, `expected a URL string, got ${typeof one}`);
    return toSocketUrl(one, `url[${i}]`);
  });
}

export function toSocketUrl(raw: string, name = 'url'): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalidParameter(name, `expected 'ws://HOST:PORT' or 'http://HOST:PORT', got '${raw}'`);
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw invalidParameter(name, `expected a ws, wss, http or https URL, got '${u.protocol}'`);
  if (u.pathname === '' || u.pathname === '/') u.pathname = WS_PATH;
  return u;
}

export function fromWire(e: WireError | undefined): StatusError {
  if (e === null || typeof e !== 'object' || typeof e.code !== 'number') {
    return new StatusError(ErrorCode.INTERNAL, 'the server answered with an error of no known shape');
  }
  const { code, message, ...details } = e;
  return new StatusError(code, String(message), details);
}

/** The shapes a server frame may have; anything else is dropped rather than trusted (the app's process is ours). */
export function isFrame(f: unknown): f is ServerFrame {
  if (f === null || typeof f !== 'object') return false;
  const o = f as Record<string, unknown>;
  if (o.t === 'res') return (o.id === null || typeof o.id === 'number' || typeof o.id === 'string') && typeof o.ok === 'boolean';
  if (o.t === 'push') {
    const e = o.event as Record<string, unknown> | null | undefined;
    return typeof o.seq === 'number' && e !== null && typeof e === 'object' && typeof e.name === 'string';
  }
  return o.t === 'hello';
}
