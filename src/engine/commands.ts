// Applying a Command: what each journaled command does to the engine's parts, in one switch. Replay and every
// live call come through here (EngineCore.apply), after the checks (src/engine/calls.ts, devices.ts, admin.ts)
// and inside the command's transaction; the machines and src/engine/rules/ decide, this only routes.
import { isNativePlatform } from '../../machines/spec';
import type { SubscriptionsEvent } from '../../machines/subscriptions';
import type { UserStatusEvent } from '../../machines/userStatus';
import type { Command } from '../records';
import type { Store } from '../store/types';
import type { Admin } from './admin';
import type { Links } from './links';
import type { RateWindows } from './rate';
import type { Runners } from './runners';
import type { Settings } from './settings';
import type { Shard } from './shard';
import type { StatusSteps } from './status';
import type { SubscriptionSteps } from './subs';
import type { DurableTimers } from './timers';
import type { Transaction } from './transaction';

export interface CommandParts {
  store: Store;
  settings: Settings;
  runners: Runners;
  timers: DurableTimers;
  links: Links;
  rates: RateWindows;
  status: StatusSteps;
  subs: SubscriptionSteps;
  admin: Admin;
  shard: Shard;
  tx: Transaction;
}

export class Commands {
  constructor(private readonly p: CommandParts) {}

  /** Applies a command without checks (EngineCore.apply: replay's entry point, and the body of every live call). */
  apply(command: Command): unknown {
    const limits = this.p.settings.limits;
    switch (command.type) {
      case 'users.register':
        return this.p.store.addUsers(command.userIDs);
      case 'friends.add':
      case 'friends.remove':
        return this.p.admin.applyFriends(command);
      case 'config.change':
        return this.p.settings.change(command.change, this.p.store, this.p.tx);
      case 'visibility.set':
        return this.toUser(command.userID, { type: 'VISIBILITY.SET', visibility: command.visibility });
      case 'device.login':
      case 'device.reconnect':
        this.toUser(command.userID, {
          type: command.type === 'device.login' ? 'DEVICE.LOGIN' : 'DEVICE.RECONNECT',
          deviceId: command.deviceId,
          platform: command.platform,
          cap: isNativePlatform(command.platform) ? limits.maxDevicesPerNativePlatform : limits.maxWebInstances,
        });
        // EXT-6: a login uses its device's window, after the step (an inspector sees the login first).
        if (command.type === 'device.login') this.p.rates.admit(command.deviceId, 'login', true);
        return;
      case 'device.logout':
        this.p.links.drop(command.userID, command.deviceId);
        this.toUser(command.userID, { type: 'DEVICE.LOGOUT', deviceId: command.deviceId });
        return this.p.rates.admit(command.deviceId, 'logout', true);
      case 'device.disconnect':
        // A closed link goes through the device's link machine (which stops any heartbeat wait); so does the
        // timeout of a device found connected at start (Links.timedOut).
        if (command.reason === 'link_closed') return this.p.links.step(command.userID, command.deviceId, { type: 'LINK.CLOSED' });
        return this.p.links.timedOut(command.userID, command.deviceId);
      case 'device.silent':
        return this.p.links.step(command.userID, command.deviceId, { type: 'LINK.SILENT' });
      case 'device.heard':
        return this.p.links.step(command.userID, command.deviceId, { type: 'LINK.HEARTBEAT' });
      case 'device.background':
        return this.toUser(command.userID, { type: 'DEVICE.BACKGROUND', deviceId: command.deviceId });
      case 'device.foreground':
        return this.toUser(command.userID, { type: 'DEVICE.FOREGROUND', deviceId: command.deviceId });
      case 'status.set':
        return this.toUser(command.userID, { type: 'STATUS.SET', customStatus: command.customStatus });
      case 'status.query':
        return this.p.rates.admit(command.userID, 'getUserStatus', true);
      case 'subscriptions.add':
        this.p.rates.admit(command.userID, 'subscribeUserStatus', true);
        return this.p.subs.step(command.userID, { type: 'SUB.ADD', userIDs: command.userIDs, quota: limits.subscriptionQuota });
      case 'subscriptions.remove':
        this.p.rates.admit(command.userID, 'unsubscribeUserStatus', true);
        return this.p.subs.step(command.userID, command.userIDs === null ? { type: 'SUB.REMOVE_ALL' } : { type: 'SUB.REMOVE', userIDs: command.userIDs });
      case 'timer.fire':
        return this.fire(command.key);
      case 'flap.release':
        return this.p.status.releaseFlap(command.userID);
      case 'edges.mirror':
        return this.p.shard.applyMirror(command);
    }
  }

  private toUser(userID: string, event: UserStatusEvent): void {
    this.p.status.step(userID, event);
  }

  /** A durable timer's firing: the delayed event goes back to the machine that asked for it. */
  private fire(key: string): void {
    const t = this.p.timers.take(key);
    if (!t) return;
    if (t.machine === 'userStatus') this.p.status.step(t.owner, this.p.runners.user.afterEvent(t.delay, t.state) as UserStatusEvent);
    else if (t.machine === 'subscriptions') this.p.subs.step(t.owner, this.p.runners.subs.afterEvent(t.delay, t.state) as SubscriptionsEvent);
    else if (t.machine === 'flap') this.p.status.releaseFlap(t.owner);
    else if (t.deviceId !== undefined) this.p.links.step(t.owner, t.deviceId, this.p.runners.link.afterEvent(t.delay, t.state));
  }
}
