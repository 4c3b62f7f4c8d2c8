// The remote client's reconnect schedule: the first retry at once, then min x 2^n up to max, each cut by up
// to `jitter`, every wait on the injected clock. And the cuts for policy (1008: the server's request budget):
// a reconnect after one waits longer each time, and after too many in a window the client stops. It only
// times retries; what a retry does is its owner's.
import type { Clock } from '../clock';

export interface BackoffOptions {
  minDelayMs?: number;
  maxDelayMs?: number;
  jitter?: number;
  /**
   * After a policy close (1008, the server's request budget) the reconnect waits at least this, doubling
   * with each such close in the window, up to `policyMaxDelayMs`; default 5,000 (the budget's refill time).
   */
  policyDelayMs?: number;
  /** Default 120,000. */
  policyMaxDelayMs?: number;
  /** Policy closes within `policyWindowMs` after which the client stops reconnecting (an 'error' event); default 5. */
  maxPolicyCloses?: number;
  /** Default 10 minutes. */
  policyWindowMs?: number;
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

  /**
   * Runs `retry` at once on the first attempt, later after the next delay, and never sooner than `atLeastMs`
   * (a policy close's wait); nothing while one already waits.
   */
  schedule(retry: () => void, atLeastMs = 0): void {
    if (this.timer !== null) return;
    const n = this.attempt++;
    const delay = Math.max(atLeastMs, n === 0 ? 0 : jittered(Math.min(this.maxDelayMs, this.minDelayMs * 2 ** (n - 1)), this.jitter, this.random));
    if (delay <= 0) {
      retry();
      return;
    }
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

/** The close code of a policy violation: the server's request budget cut the socket (docs/protocol.md). */
export const POLICY_CLOSE = 1008;

const jittered = (full: number, jitter: number, random: () => number) => Math.round(full * (1 - jitter * random()));

/**
 * The policy closes (1008) of one client, on its clock. A successful reconnect does not forget them (the
 * server cuts a looping client after it got back in): only time does, and a new login.
 */
export class PolicyCuts {
  private readonly at: number[] = [];
  private readonly delayMs: number;
  private readonly maxDelayMs: number;
  private readonly max: number;
  private readonly windowMs: number;
  private readonly jitter: number;

  constructor(
    private readonly clock: Clock,
    private readonly random: () => number,
    o: BackoffOptions = {},
  ) {
    this.delayMs = o.policyDelayMs ?? 5000;
    this.maxDelayMs = o.policyMaxDelayMs ?? 120_000;
    this.max = o.maxPolicyCloses ?? 5;
    this.windowMs = o.policyWindowMs ?? 10 * 60_000;
    this.jitter = o.jitter ?? 0.5;
  }

  /** One more close: how long the reconnect waits at least, or stop (too many in the window). */
  record(): { stop: false; delayMs: number } | { stop: true; cuts: number; windowMs: number; message: string } {
    const now = this.clock.now();
    while (this.at.length > 0 && now - this.at[0]! >= this.windowMs) this.at.shift();
    this.at.push(now);
    if (this.at.length > this.max) this.at.shift(); // past the limit, only whether it still is matters
    const n = this.at.length;
    if (n >= this.max) {
      const message =
        `the server closed this connection ${n} times within ${Math.round(this.windowMs / 1000)} s for its request budget (1008); ` +
        'the client stopped reconnecting: send fewer requests, then call reconnect()';
      return { stop: true, cuts: n, windowMs: this.windowMs, message };
    }
    return { stop: false, delayMs: jittered(Math.min(this.maxDelayMs, this.delayMs * 2 ** (n - 1)), this.jitter, this.random) };
  }

  reset(): void {
    this.at.length = 0;
  }
}
