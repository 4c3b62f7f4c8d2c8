// Who hears of a user's change, and what each viewer is shown (NTF-2..6, EXT-5, EXT-7, issue 17). The
// rules decide (src/engine/rules/); this file gathers the sets they read, queues the deliveries, and holds
// EXT-7's flaps while their grace runs.
import type { UserStatusContext, UserStatusEmitted, Visibility } from '../../machines/userStatus';
import { EVENT, type ClientEvent } from '../events';
import type { UserStatus, Views } from '../records';
import type { Store } from '../store/types';
import type { Rules } from './rules/index';
import { viewOf, type ViewerClass } from './rules/views';
import type { Settings } from './settings';
import type { DurableTimers } from './timers';
import type { Transaction } from './transaction';

type Change = Extract<UserStatusEmitted, { type: 'status.changed' }>;
type StatusEvent = Extract<ClientEvent, { name: 'onUserStatusUpdated' }>;

/** EXT-7: a change held back from others while a user's link flaps. */
interface Flap {
  /** What others saw before the flap. */
  before: { statusType: number; customStatus: string };
  latest: UserStatus;
  ctx: UserStatusContext;
}

export class FanOut {
  private readonly flaps = new Map<string, Flap>();

  constructor(
    private readonly store: Store,
    private readonly tx: Transaction,
    private readonly settings: Settings,
    private readonly timers: DurableTimers,
    private readonly rules: Rules,
    /** Runs the `flap.release` command of a user whose grace ran out. */
    private readonly release: (userID: string) => void,
  ) {}

  get held(): number {
    return this.flaps.size;
  }

  /**
   * One change of `userID`'s status machine: its own devices hear it (NTF-2 a), others as their view allows;
   * returns the views others are left with.
   */
  change(userID: string, ctx: UserStatusContext, em: Change, prev: UserStatusContext, views: Views): Views {
    // One object goes to every recipient (and every app handler) of this change: events are read-only.
    const full: UserStatus = { userID, statusType: em.statusType, customStatus: em.customStatus, version: em.version, reason: em.reason };
    const event: StatusEvent = { name: EVENT.USER_STATUS_UPDATED, data: [full] };
    this.tx.send(userID, event);
    const hold = this.damp(userID, ctx, full, prev);
    if (hold === 'held') return views;
    if (hold !== 'open') return this.rules.holdIsNews(hold.before, hold.latest) ? this.toOthers(userID, ctx.visibility, event, views) : views;
    if (em.reason === 'visibility_changed') return this.visibility(userID, prev.visibility, ctx.visibility, full, views);
    return this.toOthers(userID, ctx.visibility, event, views);
  }

  /** EXT-7: the grace ran out: others hear the final state, if it is not what they saw. */
  endFlap(userID: string, views: Views): Views {
    const held = this.take(userID);
    if (!held || !this.rules.holdIsNews(held.before, held.latest)) return views;
    return this.toOthers(userID, held.ctx.visibility, { name: EVENT.USER_STATUS_UPDATED, data: [held.latest] }, views);
  }

  /** NTF-2 (b) and (c): each viewer who may hear and whose class sees the user is told, once. */
  private toOthers(userID: string, visibility: Visibility, event: StatusEvent, views: Views): Views {
    const full = event.data[0] as UserStatus;
    const { views: next, told } = this.rules.statusShown(views, visibility, full, this.tx.cause, this.rules.sees);
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
  private visibility(userID: string, from: Visibility, to: Visibility, full: UserStatus, views: Views): Views {
    const { views: next, told } = this.rules.visibilityChanged(views, from, to, full, this.tx.cause, this.rules.sees);
    if (told.length === 0) return next;
    const friends = this.store.friendsOf(userID);
    const events = new Map<ViewerClass, ClientEvent>();
    for (const viewer of this.rules.audience(this.listeners(userID), this.gates())) {
      const cls = this.rules.classOf(friends?.has(viewer) === true);
      if (!told.includes(cls)) continue;
      let e = events.get(cls);
      if (!e) events.set(cls, (e = { name: EVENT.USER_STATUS_UPDATED, data: Object.freeze([Object.freeze(viewOf(userID, next, cls, full))]) as UserStatus[] }));
      this.tx.send(viewer, e);
    }
    return next;
  }

  private listeners(userID: string) {
    return { subscribers: this.store.subscribersOf(userID), followers: this.store.followersOf(userID) };
  }

  gates() {
    return { userStatus: this.settings.gate === 'enabled', friendNotify: this.settings.friendNotifyOn };
  }

  /**
   * EXT-7 flap damping: a change caused by a lost link is held back from others for flapGraceMs. A comeback
   * within it ends the hold (others hear the final state if it differs from what they saw); otherwise the
   * grace's end does. Returns 'open' (not held), 'held', or the hold this change ended.
   */
  private damp(userID: string, ctx: UserStatusContext, full: UserStatus, prev: UserStatusContext): 'open' | 'held' | Flap {
    const held = this.flaps.get(userID);
    if (held) {
      const { latest, ctx: heldCtx } = held;
      this.tx.onUndo(() => Object.assign(held, { latest, ctx: heldCtx }));
      held.latest = full;
      held.ctx = ctx;
      if (this.rules.isComeback(full.reason)) return this.take(userID) ?? 'held';
      return 'held';
    }
    if (!this.rules.startsHold(full.reason, this.settings.limits.flapGraceMs, this.timers.replaying)) return 'open';
    const flap: Flap = { before: { statusType: prev.statusType, customStatus: prev.customStatus }, latest: full, ctx };
    this.hold(userID, flap);
    this.tx.onUndo(() => this.forget(userID));
    return 'held';
  }

  private hold(userID: string, flap: Flap): void {
    this.flaps.set(userID, flap);
    this.timers.armVolatile(flapKey(userID), this.settings.limits.flapGraceMs, () => this.release(userID));
  }

  private forget(userID: string): void {
    this.flaps.delete(userID);
    this.timers.cancelVolatile(flapKey(userID));
  }

  /** Ends a hold; if the command fails, the hold stays (its grace starts again). */
  private take(userID: string): Flap | undefined {
    const held = this.flaps.get(userID);
    if (!held) return undefined;
    this.forget(userID);
    this.tx.onUndo(() => this.hold(userID, held));
    return held;
  }

  isHeld(userID: string): boolean {
    return this.flaps.has(userID);
  }

  close(): void {
    for (const id of this.flaps.keys()) this.timers.cancelVolatile(flapKey(id));
    this.flaps.clear();
  }
}

const flapKey = (userID: string): string => JSON.stringify(['flap', userID, 'flapGrace']);
