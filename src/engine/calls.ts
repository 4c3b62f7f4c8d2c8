// The Web SDK's four status calls and EXT-5's setVisibility, as a logged-in device makes them. Each names
// its checks and runRules runs them in SPEC section 10's order; a failed check changes nothing.
import type { Visibility } from '../../machines/userStatus';
import { ErrorCode, invalidParameter } from '../errors';
import { EVENT } from '../events';
import type { Command, Failure, UserStatus } from '../records';
import type { Store } from '../store/types';
import type { RateWindows } from './rate';
import { connectionError, featureError, loginError, runChecks } from './rules/checks';
import type { DeviceSession } from './session';
import type { Settings } from './settings';
import type { StatusSteps } from './status';
import type { Transaction } from './transaction';
import * as check from './validate';

export class Calls {
  constructor(
    private readonly store: Store,
    private readonly tx: Transaction,
    private readonly settings: Settings,
    private readonly rates: RateWindows,
    private readonly status: StatusSteps,
    private readonly run: (by: string, command: Command, then?: () => void) => void,
  ) {}

  /** 2024 first: the caller's user, or a throw. */
  userOf(s: DeviceSession): string {
    const e = loginError(s.loggedIn && s.userID !== null);
    if (e) throw e;
    return s.userID as string;
  }

  private connected(s: DeviceSession): () => void {
    return () => {
      const e = connectionError(s.connected, s.link?.value === 'deviceLink.live');
      if (e) throw e;
    };
  }

  private feature = (): void => {
    const e = featureError(this.settings.gate, this.settings.current.edition);
    if (e) throw e;
  };

  setSelfStatus(s: DeviceSession, raw: unknown): UserStatus {
    let userID = '';
    let customStatus = '';
    runChecks({
      login: () => (userID = this.userOf(s)),
      params: () => (customStatus = check.customStatus(check.options(raw, 'setSelfStatus').customStatus, this.settings.limits.customStatusMaxBytes)),
      connected: this.connected(s),
    });
    this.run(userID, { type: 'status.set', userID, customStatus });
    return this.status.statusOf(userID, userID);
  }

  getUserStatus(s: DeviceSession, raw: unknown): { successUserList: UserStatus[]; failureUserList: Failure[] } {
    let userID = '';
    let ids: string[] = [];
    let selfOnly = false;
    runChecks({
      login: () => (userID = this.userOf(s)),
      params: () => {
        ids = check.userIDList(check.options(raw, 'getUserStatus').userIDList, { max: this.settings.limits.queryMaxUsers, limitName: 'queryMaxUsers' });
        selfOnly = ids.length === 1 && ids[0] === userID;
      },
      connected: this.connected(s),
      // A query of oneself alone is no query of others: no gate, no quota.
      feature: () => selfOnly || this.feature(),
      rate: () => selfOnly || this.rates.admit(userID, 'getUserStatus', false),
    });
    if (!selfOnly) this.run(userID, { type: 'status.query', userID, count: ids.length });
    const successUserList: UserStatus[] = [];
    const failureUserList: Failure[] = [];
    for (const id of ids) {
      if (!this.store.hasUser(id)) failureUserList.push(notRegistered(id));
      else successUserList.push(this.status.statusOf(id, userID));
    }
    return { successUserList, failureUserList };
  }

  subscribe(s: DeviceSession, raw: unknown): { failureUserList: Failure[] } {
    let userID = '';
    let ids: string[] = [];
    let pushCurrent = false;
    runChecks({
      login: () => (userID = this.userOf(s)),
      params: () => {
        const opts = check.options(raw, 'subscribeUserStatus');
        ids = check.userIDList(opts.userIDList, { max: this.settings.limits.subscribeMaxUsers, limitName: 'subscribeMaxUsers' });
        if (opts.pushCurrent !== undefined && typeof opts.pushCurrent !== 'boolean') {
          throw invalidParameter('pushCurrent', `expected a boolean, got ${typeof opts.pushCurrent}`);
        }
        pushCurrent = opts.pushCurrent === true;
      },
      connected: this.connected(s),
      feature: this.feature,
      rate: () => this.rates.admit(userID, 'subscribeUserStatus', false),
    });
    const failureUserList: Failure[] = [];
    const ok: string[] = [];
    for (const id of ids) {
      if (id === userID) failureUserList.push({ userID: id, code: ErrorCode.INVALID_PARAMETER, message: 'subscribing to yourself is not supported' });
      else if (!this.store.hasUser(id)) failureUserList.push(notRegistered(id));
      else ok.push(id);
    }
    this.run(userID, { type: 'subscriptions.add', userID, userIDs: ok }, () => {
      // EXT-2: the current status at once, to this device, when asked: as this viewer sees it (issue 17).
      if (pushCurrent && ok.length > 0) {
        this.tx.send(userID, { name: EVENT.USER_STATUS_UPDATED, data: ok.map((id) => this.status.statusOf(id, userID)) }, s.deviceId);
      }
    });
    return { failureUserList };
  }

  unsubscribe(s: DeviceSession, raw: unknown): { failureUserList: Failure[] } {
    let userID = '';
    let ids: string[] | null = null;
    runChecks({
      login: () => (userID = this.userOf(s)),
      params: () => {
        const opts = check.options(raw, 'unsubscribeUserStatus', true);
        // UNSUB-2: no list, or an empty one, means all.
        const all = opts.userIDList === undefined || (Array.isArray(opts.userIDList) && opts.userIDList.length === 0);
        ids = all ? null : check.userIDList(opts.userIDList, { max: this.settings.limits.unsubscribeMaxUsers, limitName: 'unsubscribeMaxUsers' });
      },
      connected: this.connected(s),
      feature: this.feature,
      rate: () => this.rates.admit(userID, 'unsubscribeUserStatus', false),
    });
    const failureUserList: Failure[] = [];
    const list = ids as string[] | null;
    const ok: string[] | null = list === null ? null : [];
    for (const id of list ?? []) {
      if (!this.store.hasUser(id)) failureUserList.push(notRegistered(id));
      else ok?.push(id);
    }
    this.run(userID, { type: 'subscriptions.remove', userID, userIDs: ok });
    return { failureUserList };
  }

  /** EXT-5: who may see this user's status. */
  setVisibility(s: DeviceSession, raw: unknown): UserStatus {
    let userID = '';
    let visibility: Visibility = 'everyone';
    runChecks({
      login: () => (userID = this.userOf(s)),
      params: () => {
        if (raw !== 'everyone' && raw !== 'friends' && raw !== 'nobody') {
          throw invalidParameter('visibility', `expected 'everyone', 'friends' or 'nobody', got ${check.describe(raw)}`);
        }
        visibility = raw;
      },
      connected: this.connected(s),
    });
    this.run(userID, { type: 'visibility.set', userID, visibility });
    return this.status.statusOf(userID, userID);
  }
}

export const notRegistered = (userID: string): Failure => ({
  userID,
  code: ErrorCode.USER_NOT_FOUND,
  message: `user '${userID}' is not registered`,
});
