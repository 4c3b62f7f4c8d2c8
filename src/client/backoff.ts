// The remote client's reconnect schedule: the first retry at once, then min x 2^n up to max, each cut by up
// to `jitter`, every wait on the injected clock. It only times retries; what a retry does is its owner's.
import type { Clock } from '../clock';

export interface BackoffOptions {
  minDelayMs?: number;
  maxDelayMs?: number;
  jitter?: number;
}

export class Backoff {
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly jitter: number;
  private timer: unknown = null;
  private due: number | null = null;
  private attempt = 0;

  constructor(
    private readonly clock: Clock,
    private readonly random: () => number,
    o: BackoffOptions = {},
  ) {
    this.minDelayMs = o.minDelayMs ?? 500;
    this.maxDelayMs = o.maxDelayMs ?? 30_000;
    this.jitter = o.jitter ?? 0.5;
  }

  /** When the waiting retry is due (clock time), or null. */
  get retryAt(): number | null {
    return this.due;
  }

  /** Runs `retry` at once on the first attempt, later after the next delay; nothing while one already waits. */
  schedule(retry: () => void): void {
    if (this.timer !== null) return;
    const n = this.attempt++;
    if (n === 0) {
      retry();
      return;
    }
    const full = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** (n - 1));
    const delay = Math.round(full * (1 - this.jitter * this.random()));
    this.due = this.clock.now() + delay;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.due = null;
      retry();
    }, delay);
  }

  /** Back to the first attempt, with no retry waiting (the link is up, or the app took over). */
  reset(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.due = null;
    this.attempt = 0;
  }
}
