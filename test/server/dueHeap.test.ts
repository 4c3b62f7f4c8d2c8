// The link group's heap of socket checks (src/server/link/dueHeap.ts): items fall due in due order, ties in
// the order they were set (as separate timers would), on one timer of the injected clock.
import { describe, expect, it } from 'vitest';
import { DueHeap, type Due } from '../../src/server/link/dueHeap';
import { ManualClock } from '../../src/server/clock';

type Item = Due & { name: string };
const item = (name: string): Item => ({ name, dueAt: Infinity, dueOrder: 0, dueSlot: -1 });

function rig() {
  const clock = new ManualClock(1000);
  const fired: string[] = [];
  const heap = new DueHeap<Item>(clock, (x) => fired.push(`${x.name}@${clock.now()}`));
  return { clock, fired, heap };
}

describe('DueHeap', () => {
  it('fires each item at its due time, in due order, ties in the order set, on one clock timer', () => {
    const { clock, fired, heap } = rig();
    const xs = ['a', 'b', 'c', 'd', 'e'].map(item);
    heap.set(xs[0]!, 1500);
    heap.set(xs[1]!, 1200);
    heap.set(xs[2]!, 1500);
    heap.set(xs[3]!, 1100);
    heap.set(xs[4]!, 1200);
    expect(clock.pending).toBe(1);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(['d@1100']);
    clock.advance(400);
    expect(fired).toEqual(['d@1100', 'b@1200', 'e@1200', 'a@1500', 'c@1500']);
    expect(heap.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('moves an item set again (earlier or later), and never fires one removed', () => {
    const { clock, fired, heap } = rig();
    const [a, b, c] = ['a', 'b', 'c'].map(item);
    heap.set(a!, 1300);
    heap.set(b!, 1400);
    heap.set(c!, 1500);
    heap.set(c!, 1100); // earlier than the timer: it is moved up
    heap.set(a!, 1600); // later
    heap.remove(b!);
    heap.remove(b!); // twice is nothing
    clock.advance(1000);
    expect(fired).toEqual(['c@1100', 'a@1600']);
  });

  it('an item may set itself again when it fires, and many items keep their order', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const items = Array.from({ length: 200 }, (_, i) => ({ ...item(String(i)), n: i }));
    const heap: DueHeap<(typeof items)[number]> = new DueHeap(clock, (x) => {
      fired.push(x.n);
      if (clock.now() < 300) heap.set(x, clock.now() + 100);
    });
    // Due times in a scrambled order; ties broken by the order set.
    for (const x of [...items].reverse()) heap.set(x, 100 + ((x.n * 37) % 10));
    clock.advance(1000);
    const round = items.map((x) => x.n).sort((p, q) => ((p * 37) % 10) - ((q * 37) % 10) || q - p);
    expect(fired.slice(0, 200)).toEqual(round);
    expect(fired).toHaveLength(200 * 3);
    expect(heap.size).toBe(0);
  });
});
