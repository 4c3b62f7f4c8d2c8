// The admin side: users, friends, settings, and the reads an operator makes (EXT-3 journal and explain,
// EXT-9 query with device detail, exportState). Changes are commands like the devices' own.
import type { AccessContext } from '../../machines/access';
import { ADMIN_MAX_USERS_PER_CALL, TYPES, isNativePlatform } from '../../machines/spec';
import { ErrorCode, StatusError, invalidParameter } from '../errors';
import type { Command, JournalEntry, StatusTransition } from '../records';
import type { Store } from '../store/types';
import type { AdminStatus, EngineState } from '../types';
import type { UserDetail } from './port';
import { notRegistered } from './calls';
import { parseConfigChange } from './config';
import type { Runners } from './runners';
import type { Settings } from './settings';
import type { Shard } from './shard';
import type { StatusSteps } from './status';
import type { DurableTimers } from './timers';
import * as check from './validate';

const adminList = (raw: unknown, param: string) => check.userIDList(raw, { param, max: ADMIN_MAX_USERS_PER_CALL, limitName: 'ADMIN_MAX_USERS_PER_CALL' });

export class Admin {
  constructor(
    private readonly store: Store,
    private readonly settings: Settings,
    private readonly runners: Runners,
    private readonly status: StatusSteps,
    private readonly timers: DurableTimers,
    private readonly shard: Shard,
    private readonly run: (by: string, command: Command) => void,
  ) {}

  registerUsers(raw: unknown): void {
    const ids = adminList(raw, 'userIDs');
    for (const id of ids) this.shard.require(id, 'userIDs');
    const fresh = ids.filter((id) => !this.store.hasUser(id));
    if (fresh.length === 0) return;
    this.run('admin', { type: 'users.register', userIDs: fresh });
  }

  /**
   * Adds or removes friends of `userID` (directional: they join or leave its own list); with `both`, the
   * reverse edges too (REST's Add_Type_Both), in the same command: all of it lands, or none.
   */
  changeFriends(rawUser: unknown, rawFriends: unknown, add: boolean, both = false): void {
    const userID = check.userID(rawUser);
    const friendIDs = adminList(rawFriends, 'friendIDs');
    // The list is the user's own: its owner changes it (and mirrors each entry at the friend's owner). The
    // reverse edges of Add_Type_Both are the friends' own lists: across engines, ask each owner.
    this.shard.require(userID);
    if (both) for (const f of friendIDs) this.shard.require(f, 'friendIDs');
    for (const id of [userID, ...friendIDs]) {
      if (!this.shard.hasUser(id)) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${id}' is not registered`, { param: id === userID ? 'userID' : 'friendIDs' });
    }
    if (friendIDs.includes(userID)) throw invalidParameter('friendIDs', `a user cannot be its own friend ('${userID}')`);
    const differs = (owner: string, f: string) => (this.store.friendsOf(owner)?.has(f) === true) !== add;
    const todo = friendIDs.filter((f) => differs(userID, f));
    const reverse = both ? friendIDs.filter((f) => differs(f, userID)) : [];
    if (todo.length === 0 && reverse.length === 0) return;
    const command: Command = add ? { type: 'friends.add', userID, friendIDs: todo } : { type: 'friends.remove', userID, friendIDs: todo };
    if (reverse.length > 0) command.reverse = reverse;
    this.run('admin', command);
  }

  /** Applies a friends command: its own edges, then (Add_Type_Both) each reverse edge. */
  applyFriends(command: Extract<Command, { type: 'friends.add' | 'friends.remove' }>): void {
    const change = command.type === 'friends.add' ? this.store.addFriends.bind(this.store) : this.store.removeFriends.bind(this.store);
    if (command.friendIDs.length > 0) change(command.userID, command.friendIDs);
    for (const f of command.reverse ?? []) change(f, [command.userID]);
    const added = command.type === 'friends.add';
    this.shard.mirror('friend', command.userID, added ? command.friendIDs : [], added ? [] : command.friendIDs);
    if (added) this.shard.listens(command.userID, command.friendIDs);
  }

  configure(raw: unknown): void {
    this.run('admin', { type: 'config.change', change: parseConfigChange(raw, 'change') });
  }

  current(): AccessContext {
    return structuredClone(this.settings.current);
  }

  queryStatus(raw: unknown, opts: unknown): AdminStatus[] {
    const ids = check.userIDList(raw, { param: 'userIDs', max: this.settings.limits.queryMaxUsers, limitName: 'queryMaxUsers' });
    const o = check.options(opts, 'queryStatus', true);
    if (o.detail !== undefined && typeof o.detail !== 'boolean') throw invalidParameter('detail', `expected a boolean, got ${typeof o.detail}`);
    return ids.map((id) => {
      if (!this.store.hasUser(id)) {
        const f = this.shard.owns(id) ? notRegistered(id) : { code: ErrorCode.NOT_OWNER, message: `user '${id}' is owned by another engine: ask its owner` };
        return { userID: id, statusType: TYPES.USER_STATUS_UNKNOWN, customStatus: '', version: 0, reason: 'registered', error: { code: f.code, message: f.message } };
      }
      const s: AdminStatus = this.status.statusOf(id, null);
      if (o.detail === true) {
        const rec = this.store.getStatus(id) ?? this.runners.userInitial;
        s.devices = rec.context.devices.map((d) => ({
          deviceId: d.id,
          platform: d.platform,
          connected: d.connected,
          pushOnline: !d.connected && isNativePlatform(d.platform),
        }));
      }
      return s;
    });
  }

  /** What an operator's page shows of one user beyond queryStatus (the dashboard): read only. */
  userDetail(raw: unknown): UserDetail {
    const userID = check.userID(raw);
    if (!this.store.hasUser(userID)) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${userID}' is not registered`, { param: 'userID' });
    const rec = this.store.getStatus(userID);
    const subs = this.store.getSubscriptions(userID);
    return {
      statusState: rec?.value ?? this.runners.userInitial.value,
      visibility: rec?.context.visibility ?? 'everyone',
      subscriptionsState: subs?.value ?? null,
      subscriptions: [...(subs?.context.list ?? [])],
      subscribers: [...(this.store.subscribersOf(userID) ?? [])],
      friends: [...(this.store.friendsOf(userID) ?? [])],
    };
  }

  userCount(): number {
    return this.store.userCount();
  }

  /** Users whose status is ONLINE now (a scan: for an operator's page, not a hot path). */
  onlineUserIDs(): string[] {
    const out: string[] = [];
    for (const id of this.store.userIDs()) if (this.store.getStatus(id)?.context.statusType === TYPES.USER_STATUS_ONLINE) out.push(id);
    return out;
  }

  explain(raw: unknown): StatusTransition[] {
    const userID = check.userID(raw);
    this.shard.require(userID);
    if (!this.store.hasUser(userID)) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${userID}' is not registered`, { param: 'userID' });
    return this.store.journalOf(userID).filter((e): e is StatusTransition => e.kind === 'transition' && e.machine === 'userStatus');
  }

  journal(raw?: unknown): JournalEntry[] {
    const opts = check.journalOptions(raw);
    const from = opts.fromSeq ?? this.store.firstSeq();
    return this.store.readJournal(from, opts.limit ?? Number.MAX_SAFE_INTEGER);
  }

  exportState(): EngineState {
    const users: EngineState['users'] = {};
    for (const id of this.store.userIDs()) {
      const rec = this.store.getStatus(id) ?? this.runners.userInitial;
      const subs = this.store.getSubscriptions(id) ?? this.runners.subsInitial;
      users[id] = {
        statusType: rec.context.statusType,
        customStatus: rec.context.customStatus,
        version: rec.context.version,
        state: this.runners.user.pathOf(rec),
        devices: rec.context.devices.map((d) => ({ deviceId: d.id, platform: d.platform, connected: d.connected })),
        subscriptions: [...subs.context.list],
        friends: [...(this.store.friendsOf(id) ?? [])].sort(),
        visibility: rec.context.visibility,
      };
    }
    const timers = [...this.timers.all()].map((t) => ({ key: t.key, due: t.due })).sort((a, b) => (a.key < b.key ? -1 : 1));
    return { settings: this.current(), users, timers };
  }
}
