// Copy on write for a capture of Maps (the in-memory replay start, issue 9; the rate windows): taking one costs
// nothing, each later write of a key first keeps what the key held at the capture (once), and the Map as it was
// is read back only if somebody asks. A whole copy of 100k users' records took 200-300 ms in one turn.

/** A key that had no entry at the capture. */
const ABSENT: unique symbol = Symbol('absent');

/** What one Map held at a capture, for the keys written since. */
export class Before<V> {
  private readonly was = new Map<string, V | typeof ABSENT>();

  /** How many keys were written since the capture (each kept once). */
  get size(): number {
    return this.was.size;
  }

  /**
   * Call before writing `key` (set, delete, or a change inside its value): `now` is what it holds before the
   * write (undefined: nothing). Only the first write after the capture keeps anything; `copy` for a value that
   * is then changed in place.
   */
  note(key: string, now: V | undefined, copy?: (v: V) => V): void {
    if (this.was.has(key)) return;
    this.was.set(key, now === undefined ? ABSENT : copy ? copy(now) : now);
  }

  /**
   * The entries as they were at the capture, read through `live` (the Map as it is now): a key written since
   * has its kept value (or none), any other its live one. Live order first, then keys deleted since.
   */
  *entries(live: ReadonlyMap<string, V>): IterableIterator<[string, V]> {
    const was = this.was;
    for (const [key, v] of live) {
      const then = was.get(key);
      if (then === undefined) yield [key, v];
      else if (then !== ABSENT) yield [key, then];
    }
    for (const [key, then] of was) if (then !== ABSENT && !live.has(key)) yield [key, then];
  }

  /** The Map as it was at the capture (see entries). */
  view(live: ReadonlyMap<string, V>): Map<string, V> {
    return new Map(this.entries(live));
  }
}
