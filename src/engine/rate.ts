// LIM-1 / EXT-6: the rate window of each user and API (of each device, for login and logout), run by the
// `rateWindow` machine. Windows live in
// memory only (a restart forgets them, as a new window would) and are swept when nobody called lately.
import type { RateLimitedApi } from '../../machines/spec';
import type { RateWindowContext, RateWindowEvent } from '../../machines/rateWindow';
import type { Clock } from '../clock';
import { ErrorCode, StatusError } from '../errors';
import type { RunnerSnapshot } from '../records';
import type { InspectReports } from './inspectReports';
import type { Runners } from './runners';
import type { Settings } from './settings';
import type { Transaction } from './transaction';

const RATE_KEY_SEP = '\u0000';
const RATE_SWEEP_MIN = 1024;

export class RateWindows {
  private readonly rates = new Map<string, RunnerSnapshot<RateWindowContext>>();
  private lastSweep = 0;

  constructor(
    private readonly runners: Runners,
    private readonly settings: Settings,
    private readonly clock: Clock,
    private readonly tx: Transaction,
    private readonly reports: InspectReports,
  ) {}

  get size(): number {
    return this.rates.size;
  }

  /**
   * The window's verdict; `commit` stores it (only an accepted call uses quota), otherwise a refusal throws
   * 2996. `owner` is the caller's user, or its device for login and logout (DEVICE_RATE_LIMITED_APIS).
   */
  admit(owner: string, api: RateLimitedApi, commit: boolean): RunnerSnapshot<RateWindowContext> {
    const key = api + RATE_KEY_SEP + owner;
    const before = this.rates.get(key) ?? this.runners.rateInitial;
    const { requests, windowMs } = this.settings.limits.rateLimit;
    const event: RateWindowEvent = { type: 'RATE.REQUEST', now: this.clock.now(), requests, windowMs };
    const step = this.runners.rate.transition(before, event);
    const refused = step.emitted.find((e) => e.type === 'rate.refused');
    if (refused && !commit) {
      this.reports.now(this.runners.rate, `${api}:${owner}`, event, step.snapshot, { before });
      throw new StatusError(
        ErrorCode.RATE_LIMITED,
        `rate limit: ${api} allows ${refused.requests} calls per ${refused.windowMs} ms; retry in ${refused.retryAfterMs} ms`,
        { retryAfterMs: refused.retryAfterMs, requests: refused.requests, windowMs: refused.windowMs, limitName: 'rateLimit', limit: refused.requests },
      );
    }
    if (commit) {
      if (this.rates.size > RATE_SWEEP_MIN && event.now - this.lastSweep >= windowMs) this.sweep(event.now);
      const old = this.rates.get(key);
      this.rates.set(key, step.snapshot);
      this.tx.onUndo(() => (old ? this.rates.set(key, old) : this.rates.delete(key)));
      if (this.reports.on) this.reports.transition(this.runners.rate, `${api}:${owner}`, event, step.snapshot, { before });
    }
    return step.snapshot;
  }

  /** The windows as they stand (a snapshot's engine memory, issue 9), in the map's order. */
  export(): Array<[string, RunnerSnapshot<RateWindowContext>]> {
    return [...this.rates];
  }
  /** Puts back the windows of a snapshot (a replay from it), before any call. */
  load(windows: Iterable<[string, RunnerSnapshot<RateWindowContext>]>): void {
    for (const [key, rec] of windows) this.rates.set(key, rec);
  }

  /**
   * Forgets windows with no call left in them (equivalent to a fresh window), so that the map holds only the
   * users who called lately. Runs at most once a window, and only on a big map: its cost spreads thin.
   */
  private sweep(now: number): void {
    this.lastSweep = now;
    const windowMs = this.settings.limits.rateLimit.windowMs;
    // forEach, not for-of: no [key, value] pair per window (a Map may delete during either).
    const rates = this.rates;
    rates.forEach((rec, key) => {
      const last = rec.context.stamps[rec.context.stamps.length - 1];
      if (last === undefined || last <= now - windowMs) rates.delete(key);
    });
  }
}
