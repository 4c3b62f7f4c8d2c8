// The global budget for outgoing buffers: all sockets of the server together may hold at most this many
// unsent bytes. Each socket also has its own cap (./lifecycle.ts); this one stops many slow readers, each
// under its own cap, from adding up to the process's memory. Over budget, the worst laggards are cut.
import { DEFAULTS } from '../defaults';

/** What the budget needs of a socket: how much it has queued, and a way to end it at once. */
export interface Buffered {
  buffered(): number;
  cut(why: string): void;
}

export const DEFAULT_GLOBAL_BUFFER_BYTES = DEFAULTS.maxTotalBufferedBytes;

export class OutboundBudget {
  private readonly seen = new Map<Buffered, number>();
  /** The sum of the last figure seen per socket: an estimate kept in O(1) per send, checked when over. */
  private estimate = 0;
  cuts = 0;

  constructor(readonly maxBytes = DEFAULT_GLOBAL_BUFFER_BYTES) {}

  /** After a send: records the socket's queue, and when the total is over budget, cuts the largest queues. */
  note(link: Buffered, bytes: number): void {
    const before = this.seen.get(link) ?? 0;
    this.seen.set(link, bytes);
    this.estimate += bytes - before;
    if (this.estimate > this.maxBytes) this.enforce();
  }

  forget(link: Buffered): void {
    const before = this.seen.get(link);
    if (before === undefined) return;
    this.seen.delete(link);
    this.estimate -= before;
  }

  /** Bytes queued on all sockets, as last seen. */
  get total(): number {
    return this.estimate;
  }

  private enforce(): void {
    // The estimate holds stale figures of sockets that drained since: measure them all before cutting anyone.
    let sum = 0;
    for (const l of this.seen.keys()) {
      const b = l.buffered();
      this.seen.set(l, b);
      sum += b;
    }
    this.estimate = sum;
    if (sum <= this.maxBytes) return;
    const worst = [...this.seen.entries()].sort((a, b) => b[1] - a[1]);
    for (const [l, b] of worst) {
      if (this.estimate <= this.maxBytes || b === 0) break;
      this.forget(l);
      this.cuts++;
      l.cut(`the server's outgoing buffers are over the limit maxTotalBufferedBytes = ${this.maxBytes}`);
    }
  }
}
