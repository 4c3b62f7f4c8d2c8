// Who hears of a user's change, and what each viewer is shown (NTF-2..6, EXT-5, EXT-7, issue 17). The
// rules decide (src/engine/rules/ and the `flap` machine); this file gathers the sets they read, runs the
// user's flap machine, and queues the deliveries.
import type { FlapContext, FlapEvent } from '../../machines/flap';
import type { UserStatusContext, UserStatusEmitted, Visibility } from '../../machines/userStatus';
import { EVENT, type ClientEvent } from '../events';
import type { RunnerSnapshot, UserStatus, Views } from '../records';
import type { Store } from '../store/types';
import type { InspectReports } from './inspectReports';
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

export class FanOut {
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
   * whether others may now (EXT-7), and they hear it as their view allows.
   */
  change(userID: string, ctx: UserStatusContext, em: Change, prev: UserStatusContext, shown: Shown): Shown {
    // One object goes to every recipient (and every app handler) of this change: events are read-only.
    const full: UserStatus = { userID, statusType: em.statusType, customStatus: em.customStatus, version: em.version, reason: em.reason };
    const event: StatusEvent = { name: EVENT.USER_STATUS_UPDATED, data: [full] };
    this.tx.send(userID, event);
    const flapEvent: FlapEvent = {
      type: 'STATUS.CHANGED',
      reason: em.reason,
      statusType: em.statusType,
      customStatus: em.customStatus,
      before: { statusType: prev.statusType, customStatus: prev.customStatus },
      graceMs: this.settings.limits.flapGraceMs,
    };
    const step = this.flapStep(userID, flapEvent, shown);
    if (step === null) return { views: explicit(shown, prev), seq: shown.seq, flap: shown.flap };
    let next: Shown = { views: shown.views, seq: shown.seq, flap: step.flap };
    if (step.tell) {
      next = em.reason === 'visibility_changed' && step.pass ? this.visibility(userID, prev, ctx.visibility, full, next) : this.toOthers(userID, ctx.visibility, event, next, prev);
    } else if (next.views === undefined) {
      // Held back (EXT-7): others keep what they were shown, explicitly.
      next.views = plainViews(prev, shown.seq);
    }
    return next;
  }

  /** EXT-7: the grace ran out (a durable timer, or an older journal's `flap.release`): others hear the final state if it is news. */
  endFlap(userID: string, status: UserStatus, visibility: Visibility, shown: Shown): Shown {
    if (shown.flap.value !== 'flap.holding') return shown;
    const event = this.runners.flap.afterEvent('flapGrace', 'holding') as unknown as FlapEvent;
    const step = this.flapStep(userID, event, shown);
    if (step === null) return shown;
    const next: Shown = { views: shown.views, seq: shown.seq, flap: step.flap };
    return step.tell ? this.toOthers(userID, visibility, { name: EVENT.USER_STATUS_UPDATED, data: [status] }, next, status) : next;
  }

  /** Runs the flap machine: whether others may hear now, the change itself (`pass`) or a hold's news. */
  private flapStep(userID: string, event: FlapEvent, shown: Shown): { flap: RunnerSnapshot<FlapContext>; tell: boolean; pass: boolean } | null {
    const step = this.runners.flap.transition(shown.flap, event);
    if (!step.handled) return null;
    this.reports.transition(this.runners.flap, userID, event, step.snapshot);
    if (step.timers.length > 0) this.timers.apply('flap', userID, timerRequests(this.runners.flap, step.timers));
    let tell = false;
    let pass = false;
    for (const e of step.emitted) {
      if (e.type === 'flap.pass') tell = pass = true;
      else if (e.type === 'flap.ended' && e.news) tell = true;
    }
    return { flap: step.snapshot, tell, pass };
  }

  /** NTF-2 (b) and (c): each viewer who may hear and whose class sees the user is told, once. */
  private toOthers(userID: string, visibility: Visibility, event: StatusEvent, shown: Shown, prev: StatusLike): Shown {
    const full = event.data[0] as UserStatus;
    const everyone = this.rules.sees(visibility, 'friends') && this.rules.sees(visibility, 'others');
    const { views, told } = this.rules.statusShown(everyone ? shown.views : explicit(shown, prev), visibility, full, this.tx.cause, this.rules.sees);
    const next: Shown = { views, seq: views === undefined ? this.tx.cause : shown.seq, flap: shown.flap };
    if (told.length === 0) return next;
    const recipients = this.rules.audience(this.listeners(userID), this.gates());
    if (told.length === 1) {
      const friends = this.store.friendsOf(userID);
      const only = told[0] as ViewerClass;
      this.tx.sendMany(userID, recipients.filter((v) => this.rules.classOf(friends?.has(v) === true) === only), event);
    } else this.tx.sendMany(userID, recipients, event);
    return next;
  }

  /** EXT-5: going hidden or shown is news only to the viewers whose view flips; each is told its new view. */
  private visibility(userID: string, prev: UserStatusContext, to: Visibility, full: UserStatus, shown: Shown): Shown {
    const { views: next, told } = this.rules.visibilityChanged(explicit(shown, prev), prev.visibility, to, full, this.tx.cause, this.rules.sees);
    const result: Shown = { views: next, seq: shown.seq, flap: shown.flap };
    if (told.length === 0) return result;
    const friends = this.store.friendsOf(userID);
    const events = new Map<ViewerClass, ClientEvent>();
    for (const viewer of this.rules.audience(this.listeners(userID), this.gates())) {
      const cls = this.rules.classOf(friends?.has(viewer) === true);
      if (!told.includes(cls)) continue;
      let e = events.get(cls);
      if (!e) events.set(cls, (e = { name: EVENT.USER_STATUS_UPDATED, data: Object.freeze([Object.freeze(viewOf(userID, next, cls, full))]) as UserStatus[] }));
      this.tx.send(viewer, e);
    }
    return result;
  }

  private listeners(userID: string) {
    return { subscribers: this.store.subscribersOf(userID), followers: this.store.followersOf(userID) };
  }

  gates() {
    return this.settings.gates;
  }
}
