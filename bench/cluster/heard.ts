// What the cluster load generator's receivers heard of each acknowledged change (pure, no I/O): each change
// k is one setSelfStatus call of a setter, and each receiver in its audience (the setter's own device and
// its subscribers) must hear it once, live, or hear a later change of the same setter instead (a resume by
// versions after a reconnect hands the current status once, not each version it missed: EXT-2). Anything
// else is missing (lost), and a change heard twice by one receiver is a duplicate.

export interface HeardTally {
  /** Acknowledged changes × their audience. */
  expected: number;
  /** Heard as such (live or in a resume). */
  exact: number;
  /** Not heard, but the receiver heard a later change of the same setter (allowed by EXT-2's resume). */
  superseded: number;
  /** Neither: never heard, nor anything newer of that setter. */
  missing: number;
  /** Heard again by a receiver that had it. */
  duplicates: number;
  /** Heard although the call was not acknowledged (a timeout or a closed socket: it may have been applied). */
  unacknowledgedHeard: number;
  /** The first missing (change, receiver) pairs, for a reproduction. */
  missingSample: Array<{ k: number; setter: number; receiver: number }>;
}

export class HeardLog {
  private setter = new Int32Array(1024);
  private acked = new Uint8Array(1024);
  /** receiver * n + setter -> the newest change of that setter the receiver heard. */
  private readonly newest = new Map<number, number>();
  /** k * n + receiver, for every (change, receiver) heard. */
  private readonly pairs = new Set<number>();
  private dups = 0;

  constructor(private readonly n: number) {}

  /** A call `k` of `setter` goes out (k grows by one per call, from 0). */
  sent(k: number, setter: number): void {
    while (k >= this.setter.length) {
      const s = new Int32Array(this.setter.length * 2);
      s.set(this.setter);
      this.setter = s;
      const a = new Uint8Array(this.acked.length * 2);
      a.set(this.acked);
      this.acked = a;
    }
    this.setter[k] = setter;
  }

  acknowledged(k: number): void {
    this.acked[k] = 1;
  }

  setterOf(k: number): number {
    return this.setter[k]!;
  }

  /** `receiver` heard change `k`; false: it had heard it before (a duplicate). */
  heard(receiver: number, k: number): boolean {
    const key = k * this.n + receiver;
    if (this.pairs.has(key)) {
      this.dups += 1;
      return false;
    }
    this.pairs.add(key);
    const nk = receiver * this.n + this.setter[k]!;
    if ((this.newest.get(nk) ?? -1) < k) this.newest.set(nk, k);
    return true;
  }

  /** The tally of changes [from, to) given who hears each setter (`audience(setter)`: receiver indexes). */
  tally(from: number, to: number, audience: (setter: number) => Iterable<number>, sample = 20): HeardTally {
    const t: HeardTally = { expected: 0, exact: 0, superseded: 0, missing: 0, duplicates: this.dups, unacknowledgedHeard: 0, missingSample: [] };
    for (let k = from; k < to; k++) {
      const u = this.setter[k]!;
      for (const i of audience(u)) {
        const got = this.pairs.has(k * this.n + i);
        if (this.acked[k] !== 1) {
          if (got) t.unacknowledgedHeard += 1;
          continue;
        }
        t.expected += 1;
        if (got) t.exact += 1;
        else if ((this.newest.get(i * this.n + u) ?? -1) > k) t.superseded += 1;
        else {
          t.missing += 1;
          if (t.missingSample.length < sample) t.missingSample.push({ k, setter: u, receiver: i });
        }
      }
    }
    return t;
  }

  /** Starts a new phase's duplicate count. */
  resetDuplicates(): void {
    this.dups = 0;
  }
}
