// Part 8's accounting of heard pushes (bench/cluster/heard.ts): each acknowledged change counted once per
// receiver of its audience as heard, superseded (a later change of the same setter heard instead: EXT-2's
// resume hands the current status once) or missing; duplicates counted. No timing here.
import { describe, expect, it } from 'vitest';
import { HeardLog } from '../../bench/cluster/heard';

describe('bench/cluster heard accounting', () => {
  // Setter 0 is heard by itself and receivers 1 and 2; setter 1 by itself only.
  const audience = (u: number) => (u === 0 ? [0, 1, 2] : [u]);

  it('NTF-6 EXT-2 tells heard, superseded and missing apart, and counts duplicates', () => {
    const log = new HeardLog(3);
    for (let k = 0; k < 4; k++) {
      log.sent(k, k === 3 ? 1 : 0);
      log.acknowledged(k);
    }
    // Changes 0..2 of setter 0: receiver 0 hears all; receiver 1 misses 0 and 1 but hears 2 (a resume);
    // receiver 2 hears 0 only (1 and 2 missing). Change 3 of setter 1: its own device hears it twice.
    for (const k of [0, 1, 2]) expect(log.heard(0, k)).toBe(true);
    expect(log.heard(1, 2)).toBe(true);
    expect(log.heard(2, 0)).toBe(true);
    expect(log.heard(1, 3)).toBe(true);
    expect(log.heard(1, 3)).toBe(false);
    const t = log.tally(0, 4, audience);
    expect(t).toMatchObject({ expected: 10, exact: 6, superseded: 2, missing: 2, duplicates: 1, unacknowledgedHeard: 0 });
    expect(t.missingSample).toEqual([
      { k: 1, setter: 0, receiver: 2 },
      { k: 2, setter: 0, receiver: 2 },
    ]);
  });

  it('NTF-6 a change not acknowledged is not expected; heard anyway, it is counted apart', () => {
    const log = new HeardLog(3);
    log.sent(0, 0);
    log.sent(1, 0);
    log.acknowledged(1);
    log.heard(1, 0);
    const t = log.tally(0, 2, audience);
    expect(t).toMatchObject({ expected: 3, exact: 0, superseded: 0, missing: 3, unacknowledgedHeard: 1 });
    // A change newer than the receiver's newest is missing, an older one superseded.
    log.heard(2, 1);
    expect(log.tally(0, 2, audience)).toMatchObject({ exact: 1, missing: 2 });
  });

  it('NTF-6 grows past its first arrays', () => {
    const log = new HeardLog(2);
    for (let k = 0; k < 5000; k++) {
      log.sent(k, k % 2);
      log.acknowledged(k);
      log.heard(k % 2, k);
    }
    expect(log.setterOf(4999)).toBe(1);
    expect(log.tally(0, 5000, (u) => [u])).toMatchObject({ expected: 5000, exact: 5000, missing: 0 });
  });
});
