// Red team: a Web SDK that logs in with its UserSig again and again (a page reloaded, an SDK looping after a
// 1008) made the gateway keep every session key it was issued, with its state, for the key's whole life
// (12 h): 5,000 logins kept ~6 MB until the sweep, so memory grew with the login rate. Now a user's keys that
// no socket holds are capped (the oldest go first; one a socket holds is never dropped), and so are the
// revocations. A key dropped from memory is still a genuine key: its relogin is answered as after a restart
// (good while the engine still holds that device), so nothing an honest SDK needs is lost.
import { describe, expect, it } from 'vitest';
import { MAX_IDLE_KEYS_PER_USER, MAX_REVOKED_KEYS, SessionKeys } from '../../../src/protocol/tim/sessionKeys';

type State = { conn: object | null };
const owner = (userID: string, n: number) => ({ userID, deviceId: `dev-${n}`, platform: 'web' as const });

describe('session keys are bounded per user', () => {
  it('keys no socket holds: at most MAX_IDLE_KEYS_PER_USER per user, the oldest dropped; held ones are never dropped', () => {
    const keys = new SessionKeys<State>(() => 1000, 60_000, 'secret', (s) => s.conn !== null);
    const held = keys.issue(owner('alice', 0), { conn: {} });
    const idle = Array.from({ length: 500 }, (_, i) => keys.issue(owner('alice', i + 1), { conn: null }));
    keys.issue(owner('bob', 0), { conn: null });
    expect(keys.size).toBe(1 + MAX_IDLE_KEYS_PER_USER + 1);
    // The held key and the newest idle ones are there; the oldest idle one is not in memory any more ...
    expect(keys.find(held.a2, held.tinyId)).toEqual({ key: held });
    expect(keys.find(idle[499]!.a2, idle[499]!.tinyId)).toEqual({ key: idle[499] });
    const dropped = keys.find(idle[0]!.a2, idle[0]!.tinyId);
    // ... but it is still a genuine key: found by its signature, as one issued before a restart.
    expect(dropped).toMatchObject({ a2: idle[0]!.a2, claims: { userID: 'alice', deviceId: 'dev-1' } });
    expect(keys.find(idle[0]!.a2, 'wrong tiny id')).toBeUndefined();
  });

  it('a key dropped from memory and adopted again is live again (held: not counted as idle); revoked, it is refused', () => {
    const keys = new SessionKeys<State>(() => 1000, 60_000, 'secret', (s) => s.conn !== null);
    const first = keys.issue(owner('alice', 0), { conn: null });
    for (let i = 1; i <= MAX_IDLE_KEYS_PER_USER; i++) keys.issue(owner('alice', i), { conn: null });
    expect(keys.size).toBe(MAX_IDLE_KEYS_PER_USER);
    const found = keys.find(first.a2, first.tinyId);
    if (!found || 'key' in found) throw new Error('expected the dropped key to be found by its signature');
    const back = keys.adopt(found, { conn: {} });
    expect(keys.size).toBe(MAX_IDLE_KEYS_PER_USER + 1); // held now: not counted against the idle ones
    keys.revoke(back);
    expect(keys.size).toBe(MAX_IDLE_KEYS_PER_USER);
    expect(keys.find(first.a2, first.tinyId)).toBeUndefined();
  });

  it('revocations are capped too (a login/logout loop), the oldest forgotten first', () => {
    const keys = new SessionKeys<State>(() => 1000, 60_000, 'secret', (s) => s.conn !== null);
    const real = keys.issue(owner('alice', 0), { conn: null });
    keys.revoke(real);
    expect(keys.find(real.a2, real.tinyId)).toBeUndefined();
    // Revoking needs only the key's A2Key and expiry: made-up keys fill the table fast.
    for (let i = 0; i < MAX_REVOKED_KEYS + 50; i++) keys.revoke({ ...real, a2: `x${i}` });
    expect(keys.size).toBe(0);
    expect(keys.revokedCount).toBe(MAX_REVOKED_KEYS);
  });
});
