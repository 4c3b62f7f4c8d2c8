// The Web SDK's four status calls and EXT-5's setVisibility, as a logged-in device makes them. Each names
// its checks (made once, below) and runChecks runs them in SPEC section 10's order; a failed check changes
// nothing.
import type { Visibility } from '../../machines/userStatus';
import { ErrorCode, invalidParameter } from '../errors';
import { EVENT } from '../events';
import type { Command, Failure, UserStatus } from '../records';
import type { RateWindows } from './rate';
import { connectionError, featureError, loginError, runChecks, type CallChecks } from './rules/checks';
import type { DeviceSession } from './session';
import type { Settings } from './settings';
import type { Shard } from './shard';
import type { StatusSteps } from './status';
import type { Transaction } from './transaction';
import * as check from './validate';

type Args = { s: DeviceSession; raw: unknown };

export class Calls {
  constructor(
    private readonly tx: Transaction,
    private readonly settings: Settings,
    private readonly rates: RateWindows,
    private readonly status: StatusSteps,
    /** Reads of other users go to their owner (engines side by side); this engine's own are local. */
    private readonly shard: Shard,
    private readonly run: (by: string, command: Command, then?: () => void) => void,
  ) {}

  /** 2024 first: the caller's user, or a throw. */
  userOf(s: DeviceSession): string {
    const e = loginError(s.loggedIn && s.userID !== null);
    if (e) throw e;
    return s.userID as string;
  }

  private readonly login = (a: Args): string => this.userOf(a.s);
  private readonly connected = (a: Args): void => {
    const e = connectionError(a.s.connected, a.s.link?.value === 'deviceLink.live');
    if (e) throw e;
  };
  private readonly feature = (): void => {
    const e = featureError(this.settings.gate, this.settings.current.edition);
    if (e) throw e;
  };
  private readonly limits = () => this.settings.limits;

  private readonly setSelfStatusChecks: CallChecks<Args, string> = {
    login: this.login,
    params: (a) => check.customStatus(check.options(a.raw, 'setSelfStatus').customStatus, this.limits().customStatusMaxBytes),
    connected: this.connected,
  };

  setSelfStatus(s: DeviceSession, raw: unknown): UserStatus {
    const { userID, params: customStatus } = runChecks(this.setSelfStatusChecks, { s, raw });
    this.run(userID, { type: 'status.set', userID, customStatus, deviceId: s.deviceId });
    return this.status.statusOf(userID, userID);
  }

  private readonly getUserStatusChecks: CallChecks<Args, { ids: string[]; selfOnly: boolean }> = {
    login: this.login,
    params: (a, userID) => {
      const ids = check.userIDList(check.options(a.raw, 'getUserStatus').userIDList, { max: this.limits().queryMaxUsers, limitName: 'queryMaxUsers' });
      return { ids, selfOnly: ids.length === 1 && ids[0] === userID };
    },
    connected: this.connected,
    // A query of oneself alone is no query of others: no gate, no quota.
    feature: (_a, p) => p.selfOnly || this.feature(),
    rate: (_a, p, userID) => p.selfOnly || this.rates.admit(userID, 'getUserStatus', false),
  };

  getUserStatus(s: DeviceSession, raw: unknown): { successUserList: UserStatus[]; failureUserList: Failure[] } {
    const { userID, params } = runChecks(this.getUserStatusChecks, { s, raw });
    if (!params.selfOnly) this.run(userID, { type: 'status.query', userID, count: params.ids.length });
    const successUserList: UserStatus[] = [];
    const failureUserList: Failure[] = [];
    for (const id of params.ids) {
      if (!this.shard.hasUser(id)) failureUserList.push(notRegistered(id));
      else successUserList.push(this.shard.statusOf(id, userID));
    }
    return { successUserList, failureUserList };
  }

  private readonly subscribeChecks: CallChecks<Args, { ids: string[]; pushCurrent: boolean }> = {
    login: this.login,
    params: (a) => {
      const opts = check.options(a.raw, 'subscribeUserStatus');
      const ids = check.userIDList(opts.userIDList, { max: this.limits().subscribeMaxUsers, limitName: 'subscribeMaxUsers' });
      if (opts.pushCurrent !== undefined && typeof opts.pushCurrent !== 'boolean') {
        throw invalidParameter('pushCurrent', `expected a boolean, got ${typeof opts.pushCurrent}`);
      }
      return { ids, pushCurrent: opts.pushCurrent === true };
    },
    connected: this.connected,
    feature: this.feature,
    rate: (_a, _p, userID) => this.rates.admit(userID, 'subscribeUserStatus', false),
  };

  subscribe(s: DeviceSession, raw: unknown): { failureUserList: Failure[] } {
    const { userID, params } = runChecks(this.subscribeChecks, { s, raw });
    const failureUserList: Failure[] = [];
    const ok: string[] = [];
    for (const id of params.ids) {
      if (id === userID) failureUserList.push({ userID: id, code: ErrorCode.INVALID_PARAMETER, message: 'subscribing to yourself is not supported' });
      else if (!this.shard.hasUser(id)) failureUserList.push(notRegistered(id));
      else ok.push(id);
    }
    this.run(userID, { type: 'subscriptions.add', userID, userIDs: ok, deviceId: s.deviceId }, () => {
      // EXT-2: the current status at once, to this device, when asked: as this viewer sees it (issue 17).
      this.shard.listens(userID, ok);
      if (params.pushCurrent && ok.length > 0) {
        this.tx.send(userID, { name: EVENT.USER_STATUS_UPDATED, data: ok.map((id) => this.shard.statusOf(id, userID)) }, s.deviceId);
      }
    });
    return { failureUserList };
  }

  private readonly unsubscribeChecks: CallChecks<Args, string[] | null> = {
    login: this.login,
    params: (a) => {
      const opts = check.options(a.raw, 'unsubscribeUserStatus', true);
      // UNSUB-2: no list, or an empty one, means all.
      const all = opts.userIDList === undefined || (Array.isArray(opts.userIDList) && opts.userIDList.length === 0);
      return all ? null : check.userIDList(opts.userIDList, { max: this.limits().unsubscribeMaxUsers, limitName: 'unsubscribeMaxUsers' });
    },
    connected: this.connected,
    feature: this.feature,
    rate: (_a, _p, userID) => this.rates.admit(userID, 'unsubscribeUserStatus', false),
  };

  unsubscribe(s: DeviceSession, raw: unknown): { failureUserList: Failure[] } {
    const { userID, params: ids } = runChecks(this.unsubscribeChecks, { s, raw });
    const failureUserList: Failure[] = [];
    const ok: string[] | null = ids === null ? null : [];
    for (const id of ids ?? []) {
      if (!this.shard.hasUser(id)) failureUserList.push(notRegistered(id));
      else ok?.push(id);
    }
    this.run(userID, { type: 'subscriptions.remove', userID, userIDs: ok, deviceId: s.deviceId });
    return { failureUserList };
  }

  private readonly visibilityChecks: CallChecks<Args, Visibility> = {
    login: this.login,
    params: (a) => {
      if (a.raw !== 'everyone' && a.raw !== 'friends' && a.raw !== 'nobody') {
        throw invalidParameter('visibility', `expected 'everyone', 'friends' or 'nobody', got ${check.describe(a.raw)}`);
      }
      return a.raw;
    },
    connected: this.connected,
  };

  /** EXT-5: who may see this user's status. */
  setVisibility(s: DeviceSession, raw: unknown): UserStatus {
    const { userID, params: visibility } = runChecks(this.visibilityChecks, { s, raw });
    this.run(userID, { type: 'visibility.set', userID, visibility });
    return this.status.statusOf(userID, userID);
  }
}

export const notRegistered = (userID: string): Failure => ({
  userID,
  code: ErrorCode.USER_NOT_FOUND,
  message: `user '${userID}' is not registered`,
});
