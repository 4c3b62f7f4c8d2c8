// Issue 9 / issue 12: the copy on write behind the in-memory replay start and the rate windows' capture
// (src/store/before.ts). Property: whatever is written after the capture (sets, deletes, changes inside a
// value, the same key many times), the Map read back through it is the Map as it was at the capture.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Before } from '../../src/store/before';

type Box = { n: number };
type Op = { kind: 'set'; key: string; n: number } | { kind: 'delete'; key: string } | { kind: 'bump'; key: string };

const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, n: fc.integer({ min: 0, max: 99 }) }),
  fc.record({ kind: fc.constant('delete' as const), key }),
  fc.record({ kind: fc.constant('bump' as const), key }),
);
const start = fc.dictionary(key, fc.integer({ min: 0, max: 99 }));

const copy = (b: Box): Box => ({ n: b.n });
/** The live Map after `ops`, each write noted first as the store does; `note` is the implementation under test. */
function run(initial: Record<string, number>, ops: Op[], note: (b: Before<Box>, k: string, now: Box | undefined) => void) {
  const live = new Map(Object.entries(initial).map(([k, n]) => [k, { n }]));
  const at = new Map([...live].map(([k, v]) => [k, v.n]));
  const before = new Before<Box>();
  for (const o of ops) {
    note(before, o.key, live.get(o.key));
    if (o.kind === 'set') live.set(o.key, { n: o.n });
    else if (o.kind === 'delete') live.delete(o.key);
    else {
      const v = live.get(o.key);
      if (v) v.n++; // a change inside the value: only a copy kept at the first write survives it
    }
  }
  const read = new Map([...before.view(live)].map(([k, v]) => [k, v.n]));
  return { at, read, before };
}
const plain = (b: Before<Box>, k: string, now: Box | undefined) => b.note(k, now, copy);

describe('Before: a capture of a Map by copy on write', () => {
  it('reads back the Map as it was at the capture, whatever was written after', () => {
    fc.assert(
      fc.property(start, fc.array(op, { maxLength: 30 }), (initial, ops) => {
        const { at, read, before } = run(initial, ops, plain);
        expect(read).toEqual(at);
        // It keeps one value per key written, not one per write.
        expect(before.size).toBe(new Set(ops.map((o) => o.key)).size);
      }),
    );
  });

  it('catches a Before that keeps the last value written over instead of the first (the broken variant)', () => {
    const broken = (b: Before<Box>, k: string, now: Box | undefined) => {
      // Forgets what it kept: every write notes again.
      (b as unknown as { was: Map<string, unknown> }).was.delete(k);
      b.note(k, now, copy);
    };
    const found = fc.check(fc.property(start, fc.array(op, { maxLength: 30 }), (initial, ops) => {
      const { at, read } = run(initial, ops, broken);
      expect(read).toEqual(at);
    }));
    expect(found.failed).toBe(true);
  });

  it('catches a Before that keeps a value changed in place without copying it (the other broken variant)', () => {
    const shared = (b: Before<Box>, k: string, now: Box | undefined) => b.note(k, now);
    const found = fc.check(fc.property(start, fc.array(op, { maxLength: 30 }), (initial, ops) => {
      const { at, read } = run(initial, ops, shared);
      expect(read).toEqual(at);
    }));
    expect(found.failed).toBe(true);
  });

  it('lists the live order first, then the keys deleted since the capture', () => {
    const live = new Map([['a', { n: 1 }], ['b', { n: 2 }], ['c', { n: 3 }]]);
    const before = new Before<Box>();
    before.note('a', live.get('a'), copy);
    live.delete('a');
    before.note('d', live.get('d'), copy);
    live.set('d', { n: 4 });
    before.note('b', live.get('b'), copy);
    live.get('b')!.n = 20;
    expect([...before.entries(live)].map(([k, v]) => [k, v.n])).toEqual([['b', 2], ['c', 3], ['a', 1]]);
  });
});
