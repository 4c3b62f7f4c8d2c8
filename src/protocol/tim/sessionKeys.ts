// The SDK's session keys (A2Key + TinyId): issued at a UserSig login, presented again by the SDK's relogin
// after a dropped socket, and mapped back to the user and device. Random, unguessable, and they expire.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Platform } from '../../../machines/spec';

export interface SessionKey<T> {
  a2: string;
  tinyId: string;
  userID: string;
  deviceId: string;
  platform: Platform;
  expiresAt: number;
  /** What the gateway keeps with the key (the device's connection and resume point). */
  data: T;
}

/** 12 hours: a relogin after a network drop comes within minutes; after this the app logs in with a UserSig again. */
export const DEFAULT_SESSION_KEY_TTL_MS = 12 * 60 * 60 * 1000;

export class SessionKeys<T> {
  private readonly byA2 = new Map<string, SessionKey<T>>();

  constructor(
    private readonly now: () => number,
    private readonly ttlMs: number = DEFAULT_SESSION_KEY_TTL_MS,
  ) {}

  get size(): number {
    return this.byA2.size;
  }

  issue(owner: { userID: string; deviceId: string; platform: Platform }, data: T): SessionKey<T> {
    this.sweep();
    const key: SessionKey<T> = {
      a2: randomBytes(32).toString('base64url'),
      // The SDK keeps TinyId as a string of digits; 63 random bits, never 0.
      tinyId: ((BigInt(`0x${randomBytes(8).toString('hex')}`) & 0x7fffffffffffffffn) | 1n).toString(),
      ...owner,
      expiresAt: this.now() + this.ttlMs,
      data,
    };
    this.byA2.set(key.a2, key);
    return key;
  }

  /** The live key with this A2Key and TinyId, or undefined (unknown, expired, or the TinyId does not match). */
  find(a2: unknown, tinyId: unknown): SessionKey<T> | undefined {
    if (typeof a2 !== 'string' || (typeof tinyId !== 'string' && typeof tinyId !== 'number')) return undefined;
    const key = this.byA2.get(a2);
    if (!key) return undefined;
    if (key.expiresAt <= this.now()) {
      this.byA2.delete(a2);
      return undefined;
    }
    const given = Buffer.from(String(tinyId));
    const held = Buffer.from(key.tinyId);
    return given.length === held.length && timingSafeEqual(given, held) ? key : undefined;
  }

  revoke(key: SessionKey<T>): void {
    if (this.byA2.get(key.a2) === key) this.byA2.delete(key.a2);
  }

  all(): IterableIterator<SessionKey<T>> {
    return this.byA2.values();
  }

  /**
   * Drops expired keys. Keys are issued with one TTL on a clock that does not go back, so the Map's
   * insertion order is expiry order: stop at the first live one.
   */
  sweep(): void {
    const now = this.now();
    for (const [a2, key] of this.byA2) {
      if (key.expiresAt > now) break;
      this.byA2.delete(a2);
    }
  }

  clear(): void {
    this.byA2.clear();
  }
}
