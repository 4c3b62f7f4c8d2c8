// LIM-1 / EXT-6: the rate window of each user and API (of each device, for login and logout), run by the
// `rateWindow` machine. Windows live in
// memory only (a restart forgets them, as a new window would) and are swept when nobody called lately.
import type { RateLimitedApi } from '../../machines/spec';
import type { RateWindowContext, RateWindowEmitted, RateWindowEvent } from '../../machines/rateWindow';
import type { Clock } from '../clock';
import { Before } from '../store/before';
import { ErrorCode, StatusError } from '../errors';
import type { RunnerSnapshot } from '../records';
import type { InspectReports } from './inspectReports';
import type { RunnerStep } from './runner';
import type { Runners } from './runners';
import type { Settings } from './settings';
import type { Transaction } from './transaction';

const RATE_KEY_SEP = '\u0000';
const RATE_SWEEP_MIN = 1024;

type Window = RunnerSnapshot<RateWindowContext>;

export class RateWindows {
  /**
   * The windows by API, then by owner: the owner (a userID or deviceId the caller holds) is the key as it
   * is, whose hash V8 keeps, where a key made per call (api + owner) cost a string and its hash each time.
   */
  private readonly byApi = new Map<RateLimitedApi, Map<string, Window>>();
  private count = 0;
  private lastSweep = 0;
  /** The live capture's windows written since it was taken, by API (copy on write; see capture), or null. */
  private taken: Map<RateLimitedApi, Before<Window>> | null = null;
  private captures = 0;
  /** The last check (admit without commit): its window, event and the machine's step from them. */
  private checkedBefore: Window | null = null;
  private checkedEvent: RateWindowEvent | null = null;
  private checkedStep: Pick<RunnerStep<RateWindowContext, RateWindowEmitted>, 'snapshot' | 'emitted'> | null = null;

  constructor(
    private readonly runners: Runners,
    private readonly settings: Settings,
    private readonly clock: Clock,
    private readonly tx: Transaction,
    private readonly reports: InspectReports,
  ) {}

  get size(): number {
    return this.count;
  }

  private windowsOf(api: RateLimitedApi): Map<string, Window> {
    let m = this.byApi.get(api);
    if (m === undefined) this.byApi.set(api, (m = new Map()));
    return m;
  }

  private put(api: RateLimitedApi, windows: Map<string, Window>, owner: string, w: Window | undefined): void {
    this.noteTaken(api, windows, owner);
    const had = windows.has(owner);
    if (w === undefined) windows.delete(owner);
    else windows.set(owner, w);
    this.count += (w === undefined ? 0 : 1) - (had ? 1 : 0);
  }

  /**
   * The window's verdict; `commit` stores it (only an accepted call uses quota), otherwise a refusal throws
   * 2996. `owner` is the caller's user, or its device for login and logout (DEVICE_RATE_LIMITED_APIS).
   */
  admit(owner: string, api: RateLimitedApi, commit: boolean): RunnerSnapshot<RateWindowContext> {
    const windows = this.windowsOf(api);
    const old = windows.get(owner);
    const before = old ?? this.runners.rateInitial;
    const { requests, windowMs } = this.settings.limits.rateLimit;
    const now = this.clock.now();
    // A call's check and its command's commit follow each other: the same window and event, the same step
    // (the machine's step is a function of the two), so the commit takes the check's.
    let event = this.checkedEvent;
    let step = this.checkedStep;
    if (step === null || event === null || this.checkedBefore !== before || event.now !== now || event.requests !== requests || event.windowMs !== windowMs) {
      event = { type: 'RATE.REQUEST', now, requests, windowMs };
      // Its own copy of the runner's answer (which the next transition fills again): kept for the commit.
      const t = this.runners.rate.transition(before, event);
      step = { snapshot: t.snapshot, emitted: t.emitted };
    }
    if (commit) this.checkedStep = this.checkedEvent = this.checkedBefore = null;
    else {
      this.checkedBefore = before;
      this.checkedEvent = event;
      this.checkedStep = step;
    }
    let refused: RateWindowEmitted | undefined;
    for (const e of step.emitted) if (e.type === 'rate.refused') refused = e;
    if (refused && !commit) {
      this.reports.now(this.runners.rate, `${api}:${owner}`, event, step.snapshot, { before });
      throw new StatusError(
        ErrorCode.RATE_LIMITED,
        `rate limit: ${api} allows ${refused.requests} calls per ${refused.windowMs} ms; retry in ${refused.retryAfterMs} ms`,
        { retryAfterMs: refused.retryAfterMs, requests: refused.requests, windowMs: refused.windowMs, limitName: 'rateLimit', limit: refused.requests },
      );
    }
    if (commit) {
      if (this.count > RATE_SWEEP_MIN && event.now - this.lastSweep >= windowMs) this.sweep(event.now);
      // The sweep may have dropped it: what the undo puts back is what was there before the call.
      const prev = windows.get(owner);
      this.put(api, windows, owner, step.snapshot);
      if (this.tx.open) this.tx.onUndo(() => this.put(api, windows, owner, prev));
      if (this.reports.on) this.reports.transition(this.runners.rate, `${api}:${owner}`, event, step.snapshot, { before });
    }
    return step.snapshot;
  }

  /** The windows as they stand (a snapshot's engine memory, issue 9), in the map's order. */
  export(): Array<[string, Window]> {
    const out: Array<[string, Window]> = [];
    for (const [api, windows] of this.byApi) for (const [owner, w] of windows) out.push([api + RATE_KEY_SEP + owner, w]);
    return out;
  }
  /**
   * The windows as they stand, listed later (compaction, issue 9: most captures are replaced by the next one
   * unread): nothing is copied now; from here on a window's first change keeps the one it replaces. One capture
   * is live at a time: a reader of an earlier one that was never read throws.
   */
  capture(): () => Array<[string, Window]> {
    const id = ++this.captures;
    this.taken = new Map();
    let listed: Array<[string, Window]> | null = null;
    return () => {
      if (listed !== null) return listed;
      if (id !== this.captures || this.taken === null) throw new Error('rate windows: a capture read after a later one was taken');
      const out: Array<[string, Window]> = [];
      for (const [api, windows] of this.byApi) {
        const was = this.taken.get(api);
        for (const [owner, w] of was ? was.entries(windows) : windows) out.push([api + RATE_KEY_SEP + owner, w]);
      }
      this.taken = null;
      return (listed = out);
    };
  }
  private noteTaken(api: RateLimitedApi, windows: Map<string, Window>, owner: string): void {
    const taken = this.taken;
    if (taken === null) return;
    let was = taken.get(api);
    if (was === undefined) taken.set(api, (was = new Before()));
    was.note(owner, windows.get(owner));
  }
  /** Puts back the windows of a snapshot (a replay from it), before any call. */
  load(windows: Iterable<[string, Window]>): void {
    for (const [key, rec] of windows) {
      const at = key.indexOf(RATE_KEY_SEP);
      if (at < 0) throw new Error(`a rate window's key names its API and owner, got ${JSON.stringify(key)}`);
      const api = key.slice(0, at) as RateLimitedApi;
      this.put(api, this.windowsOf(api), key.slice(at + 1), rec);
    }
  }

  /**
   * Forgets windows with no call left in them (equivalent to a fresh window), so that the map holds only the
   * users who called lately. Runs at most once a window, and only on a big map: its cost spreads thin.
   */
  private sweep(now: number): void {
    this.lastSweep = now;
    const windowMs = this.settings.limits.rateLimit.windowMs;
    // forEach, not for-of: no [key, value] pair per window (a Map may delete during either).
    for (const [api, windows] of this.byApi) {
      windows.forEach((rec, owner) => {
        const last = rec.context.stamps[rec.context.stamps.length - 1];
        if (last === undefined || last <= now - windowMs) {
          this.noteTaken(api, windows, owner);
          windows.delete(owner);
          this.count--;
        }
      });
    }
  }
}
