// Work a front-end owes the engine that must not be lost when the store refuses it (a full disk): a
// closed link, a silent one, a forgotten session. Tried at once; on failure logged and tried again on the
// injected clock with a growing delay, until the store takes it, so presence converges with no ghost.
import type { Clock } from '../../clock';

export interface RetryLogger {
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
}

export interface RetryOptions {
  clock: Clock;
  log: RetryLogger;
  /** The first retry waits this long; each next one twice as long, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export const RETRY_BASE_DELAY_MS = 500;
export const RETRY_MAX_DELAY_MS = 10_000;

interface Pending {
  timer: unknown;
  attempt: number;
  what: string;
  fn: () => void;
}

export class Retrier {
  private readonly pending = new Map<string, Pending>();
  private readonly base: number;
  private readonly max: number;
  private closed = false;

  constructor(private readonly o: RetryOptions) {
    this.base = o.baseDelayMs ?? RETRY_BASE_DELAY_MS;
    this.max = o.maxDelayMs ?? RETRY_MAX_DELAY_MS;
  }

  /**
   * Runs `fn` now; when it throws, runs it again later until it returns. `fn` must decide afresh each time
   * whether it is still owed (the device may have come back meanwhile) and return quietly if not. A new
   * call under the same key replaces a retry still waiting. True when it went through now.
   */
  run(key: string, what: string, fn: () => void): boolean {
    this.cancel(key);
    try {
      fn();
      return true;
    } catch (err) {
      this.o.log.error({ err, what, key }, `${what} failed: retrying until the store takes it`);
      this.schedule(key, { timer: null, attempt: 1, what, fn });
      return false;
    }
  }

  /** Drops a retry that is no longer owed (the caller did the work another way). */
  cancel(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.o.clock.clearTimeout(p.timer);
    this.pending.delete(key);
  }

  has(key: string): boolean {
    return this.pending.has(key);
  }

  /** Retries waiting, for /healthz. */
  get size(): number {
    return this.pending.size;
  }

  /** A shutdown: what is still owed is not done by this process (the next start's timers take over). */
  close(): void {
    this.closed = true;
    for (const key of [...this.pending.keys()]) this.cancel(key);
  }

  private schedule(key: string, p: Pending): void {
    if (this.closed) return;
    const delay = Math.min(this.max, this.base * 2 ** (p.attempt - 1));
    p.timer = this.o.clock.setTimeout(() => {
      if (this.pending.get(key) !== p) return;
      this.pending.delete(key);
      try {
        p.fn();
        this.o.log.info({ what: p.what, key, attempts: p.attempt + 1 }, `${p.what}: done after retrying`);
      } catch (err) {
        // Logged once per doubling, not per attempt, so a long outage does not flood the log.
        if ((p.attempt & (p.attempt - 1)) === 0) this.o.log.warn({ err, what: p.what, key, attempts: p.attempt + 1 }, `${p.what} still failing`);
        this.schedule(key, { ...p, attempt: p.attempt + 1 });
      }
    }, delay);
    this.pending.set(key, p);
  }
}
