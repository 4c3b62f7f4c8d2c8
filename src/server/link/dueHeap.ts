// One clock timer for the sockets of a link group: each link's next check (quiet, login deadline) waits in a
// binary heap ordered by due time, then by when it was set, so that links due at one instant run in the order
// their checks were set, as separate timers would. Thousands of sockets re-arming every few seconds cost heap
// moves, not timers (a timer and its closures per arm, each living long enough to reach the old generation).
import type { Clock } from '../../clock';

/** What the heap keeps on each item: its due time, its order among equal ones, and its place (-1: not in). */
export interface Due {
  dueAt: number;
  dueOrder: number;
  dueSlot: number;
}

export class DueHeap<T extends Due> {
  private readonly heap: T[] = [];
  private order = 0;
  private timer: unknown = undefined;
  private timerAt = Infinity;

  constructor(
    private readonly clock: Clock,
    /** Called once per item falling due (it is out of the heap then; it may set itself again, later than now). */
    private readonly fire: (item: T) => void,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Puts `item` in, or moves it, to fall due at `at`. */
  set(item: T, at: number): void {
    item.dueAt = at;
    item.dueOrder = this.order++;
    if (item.dueSlot < 0) {
      item.dueSlot = this.heap.length;
      this.heap.push(item);
      this.up(item.dueSlot);
    } else {
      this.up(item.dueSlot);
      this.down(item.dueSlot);
    }
    this.arm();
  }

  remove(item: T): void {
    const i = item.dueSlot;
    if (i < 0) return;
    item.dueSlot = -1;
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.dueSlot = i;
      this.up(i);
      this.down(i);
    }
    if (this.heap.length === 0) this.disarm();
  }

  /** Stops the timer (the group is shutting down); what is in the heap stays, unfired. */
  disarm(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private arm(): void {
    const first = this.heap[0];
    if (!first || first.dueAt >= this.timerAt) return; // the timer fires by then: it looks again
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = first.dueAt;
    this.timer = this.clock.setTimeout(this.run, Math.max(0, first.dueAt - this.clock.now()));
  }

  private readonly run = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    const h = this.heap;
    while (h.length > 0 && h[0]!.dueAt <= now) {
      const item = h[0]!;
      this.remove(item);
      this.fire(item);
    }
    this.arm();
  };

  private before(a: T, b: T): boolean {
    return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.dueOrder < b.dueOrder);
  }

  private up(i: number): void {
    const h = this.heap;
    const item = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(item, h[p]!)) break;
      h[i] = h[p]!;
      h[i]!.dueSlot = i;
      i = p;
    }
    h[i] = item;
    item.dueSlot = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const item = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(h[r]!, h[l]!) ? r : l;
      if (!this.before(h[c]!, item)) break;
      h[i] = h[c]!;
      h[i]!.dueSlot = i;
      i = c;
    }
    h[i] = item;
    item.dueSlot = i;
  }
}
