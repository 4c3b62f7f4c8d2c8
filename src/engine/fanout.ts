// Who hears of a user's change, and what each viewer is shown (NTF-2..6, EXT-5, EXT-7, issue 17). The
// rules decide (src/engine/rules/ and the `flap` machine); this file gathers the sets they read, runs the
// user's flap machine, and queues the deliveries.
import type { FlapContext, FlapEmitted, FlapEvent } from '../../machines/flap';
import type { UserStatusContext, UserStatusEmitted, Visibility } from '../../machines/userStatus';
import { EVENT, type ClientEvent } from '../events';
import type { RunnerSnapshot, UserStatus, Views } from '../records';
import type { Store } from '../store/types';
import type { InspectReports } from './inspectReports';
import type { Listeners } from './rules/audience';
import type { Rules } from './rules/index';
import { plainViews, viewOf, type ViewerClass } from './rules/views';
import type { Runners } from './runners';
import type { Settings } from './settings';
import { timerRequests } from './steps';
import type { DurableTimers } from './timers';
import type { Transaction } from './transaction';

type Change = Extract<UserStatusEmitted, { type: 'status.changed' }>;
type StatusEvent = Extract<ClientEvent, { name: 'onUserStatusUpdated' }>;

/**
 * What others were shown of a user, and its flap machine (EXT-7): kept in the user's record. `views`
 * undefined: plain, both classes were shown the status as it was at `seq` (most users, most of the time,
 * at no cost).
 */
export interface Shown {
  views: Views | undefined;
  seq: number;
  flap: RunnerSnapshot<FlapContext>;
}

type StatusLike = Omit<UserStatus, 'userID'>;

/** The views, made explicit: a plain `Shown` is the status before the change (`prev`) at its seq. */
const explicit = (shown: Shown, prev: StatusLike): Views => shown.views ?? plainViews(prev, shown.seq);

/** What a flap step says (bits): others may hear now; the change itself passes (not a hold's news). */
const TELL = 1;
const PASS = 2;
/** The flap machine did not handle the event. */
const UNHANDLED = -1;

export class FanOut {
  /** The sets the audience rule reads, refilled for each change (the rule keeps nothing of it). */
  private readonly heard: Listeners = { subscribers: undefined, followers: undefined };
  /** The flap machine's event of a change, filled again for each one (see change). */
  private readonly flapEvent: FlapEvent = { type: 'STATUS.CHANGED', reason: 'registered', statusType: 0 as FlapEvent['statusType'], customStatus: '', before: { statusType: 0 as FlapEvent['statusType'], customStatus: '' }, graceMs: 0 };

  constructor(
    private readonly store: Store,
    private readonly tx: Transaction,
    private readonly settings: Settings,
    private readonly timers: DurableTimers,
    private readonly runners: Runners,
    private readonly reports: InspectReports,
    private readonly rules: Rules,
  ) {}

  /**
   * One change of `userID`'s status machine: its own devices hear it (NTF-2 a); the flap machine says
   * whether others may now (EXT-7), and they hear it as their view allows. `shown` is the caller's own
   * (a fresh object per step): it is updated in place and returned.
   */
  change(userID: string, ctx: UserStatusContext, em: Change, prev: StatusLike & { visibility: Visibility }, shown: Shown): Shown {
    // One object goes to every recipient (and every app handler) of this change: events are read-only.
    const full: UserStatus = { userID, statusType: em.statusType, customStatus: em.customStatus, version: em.version, reason: em.reason };
    const event: StatusEvent = { name: EVENT.USER_STATUS_UPDATED, data: [full] };
    this.tx.send(userID, event);
    // The flap machine reads its event during the step and keeps none of it (it copies what it holds), so
    // one event object is filled again for each change; an inspector keeps what it is shown: a new one then.
    const flapEvent: FlapEvent = this.reports.on ? { ...this.flapEvent, before: { ...this.flapEvent.before } } : this.flapEvent;
    flapEvent.reason = em.reason;
    flapEvent.statusType = em.statusType;
    flapEvent.customStatus = em.customStatus;
    flapEvent.before.statusType = prev.statusType;
    flapEvent.before.customStatus = prev.customStatus;
    flapEvent.graceMs = this.settings.limits.flapGraceMs;
    const step = this.flapStep(userID, flapEvent, shown);
    if (step === UNHANDLED) {
      shown.views = explicit(shown, prev);
      return shown;
    }
    if (step & TELL) {
      return em.reason === 'visibility_changed' && step & PASS ? this.visibility(userID, prev, ctx.visibility, full, shown) : this.toOthers(userID, ctx.visibility, event, shown, prev);
    }
    // Held back (EXT-7): others keep what they were shown, explicitly.
    if (shown.views === undefined) shown.views = plainViews(prev, shown.seq);
    return shown;
  }

  /** EXT-7: the grace ran out (a durable timer, or an older journal's `flap.release`): others hear the final state if it is news. */
  endFlap(userID: string, status: UserStatus, visibility: Visibility, shown: Shown): Shown {
    if (shown.flap.value !== 'flap.holding') return shown;
    const event = this.runners.flap.afterEvent('flapGrace', 'holding') as unknown as FlapEvent;
    const step = this.flapStep(userID, event, shown);
    if (step === UNHANDLED) return shown;
    return step & TELL ? this.toOthers(userID, visibility, { name: EVENT.USER_STATUS_UPDATED, data: [status] }, shown, status) : shown;
  }

  /**
   * Runs the flap machine (its snapshot goes into `shown.flap`): whether others may hear now (TELL), the
   * change itself (PASS) or a hold's news; UNHANDLED if the machine did not take the event.
   */
  private flapStep(userID: string, event: FlapEvent, shown: Shown): number {
    const step = this.runners.flap.transition(shown.flap, event);
    if (!step.handled) return UNHANDLED;
    // Read before anything else runs (the runner fills the same answer again).
    const { snapshot, emitted, timers } = step;
    this.reports.transition(this.runners.flap, userID, event, snapshot);
    if (timers.length > 0) this.timers.apply('flap', userID, timerRequests(this.runners.flap, timers));
    shown.flap = snapshot;
    let bits = 0;
    for (let i = 0; i < emitted.length; i++) {
      const e = emitted[i] as FlapEmitted;
      if (e.type === 'flap.pass') bits = TELL | PASS;
      else if (e.type === 'flap.ended' && e.news) bits |= TELL;
    }
    return bits;
  }

  /** NTF-2 (b) and (c): each viewer who may hear and whose class sees the user is told, once. */
  private toOthers(userID: string, visibility: Visibility, event: StatusEvent, shown: Shown, prev: StatusLike): Shown {
    const full = event.data[0] as UserStatus;
    const everyone = this.rules.sees(visibility, 'friends') && this.rules.sees(visibility, 'others');
    const { views, told } = this.rules.statusShown(everyone ? shown.views : explicit(shown, prev), visibility, full, this.tx.cause, this.rules.sees);
    if (views === undefined) shown.seq = this.tx.cause;
    shown.views = views;
    if (told.length === 0) return shown;
    const heard = this.heard;
    heard.subscribers = this.store.subscribersOf(userID);
    heard.followers = this.store.followersOf(userID);
    // Into the outbox's own list for this delivery (no list per change); nothing is queued before it is sent.
    const recipients = this.rules.audience(heard, this.settings.gates, this.tx.recipientList());
    heard.subscribers = heard.followers = undefined;
    if (told.length === 1) {
      // Only one class is told: the others are dropped from the list in place.
      const friends = this.store.friendsOf(userID);
      const only = told[0] as ViewerClass;
      let n = 0;
      for (let i = 0; i < recipients.length; i++) {
        const v = recipients[i] as string;
        if (this.rules.classOf(friends?.has(v) === true) === only) recipients[n++] = v;
      }
      recipients.length = n;
    }
    this.tx.sendMany(userID, recipients, event);
    return shown;
  }

  /** EXT-5: going hidden or shown is news only to the viewers whose view flips; each is told its new view. */
  private visibility(userID: string, prev: StatusLike & { visibility: Visibility }, to: Visibility, full: UserStatus, shown: Shown): Shown {
    const { views: next, told } = this.rules.visibilityChanged(explicit(shown, prev), prev.visibility, to, full, this.tx.cause, this.rules.sees);
    shown.views = next;
    if (told.length === 0) return shown;
    const friends = this.store.friendsOf(userID);
    const events = new Map<ViewerClass, ClientEvent>();
    for (const viewer of this.rules.audience(this.listeners(userID), this.gates())) {
      const cls = this.rules.classOf(friends?.has(viewer) === true);
      if (!told.includes(cls)) continue;
      let e = events.get(cls);
      if (!e) events.set(cls, (e = { name: EVENT.USER_STATUS_UPDATED, data: Object.freeze([Object.freeze(viewOf(userID, next, cls, full))]) as UserStatus[] }));
      this.tx.send(viewer, e);
    }
    return shown;
  }

  private listeners(userID: string) {
    return { subscribers: this.store.subscribersOf(userID), followers: this.store.followersOf(userID) };
  }

  gates() {
    return this.settings.gates;
  }
}
