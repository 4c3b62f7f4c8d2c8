// Latency histograms for parts 3 and 7: 10 µs buckets up to 2 s (and one bucket past it), cheap to fill in
// the load generators and to merge in the coordinator, exact to a bucket for any quantile.
export const BUCKET_US = 10;
const BUCKETS = 200_000;

export class Histogram {
  readonly counts = new Int32Array(BUCKETS + 1);
  n = 0;
  sumUs = 0;
  maxUs = 0;

  add(us: number): void {
    const b = us <= 0 ? 0 : Math.min(BUCKETS, Math.floor(us / BUCKET_US));
    this.counts[b]!++;
    this.n++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The non-empty buckets, for sending over IPC. */
  toJSON(): SparseHistogram {
    const pairs: number[] = [];
    for (let i = 0; i <= BUCKETS; i++) if (this.counts[i] !== 0) pairs.push(i, this.counts[i]!);
    return { pairs, n: this.n, sumUs: this.sumUs, maxUs: this.maxUs };
  }

  merge(s: SparseHistogram): void {
    for (let i = 0; i < s.pairs.length; i += 2) this.counts[s.pairs[i]!]! += s.pairs[i + 1]!;
    this.n += s.n;
    this.sumUs += s.sumUs;
    this.maxUs = Math.max(this.maxUs, s.maxUs);
  }

  /** The q-quantile in ms (the upper edge of its bucket); NaN when empty. */
  quantileMs(q: number): number {
    if (this.n === 0) return NaN;
    const rank = Math.ceil(q * this.n);
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i === BUCKETS ? this.maxUs / 1000 : Math.min(((i + 1) * BUCKET_US) / 1000, this.maxUs / 1000);
    }
    return this.maxUs / 1000;
  }

  summary(): LatencySummary {
    return { n: this.n, meanMs: this.n ? this.sumUs / this.n / 1000 : NaN, p50: this.quantileMs(0.5), p99: this.quantileMs(0.99), p999: this.quantileMs(0.999), maxMs: this.maxUs / 1000 };
  }
}

export interface SparseHistogram {
  pairs: number[];
  n: number;
  sumUs: number;
  maxUs: number;
}

export interface LatencySummary {
  n: number;
  meanMs: number;
  p50: number;
  p99: number;
  p999: number;
  maxMs: number;
}
