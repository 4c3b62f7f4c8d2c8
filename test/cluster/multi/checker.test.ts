// The chaos checker must be able to fail: a clean fabricated history passes, and each defect the issue
// names (a lost acknowledgement, a duplicate, a version regression, a wrong final view, a ghost) planted in
// it is found, and counted where it belongs.
import { describe, expect, it } from 'vitest';
import { checkHistory, summarize, type ChaosHistory, type Observed } from './checker';

const ON = 1;
const OFF = 3; // USER_STATUS_UNLOGINED
const st = (userID: string, version: number, customStatus: string, statusType = ON, reason = 'custom_status_set'): Observed => ({ userID, version, customStatus, statusType, reason });

/** alice sets a1, a2, a3 (versions 2..4 after her login at 1); bob follows her on device b1 and hears all. */
function clean(): ChaosHistory {
  return {
    acks: [st('alice', 2, 'a1'), st('alice', 3, 'a2'), st('alice', 4, 'a3')],
    heard: [
      { deviceId: 'b1', kind: 'read', status: st('alice', 1, '', ON, 'login') },
      { deviceId: 'b1', status: st('alice', 2, 'a1') },
      { deviceId: 'b1', status: st('alice', 3, 'a2') },
      { deviceId: 'b1', status: st('alice', 4, 'a3') },
      { deviceId: 'b1', kind: 'read', status: st('carol', 7, 'c', OFF, 'logout') },
    ],
    truth: [st('alice', 4, 'a3'), st('bob', 1, '', ON, 'login'), st('carol', 7, 'c', OFF, 'logout')],
    follows: [{ deviceId: 'b1', about: ['alice', 'carol'] }],
    gone: ['carol'],
  };
}

describe('chaos checker', () => {
  it('a clean history: every count 0', () => {
    const r = checkHistory(clean());
    expect(summarize(r)).toBe('lost 0, reused versions 0, duplicates 0, regressions 0, stale views 0, ghosts 0');
    expect(r.ok).toBe(true);
  });

  it('a resume that skips versions (it reads current state) is no defect', () => {
    const h = clean();
    h.heard.splice(2, 1); // b1 never heard version 3: it resumed from state
    expect(checkHistory(h).ok).toBe(true);
  });

  it('lost: the truth went back behind an acknowledged write', () => {
    const h = clean();
    h.truth[0] = st('alice', 3, 'a2');
    h.heard.pop(); // keep b1's view out of it: only the loss
    const r = checkHistory(h);
    expect(r.lost).toEqual([{ ack: st('alice', 4, 'a3'), why: 'the truth is at version 3, behind it' }]);
    expect(r.ok).toBe(false);
  });

  it('lost: an acknowledged version handed out again to another write (a new owner that never saw it)', () => {
    const h = clean();
    // a2 at 3 was acknowledged by the dead owner; the new one rebuilt without it and gave 3 to a2b.
    h.acks = [st('alice', 2, 'a1'), st('alice', 3, 'a2'), st('alice', 3, 'a2b'), st('alice', 4, 'a3')];
    const r = checkHistory(h);
    expect(r.lost.map((l) => l.ack.customStatus)).toEqual(['a2']);
    expect(r.lost[0]!.why).toContain("acknowledged again as 'a2b'");
  });

  it('reused: a version heard by a device as another status than the acknowledged one (one of them was forgotten)', () => {
    const h = clean();
    h.heard[2] = { deviceId: 'b1', status: st('alice', 3, 'other') };
    const r = checkHistory(h);
    expect(r.reused).toEqual([{ ack: st('alice', 3, 'a2'), heard: st('alice', 3, 'other') }]);
    expect(r.lost).toEqual([]);
    expect(r.ok).toBe(false);
  });

  it('lost: the final status at the acknowledged version differs', () => {
    const h = clean();
    h.truth[0] = st('alice', 4, 'zz');
    const r = checkHistory(h);
    expect(r.lost.map((l) => l.why)).toEqual(["version 4 is now 'zz'"]);
    expect(r.staleViews).toHaveLength(1); // and b1's view is no longer the truth
  });

  it('duplicate applied: one call set at two versions (a retried forward applied twice)', () => {
    const h = clean();
    h.heard.push({ deviceId: 'b1', status: st('alice', 5, 'a3') });
    h.truth[0] = st('alice', 5, 'a3');
    const r = checkHistory(h);
    expect(r.duplicates).toEqual([{ kind: 'applied', userID: 'alice', customStatus: 'a3', versions: [4, 5] }]);
    expect(r.lost).toEqual([]);
  });

  it('duplicate delivered: a device handed the same version twice', () => {
    const h = clean();
    h.heard.splice(3, 0, { deviceId: 'b1', status: st('alice', 3, 'a2') });
    const r = checkHistory(h);
    expect(r.duplicates).toEqual([{ kind: 'delivered', userID: 'alice', customStatus: 'a2', versions: [3], deviceId: 'b1' }]);
    expect(r.regressions).toEqual([]);
  });

  it('not a duplicate: a login or logout keeps the custom status at a later version', () => {
    const h = clean();
    h.heard.push({ deviceId: 'b1', status: st('alice', 5, 'a3', OFF, 'logout') });
    h.truth[0] = st('alice', 5, 'a3', OFF, 'logout');
    expect(checkHistory(h).ok).toBe(true);
  });

  it('version regression: an older version after a newer one, per device and user', () => {
    const h = clean();
    h.heard.push({ deviceId: 'b1', status: st('alice', 2, 'a1') });
    h.heard.push({ deviceId: 'b2', status: st('alice', 2, 'a1') }); // another device: its own order
    const r = checkHistory(h);
    expect(r.regressions).toEqual([{ deviceId: 'b1', userID: 'alice', after: 4, got: 2 }]);
    expect(r.staleViews).toEqual([]); // the view stays at the newest it had
  });

  it('a wrong final view: a device that missed the last change and never resumed', () => {
    const h = clean();
    h.heard.splice(3, 1);
    const r = checkHistory(h);
    expect(r.staleViews).toEqual([{ deviceId: 'b1', userID: 'alice', view: st('alice', 3, 'a2'), truth: st('alice', 4, 'a3') }]);
    expect(r.lost).toEqual([]);
  });

  it('a wrong final view: a followed user the device never heard of', () => {
    const h = clean();
    h.follows[0]!.about.push('bob');
    expect(checkHistory(h).staleViews).toEqual([{ deviceId: 'b1', userID: 'bob', view: null, truth: st('bob', 1, '', ON, 'login') }]);
  });

  it('a ghost: a gone user still online', () => {
    const h = clean();
    h.gone.push('alice');
    const r = checkHistory(h);
    expect(r.ghosts).toEqual(['alice']);
    expect(summarize(r)).toMatch(/^lost 0, reused versions 0, duplicates 0, regressions 0, stale views 0, ghosts 1\n/);
  });

  it('a gone native user that is OFFLINE (logged in, not connected) is no ghost', () => {
    const h = clean();
    h.truth[2] = st('carol', 7, 'c', 2, 'link_closed');
    h.follows[0]!.about.pop();
    expect(checkHistory(h).ghosts).toEqual([]);
  });

  it('a gone user missing from the truth counts as a ghost (unknown is not offline)', () => {
    const h = clean();
    h.gone.push('dave');
    expect(checkHistory(h).ghosts).toEqual(['dave']);
  });
});
