// The SDK's session keys (A2Key + TinyId): issued at a UserSig login, presented again by the SDK's relogin
// after a dropped socket, and mapped back to the user and device. Random, unguessable, and they expire.
// An A2Key is signed claims (user, device, TinyId, expiry, a random nonce) under the gateway's secret: in
// this process a table holds each key's live state and its revocation (logout, kick); after a restart, a
// server that keeps its secret can still read a key it issued before (the gateway then asks the engine
// whether that device is still logged in).
import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { PLATFORMS, type Platform } from '../../../machines/spec';

export interface KeyClaims {
  userID: string;
  deviceId: string;
  platform: Platform;
  tinyId: string;
  /** The SDK's status instance id for this device. */
  instId: number;
  expiresAt: number;
}

export interface SessionKey<T> extends KeyClaims {
  a2: string;
  /** What the gateway keeps with the key (the device's connection and resume point). */
  data: T;
}

export type FoundKey<T> =
  /** Issued (or adopted) by this process, and not revoked. */
  | { key: SessionKey<T> }
  /** Signed by this secret but unknown here: issued before a restart. */
  | { claims: KeyClaims; a2: string };

/** 12 hours: a relogin after a network drop comes within minutes; after this the app logs in with a UserSig again. */
export const DEFAULT_SESSION_KEY_TTL_MS = 12 * 60 * 60 * 1000;

/**
 * Keys of one user that no socket holds, kept in memory: an SDK logs in with its UserSig on every page load
 * (and one looping after a refusal, many times a second), and each login is a key for 12 h. Past this the
 * oldest go from memory; a key that went is still genuine (its signature), and its relogin is answered as
 * one issued before a restart: good while the engine still holds that device. Only its resume point is lost.
 */
export const MAX_IDLE_KEYS_PER_USER = 32;
/**
 * Revocations remembered (logout, kick), the oldest forgotten first. A forgotten one is still refused while
 * its device is gone from the engine (after a logout or a kick it is), as a key from before a restart is.
 */
export const MAX_REVOKED_KEYS = 50_000;

const VERSION = 1;
const b64url = (b: Buffer): string => b.toString('base64url');

export class SessionKeys<T> {
  private readonly live = new Map<string, SessionKey<T>>();
  /** Each user's live keys, oldest first (for the cap on the idle ones). */
  private readonly byUser = new Map<string, Set<string>>();
  /** Keys revoked in this process, until they would have expired anyway. */
  private readonly revoked = new Map<string, number>();
  private readonly secret: Buffer;
  private lastSweep = Number.NEGATIVE_INFINITY;

  /**
   * `secret`: keys signed with it can be read by any process that has it (a restart). Without one, a
   * random secret: keys die with the process. The secret is hashed with a label first, so the same
   * secret can serve other purposes (e.g. the UserSig key) without its MACs ever meeting.
   */
  constructor(
    private readonly now: () => number,
    private readonly ttlMs: number = DEFAULT_SESSION_KEY_TTL_MS,
    secret?: string | Buffer,
    /** Whether a socket holds the key's device now (such a key is never dropped from memory). */
    private readonly inUse: (data: T) => boolean = () => false,
  ) {
    this.secret = createHmac('sha256', secret ?? randomBytes(32)).update('status-engine tim session key v1').digest();
  }

  get size(): number {
    return this.live.size;
  }

  issue(owner: { userID: string; deviceId: string; platform: Platform }, data: T): SessionKey<T> {
    // Expired entries go at most once a minute: a sweep is linear, a login must not be.
    if (this.now() - this.lastSweep >= 60_000) this.sweep();
    const claims: KeyClaims = {
      ...owner,
      // The SDK keeps TinyId as a string of digits: 63 random bits, never 0.
      tinyId: ((BigInt(`0x${randomBytes(8).toString('hex')}`) & 0x7fffffffffffffffn) | 1n).toString(),
      instId: randomInt(1, 2 ** 31 - 1),
      expiresAt: this.now() + this.ttlMs,
    };
    const payload = b64url(
      Buffer.from(JSON.stringify([VERSION, claims.userID, claims.deviceId, claims.platform, claims.tinyId, claims.instId, claims.expiresAt, b64url(randomBytes(16))])),
    );
    const a2 = `${payload}.${this.mac(payload)}`;
    const key: SessionKey<T> = { ...claims, a2, data };
    this.add(key);
    return key;
  }

  /** Registers a key found by `find` as `claims` (issued before a restart) with its new live state. */
  adopt(found: { claims: KeyClaims; a2: string }, data: T): SessionKey<T> {
    const key: SessionKey<T> = { ...found.claims, a2: found.a2, data };
    this.add(key);
    return key;
  }

  private add(key: SessionKey<T>): void {
    this.live.set(key.a2, key);
    let mine = this.byUser.get(key.userID);
    if (!mine) this.byUser.set(key.userID, (mine = new Set()));
    mine.add(key.a2);
    if (mine.size <= MAX_IDLE_KEYS_PER_USER) return;
    let idle = 0;
    for (const a2 of mine) if (!this.inUse(this.live.get(a2)!.data)) idle++;
    for (const a2 of mine) {
      if (idle <= MAX_IDLE_KEYS_PER_USER) break;
      if (a2 === key.a2 || this.inUse(this.live.get(a2)!.data)) continue;
      this.drop(a2);
      idle--;
    }
  }

  private drop(a2: string): void {
    const key = this.live.get(a2);
    if (!key) return;
    this.live.delete(a2);
    const mine = this.byUser.get(key.userID);
    mine?.delete(a2);
    if (mine?.size === 0) this.byUser.delete(key.userID);
  }

  /** The key with this A2Key and TinyId, if it is genuine, unexpired, unrevoked and the TinyId matches. */
  find(a2: unknown, tinyId: unknown): FoundKey<T> | undefined {
    if (typeof a2 !== 'string' || a2.length > 2048 || (typeof tinyId !== 'string' && typeof tinyId !== 'number')) return undefined;
    const now = this.now();
    const key = this.live.get(a2);
    if (key) {
      if (key.expiresAt <= now) {
        this.drop(a2);
        return undefined;
      }
      return sameString(String(tinyId), key.tinyId) ? { key } : undefined;
    }
    if (this.revoked.has(a2)) return undefined;
    const claims = this.verify(a2);
    if (!claims || claims.expiresAt <= now || !sameString(String(tinyId), claims.tinyId)) return undefined;
    return { claims, a2 };
  }

  revoke(key: SessionKey<T>): void {
    if (this.live.get(key.a2) === key) this.drop(key.a2);
    this.revoked.set(key.a2, key.expiresAt);
    if (this.revoked.size > MAX_REVOKED_KEYS) this.revoked.delete(this.revoked.keys().next().value!);
  }

  /** Revocations remembered now. */
  get revokedCount(): number {
    return this.revoked.size;
  }

  /** Drops expired keys and revocations. */
  sweep(): void {
    const now = this.now();
    this.lastSweep = now;
    for (const [a2, key] of this.live) if (key.expiresAt <= now) this.drop(a2);
    for (const [a2, exp] of this.revoked) if (exp <= now) this.revoked.delete(a2);
  }

  clear(): void {
    this.live.clear();
    this.byUser.clear();
    this.revoked.clear();
  }

  private mac(payload: string): string {
    return b64url(createHmac('sha256', this.secret).update(payload).digest());
  }

  private verify(a2: string): KeyClaims | undefined {
    const dot = a2.indexOf('.');
    if (dot <= 0) return undefined;
    const payload = a2.slice(0, dot);
    if (!sameString(a2.slice(dot + 1), this.mac(payload))) return undefined;
    try {
      const v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown[];
      const [version, userID, deviceId, platform, tinyId, instId, expiresAt] = v;
      if (version !== VERSION || typeof userID !== 'string' || typeof deviceId !== 'string' || typeof tinyId !== 'string') return undefined;
      if (!(PLATFORMS as readonly unknown[]).includes(platform) || typeof instId !== 'number' || typeof expiresAt !== 'number') return undefined;
      return { userID, deviceId, platform: platform as Platform, tinyId, instId, expiresAt };
    } catch {
      return undefined;
    }
  }
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
