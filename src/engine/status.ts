// One event to one user's status machine, with everything that follows from it: the record and its views,
// the journal entry (EXT-1/EXT-3), the timers, the subscription list it drives (UNSUB-5, EXT-4), kicks
// (DEV-4), the fan-out, and the sessions. Also the one read of a status as a viewer sees it (EXT-5, issue 17).
import { TYPES } from '../../machines/spec';
import { reasonOf, type UserStatusContext, type UserStatusEmitted, type UserStatusEvent } from '../../machines/userStatus';
import { ErrorCode } from '../errors';
import { EVENT } from '../events';
import type { Command, RunnerSnapshot, StatusRecord, StatusTransition, UserStatus } from '../records';
import { StoreUnavailableError, type StatusStepFields, type Store } from '../store/types';
import type { LocalDevices } from './delivery';
import type { FanOut, Shown } from './fanout';
import type { InspectReports } from './inspectReports';
import type { Rules } from './rules/index';
import { compact, plainViews, viewOf } from './rules/views';
import type { Runners } from './runners';
import { timerRequests } from './steps';
import type { SubscriptionSteps } from './subs';
import type { DurableTimers } from './timers';
import type { Transaction } from './transaction';

/** What a change's fan-out reads of the status before it. */
type StatusBefore = Pick<UserStatusContext, 'statusType' | 'customStatus' | 'version' | 'reason' | 'visibility'>;

export type TransitionListener = (entry: StatusTransition, command: Command | undefined) => void;

export interface StatusParts {
  store: Store;
  tx: Transaction;
  timers: DurableTimers;
  runners: Runners;
  rules: Rules;
  reports: InspectReports;
  local: LocalDevices;
  fanOut: FanOut;
  subs: SubscriptionSteps;
  journalOn: boolean;
  listeners: ReadonlySet<TransitionListener>;
  /** DEV-4: forget a kicked device's link wait. */
  dropLink: (userID: string, deviceId: string) => void;
}

/** What the reused journal fields point at between steps (so that they keep no record alive). */
const NO_CONTEXT: StatusStepFields['after'] = { statusType: TYPES.USER_STATUS_UNLOGINED, customStatus: '', version: 0, devices: [] };

export class StatusSteps {
  /** The journal entry of a step as fields (Store.appendStatusStep), one object for every step. */
  private readonly fields: StatusStepFields = { seq: 0, at: 0, cause: 0, userID: '', event: '', reason: 'registered', from: '', to: '', before: NO_CONTEXT, after: NO_CONTEXT };

  constructor(private readonly p: StatusParts) {}

  step(userID: string, event: UserStatusEvent): void {
    const { store, tx, runners } = this.p;
    const before = store.getStatus(userID) ?? runners.userInitial;
    // The store may write the next fields into this very record (Store.patchStatus): what the step reads of
    // the record before it is read now. Contexts are never written into, so `prev` below stays as it was.
    const from = runners.user.pathOf(before);
    const context0 = before.context;
    const seq0 = before.seq;
    const views0 = before.views;
    const flap0 = before.flap;
    // The runner's answer is filled again by its next transition (a kick below may run one): read it now.
    const step = runners.user.transition(before, event);
    if (!step.handled) return;
    const { snapshot, emitted, timers } = step;
    if (this.p.reports.on) {
      // An inspector keeps what it is shown until the commit: records of their own.
      const shown: StatusRecord = { value: snapshot.value, context: snapshot.context, seq: seq0 };
      this.p.reports.transition(runners.user, userID, event, shown, { before: { value: before.value, context: context0 } });
    }
    this.p.timers.apply('userStatus', userID, timerRequests(runners.user, timers));
    let lastChange: Extract<UserStatusEmitted, { type: 'status.changed' }> | undefined;
    let kicked = false;
    for (const e of emitted) {
      if (e.type !== 'status.changed') kicked = true;
      else lastChange = e;
    }
    const seq = lastChange ? tx.cause : seq0;
    this.put(userID, snapshot.value, snapshot.context, seq, views0, flap0);
    if (this.p.journalOn || this.p.listeners.size > 0) {
      this.journal(userID, event, from, context0, runners.user.pathOf(snapshot), snapshot.context, lastChange?.reason ?? (kicked ? 'kicked' : reasonOf(event)));
    }
    let prev: StatusBefore = context0;
    let shown: Shown = { views: views0, seq: seq0, flap: flap0 ?? runners.flapInitial };
    for (let i = 0; i < emitted.length; i++) {
      const em = emitted[i] as UserStatusEmitted;
      if (em.type === 'device.kicked') {
        for (const id of em.deviceIds) this.kick(userID, id);
        continue;
      }
      const owner = this.p.rules.ownerEvent(prev.statusType, em.statusType);
      if (owner) this.p.subs.step(userID, { type: owner });
      if (owner === 'OWNER.LOGGED_IN') {
        // EXT-4: the returning user hears which subscriptions were cleared while it was away.
        const notice = store.getNotice(userID);
        if (notice) {
          store.putNotice(userID, undefined);
          tx.send(userID, { name: EVENT.SUBSCRIPTION_ENDED, data: notice });
        }
      }
      shown = this.p.fanOut.change(userID, snapshot.context, em, prev, shown);
      // A later change of the same step sees this one as its before (only the two fields move).
      if (i < emitted.length - 1) prev = { ...prev, statusType: em.statusType, customStatus: em.customStatus };
    }
    this.keep(userID, snapshot.value, snapshot.context, seq, views0, flap0, shown);
    // Sessions follow their devices; a step that left the devices as they were (a custom status) has nothing to sync.
    if (snapshot.context.devices !== context0.devices) this.p.local.sync(userID, snapshot.context);
  }

  /** EXT-7: a flap's grace ran out (its durable timer, or an older journal's `flap.release` command). */
  releaseFlap(userID: string): void {
    const rec = this.p.store.getStatus(userID);
    if (!rec) return;
    const { value, context: c, seq, views, flap } = rec;
    const status: UserStatus = { userID, statusType: c.statusType, customStatus: c.customStatus, version: c.version, reason: c.reason };
    this.keep(userID, value, c, seq, views, flap, this.p.fanOut.endFlap(userID, status, c.visibility, { views, seq, flap: flap ?? this.p.runners.flapInitial }));
  }

  /** The record's fields, written into the stored record where the store can (Store.patchStatus). */
  private put(userID: string, value: string, context: UserStatusContext, seq: number, views: StatusRecord['views'], flap: StatusRecord['flap']): void {
    const store = this.p.store;
    if (store.patchStatus !== undefined) return store.patchStatus(userID, value, context, seq, views, flap);
    const next: StatusRecord = { value, context, seq };
    if (views) next.views = views;
    if (flap) next.flap = flap;
    store.putStatus(userID, next);
  }

  /** The record keeps the views others were left with, and a holding flap machine, only while they matter. */
  private keep(userID: string, value: string, context: UserStatusContext, seq: number, views0: StatusRecord['views'], flap0: StatusRecord['flap'], shown: Shown): void {
    // Undefined views are plain: both classes were shown the record's own status, at `shown.seq` (a flap's
    // release shows it later than the change itself: resume counts from there, EXT-2).
    const views = compact(shown.views ?? (shown.seq === seq ? undefined : plainViews(context, shown.seq)), context, seq);
    const flap = shown.flap.value === this.p.runners.flapInitial.value ? undefined : shown.flap;
    if (views === views0 && flap === flap0) return;
    this.put(userID, value, context, seq, views, flap);
  }

  /**
   * EXT-1/EXT-3: every step of the machine is journaled, also those that change no visible status (a second
   * device, a kick), so that explain() shows how the user got where it is; listeners hear it after the commit.
   */
  private journal(userID: string, event: UserStatusEvent, from: string, before: UserStatusContext, to: string, after: UserStatusContext, reason: StatusTransition['reason']): void {
    const { tx, store } = this.p;
    // Nobody keeps the entry but the journal: the store takes its fields, in one object filled again each time.
    if (this.p.listeners.size === 0 && store.appendStatusStep !== undefined) {
      const f = this.fields;
      f.seq = ++tx.seq;
      f.at = tx.now;
      f.cause = tx.cause;
      f.userID = userID;
      f.event = event.type;
      f.reason = reason;
      f.from = from;
      f.to = to;
      f.before = before;
      f.after = after;
      store.appendStatusStep(f);
      f.before = f.after = NO_CONTEXT;
      return;
    }
    const entry: StatusTransition = {
      seq: ++tx.seq,
      at: tx.now,
      kind: 'transition',
      cause: tx.cause,
      machine: 'userStatus',
      userID,
      event: event.type,
      reason,
      from,
      to,
      before: { statusType: before.statusType, customStatus: before.customStatus },
      after: { statusType: after.statusType, customStatus: after.customStatus },
      version: after.version,
      devices: after.devices.length,
    };
    if (this.p.journalOn) store.append(entry);
    if (this.p.listeners.size > 0) {
      const command = tx.command;
      tx.afterCommit(() => {
        for (const l of this.p.listeners) l(entry, command);
      });
    }
  }

  /** DEV-4: the kicked device hears 3002 and is logged out here. */
  private kick(userID: string, deviceId: string): void {
    this.p.dropLink(userID, deviceId);
    this.p.tx.send(
      userID,
      { name: EVENT.KICKED_OUT, data: { type: 'multipleDevice', code: ErrorCode.KICKED_OUT, message: 'kicked out by a newer login on the same platform' } },
      deviceId,
    );
    const s = this.p.local.sessions.get(deviceId);
    if (s) {
      // Not a drop: it does not log back in by itself. Out first, then without a user (never logged in as nobody).
      const was = { userID: s.userID, loggedIn: s.loggedIn, connected: s.connected };
      s.loggedIn = false;
      s.connected = false;
      s.userID = null;
      this.p.tx.onUndo(() => {
        s.userID = was.userID;
        s.loggedIn = was.loggedIn;
        s.connected = was.connected;
      });
    }
  }

  /** A user's status as `viewer` may see it (EXT-5, issue 17); null: the admin. ST-7: UNKNOWN only when the store cannot tell. */
  statusOf(userID: string, viewer: string | null): UserStatus {
    let rec: StatusRecord;
    try {
      rec = this.p.store.getStatus(userID) ?? this.p.runners.userInitial;
    } catch (e) {
      if (e instanceof StoreUnavailableError) {
        return { userID, statusType: TYPES.USER_STATUS_UNKNOWN, customStatus: '', version: 0, reason: 'registered' };
      }
      throw e;
    }
    const c = rec.context;
    if (viewer === userID || viewer === null || rec.views === undefined) {
      return { userID, statusType: c.statusType, customStatus: c.customStatus, version: c.version, reason: c.reason };
    }
    return viewOf(userID, rec.views, this.p.rules.classOf(this.p.store.friendsOf(userID)?.has(viewer) === true), c);
  }

  /** The seq at which `viewer` was last shown a change of `userID` (EXT-2 resume). */
  shownAt(userID: string, viewer: string): number {
    const rec = this.p.store.getStatus(userID);
    if (!rec) return 0;
    if (viewer === userID || rec.views === undefined) return rec.seq;
    return rec.views[this.p.rules.classOf(this.p.store.friendsOf(userID)?.has(viewer) === true)].seq;
  }
}
