// Authenticating a relay between nodes (issue 13): a node that relays a client to the owner of its user
// proves it is a node of the cluster with a token MACed under a key derived from the app's secret key (the
// same on every node). Pure functions; the server checks the header at the WebSocket upgrade.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { NODE_ID } from '../config';

/** The upgrade header a relaying node sends. */
export const RELAY_HEADER = 'x-status-engine-relay';
/** A token older (or newer) than this is refused: a captured one cannot be replayed for long. */
export const RELAY_TOKEN_TTL_MS = 60_000;

const relayKey = (secretKey: string): Buffer => createHmac('sha256', secretKey).update('status-engine relay v1').digest();
const mac = (key: Buffer, body: string): string => createHmac('sha256', key).update(body).digest('base64url');

/** `v1.<node>.<ms>.<mac>`: who relays, when the token was made, and the MAC over both. */
export function relayToken(secretKey: string, fromNode: string, nowMs: number): string {
  const body = `v1.${fromNode}.${Math.floor(nowMs)}`;
  return `${body}.${mac(relayKey(secretKey), body)}`;
}

export type RelayVerdict = { ok: true; fromNode: string } | { ok: false; reason: string };

export function checkRelayToken(secretKey: string, token: unknown, nowMs: number): RelayVerdict {
  if (typeof token !== 'string' || token.length > 256) return { ok: false, reason: 'no relay token' };
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1' || !NODE_ID.test(parts[1]!) || !/^\d{1,16}$/.test(parts[2]!)) return { ok: false, reason: 'malformed relay token' };
  const want = Buffer.from(mac(relayKey(secretKey), parts.slice(0, 3).join('.')));
  const got = Buffer.from(parts[3]!);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, reason: 'bad relay token (not signed with this cluster\'s secret key)' };
  if (Math.abs(nowMs - Number(parts[2])) > RELAY_TOKEN_TTL_MS) return { ok: false, reason: 'relay token expired' };
  return { ok: true, fromNode: parts[1]! };
}
