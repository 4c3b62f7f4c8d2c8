// The server's time: the real clock, or (only with `serve --clock simulated`, for tests) a manual one that
// moves when POST /v4/test/advance says so. Every timer of the server and of its engine goes through one of
// these, wrapped so that the server hears after each timer fires (it reads the journal then, for webhooks).
import type { Clock } from '../clock';

/**
 * A clock that stands still until `advance(ms)`. Unlike a single jump, `advance` fires timers one by one at
 * their own due time (a timer set while firing runs too, if it falls due within the advance), so a
 * heartbeat check every 10 s runs 30 times in an advance of 300 s, each seeing its own `now()`.
 */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, { due: number; order: number; fn: () => void }>();
  private order = 0;

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { due: this.current + Math.max(0, ms), order: this.order++, fn });
    return id;
  }

  clearTimeout(id: unknown): void {
    this.timers.delete(id as number);
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in due order (ties: in the order set). */
  advance(ms: number): void {
    const end = this.current + Math.max(0, ms);
    for (;;) {
      let nextKey: number | null = null;
      let next: { due: number; order: number; fn: () => void } | null = null;
      for (const [k, t] of this.timers) {
        if (t.due > end) continue;
        if (!next || t.due < next.due || (t.due === next.due && t.order < next.order)) {
          next = t;
          nextKey = k;
        }
      }
      if (!next || nextKey === null) break;
      this.timers.delete(nextKey);
      if (next.due > this.current) this.current = next.due;
      next.fn();
    }
    this.current = end;
  }

  /** Timers waiting, for the health endpoint and tests. */
  get pending(): number {
    return this.timers.size;
  }
}
