// The multi-node settle()'s barrier (drain.ts) on its own: drained only when every node answered with its push
// counts, none is busy, every push sent was taken, and two looks in a row agree.
import { describe, expect, it } from 'vitest';
import { look, notDrained, type Traffic } from './drain';

const t = (sent: number, received: number, o: Partial<Traffic> = {}): Traffic => ({ sent, lost: 0, received, busy: false, ...o });

describe('drain: the multi-node settle() barrier', () => {
  it('reads the pushes of /healthz wherever the server put the cluster lines; a node without them is no answer', () => {
    expect(look([{ cluster: { pushes: t(1, 2) } }, { pushes: t(3, 4) }, { status: 'ok' }, null])).toEqual([t(1, 2), t(3, 4), null, null]);
  });

  it('is drained only when the sums agree, nobody is busy and the counts stood still since the last look', () => {
    const calm = [t(2, 1), t(1, 2)];
    expect(notDrained(calm, calm)).toBeNull();
    expect(notDrained(null, calm)).toMatch(/moved/); // the first look alone proves nothing
    expect(notDrained([t(1, 1), t(1, 2)], calm)).toMatch(/moved/); // a push sent and another taken between reads
    expect(notDrained(calm, [t(3, 1), t(1, 2)])).toMatch(/1 push\(es\) sent and not taken/); // on its way
    expect(notDrained(calm, [t(2, 1), t(1, 2, { busy: true })])).toMatch(/node 2 is busy/);
    expect(notDrained(calm, [t(2, 1), null])).toMatch(/node 2 gave no push counts/);
    const lost = [t(3, 1, { lost: 1 }), t(1, 2)]; // a push that reached no subscriber is not waited for
    expect(notDrained(lost, lost)).toBeNull();
  });
});
