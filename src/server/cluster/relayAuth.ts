// Authenticating a relay between nodes (issue 13): a node that relays a client to the owner of its user
// proves it is a node of the cluster with a token MACed under a key derived from the app's secret key (the
// same on every node). A token names the node it is for and is good once: one seen on the wire cannot be
// replayed, to that node or another. The server checks the header at the WebSocket upgrade (RelayGate).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { NODE_ID } from '../config';

/** The upgrade header a relaying node sends. */
export const RELAY_HEADER = 'x-status-engine-relay';
/** A token older (or newer: the nodes' clocks differ) than this is refused. */
export const RELAY_TOKEN_TTL_MS = 60_000;
/** Tokens remembered as used (each until it would have expired anyway); past this the oldest are forgotten. */
export const RELAY_SEEN_MAX = 200_000;
/** One warning line per this long (real time) for refused relays, with how many there were. */
export const RELAY_REFUSAL_LOG_MS = 10_000;

const relayKey = (secretKey: string): Buffer => createHmac('sha256', secretKey).update('status-engine relay v2').digest();
const mac = (key: Buffer, body: string): string => createHmac('sha256', key).update(body).digest('base64url');

/** `v2.<from>.<to>.<ms>.<nonce>.<mac>`: who relays, to which node, when, a nonce, and the MAC over all of it. */
export function relayToken(secretKey: string, fromNode: string, toNode: string, nowMs: number): string {
  const body = `v2.${fromNode}.${toNode}.${Math.floor(nowMs)}.${randomBytes(12).toString('base64url')}`;
  return `${body}.${mac(relayKey(secretKey), body)}`;
}

export type RelayVerdict = { ok: true; fromNode: string } | { ok: false; reason: string };

/** The token's signature, node and age; `seen` (when given) says whether it was used before, and records it. */
export function checkRelayToken(secretKey: string, token: unknown, nowMs: number, self: string, seen?: (mac: string, expiresAt: number) => boolean): RelayVerdict {
  if (typeof token !== 'string' || token.length > 256) return { ok: false, reason: 'no relay token' };
  const parts = token.split('.');
  const [v, from, to, ms, nonce, got] = parts;
  if (parts.length !== 6 || v !== 'v2' || !NODE_ID.test(from!) || !NODE_ID.test(to!) || !/^\d{1,16}$/.test(ms!) || !/^[\w-]{16}$/.test(nonce!)) {
    return { ok: false, reason: 'malformed relay token' };
  }
  const want = Buffer.from(mac(relayKey(secretKey), parts.slice(0, 5).join('.')));
  const have = Buffer.from(got!);
  if (have.length !== want.length || !timingSafeEqual(have, want)) return { ok: false, reason: 'bad relay token (not signed with this cluster\'s secret key)' };
  if (Math.abs(nowMs - Number(ms)) > RELAY_TOKEN_TTL_MS) return { ok: false, reason: 'relay token expired' };
  if (to !== self) return { ok: false, reason: `relay token for node ${to}, not this one (${self})` };
  if (from === self) return { ok: false, reason: 'relay token from this node itself (its advertised address is wrong?)' };
  if (seen?.(got!, Number(ms) + RELAY_TOKEN_TTL_MS)) return { ok: false, reason: 'relay token used before (a replay)' };
  return { ok: true, fromNode: from! };
}

/** One node's check of relay tokens: its own id, the tokens used so far, and a quiet log of refusals. */
export class RelayGate {
  /** MAC -> when the token expires; insertion order is (nearly) expiry order. */
  private readonly used = new Map<string, number>();
  private refusedSinceLog = 0;
  private lastLog = Number.NEGATIVE_INFINITY;

  /** `self` null: a server that is not a cluster node refuses every relay (quietly too). */
  constructor(
    private readonly secretKey: string,
    private readonly self: string | null,
  ) {}

  /** `log`: a refusal to write a line for now, with how many were not written since the last one. */
  check(token: unknown, nowMs: number): RelayVerdict & { log?: { refused: number } } {
    const self = this.self;
    const verdict: RelayVerdict = self === null ? { ok: false, reason: 'not a cluster node' } : checkRelayToken(this.secretKey, token, nowMs, self, (m, expiresAt) => this.seen(m, expiresAt, nowMs));
    if (verdict.ok) return verdict;
    this.refusedSinceLog++;
    if (nowMs - this.lastLog < RELAY_REFUSAL_LOG_MS) return verdict;
    const refused = this.refusedSinceLog;
    this.refusedSinceLog = 0;
    this.lastLog = nowMs;
    return { ...verdict, log: { refused } };
  }

  private seen(m: string, expiresAt: number, nowMs: number): boolean {
    for (const [k, exp] of this.used) {
      if (exp > nowMs && this.used.size < RELAY_SEEN_MAX) break;
      this.used.delete(k);
    }
    if (this.used.has(m)) return true;
    this.used.set(m, expiresAt);
    return false;
  }

  /** Tokens remembered now. */
  get size(): number {
    return this.used.size;
  }
}
