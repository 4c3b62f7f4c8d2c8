// The device lifecycle as clients and sockets drive it: sessions, login and logout, a link's changes, a
// comeback (DEV-1), background and foreground (DEV-3), and the resume that follows a comeback (EXT-2).
import type { DeviceLinkEvent } from '../../machines/deviceLink';
import { isNativePlatform, type Platform } from '../../machines/spec';
import { ErrorCode, StatusError, invalidParameter, notLoggedIn } from '../errors';
import { EVENT } from '../events';
import type { Command } from '../records';
import type { Store } from '../store/types';
import type { LocalDevices } from './delivery';
import type { FanOut } from './fanout';
import type { Links } from './links';
import type { RateWindows } from './rate';
import type { Shard } from './shard';
import type { Rules } from './rules/index';
import type { Runners } from './runners';
import { DeviceSession, type DeviceSink, type LoginResult } from './session';
import type { StatusSteps } from './status';
import type { Transaction } from './transaction';
import * as check from './validate';

/** What a front-end reports of a link; a closed link comes back through `reconnect`, never by an open. */
export type FrontEndLinkEvent = Exclude<DeviceLinkEvent, { type: 'LINK.OPEN' }>;

export interface Resumed {
  lastSeq?: number;
  versions?: Record<string, number>;
}

export class Devices {
  constructor(
    private readonly store: Store,
    private readonly tx: Transaction,
    private readonly runners: Runners,
    private readonly local: LocalDevices,
    private readonly links: Links,
    private readonly status: StatusSteps,
    private readonly fanOut: FanOut,
    private readonly rules: Rules,
    private readonly rates: RateWindows,
    private readonly shard: Shard,
    private readonly run: (by: string, command: Command, then?: () => void) => void,
    private readonly isClosed: () => boolean,
  ) {}

  /**
   * A new device session. A client may bring its own `deviceId` to take its device over after a drop or a
   * restart (see `adopt`); while another open session holds that id, the new one takes it only when it logs
   * in or reconnects as the same user (see `claim`).
   */
  open(platform: Platform, sink: DeviceSink, deviceId?: string): DeviceSession {
    if (deviceId !== undefined && (typeof deviceId !== 'string' || deviceId.length === 0 || deviceId.length > 128)) {
      throw invalidParameter('deviceId', 'expected a string of 1 to 128 characters');
    }
    // Registered when it logs in (claim): a client that never does is not held by the engine, and goes with
    // the app's last reference to it.
    return new DeviceSession(platform, sink, deviceId);
  }

  /**
   * Makes `s` the session of its device for `userID`. An older session of the same device is superseded
   * (a client that came back before the server noticed its old link die); one of another logged-in user is
   * not ours to take. Returns how to undo the claim if the login that made it fails.
   */
  private claim(s: DeviceSession, userID: string): () => void {
    const holder = this.local.sessions.get(s.deviceId);
    const orphanOf = this.links.orphans.get(s.deviceId);
    // A device id names one user's device: another user's session (even dropped, waiting to come back) or
    // stored device is not ours to take.
    if ((holder && holder !== s && holder.userID !== null && holder.userID !== userID) || (orphanOf !== undefined && orphanOf !== userID)) {
      throw invalidParameter('deviceId', `device '${s.deviceId}' belongs to another user`);
    }
    if (holder && holder !== s) {
      this.local.detach(holder);
      holder.userID = null;
      holder.link = null;
    }
    this.local.sessions.set(s.deviceId, s);
    const unorphan = this.links.claimOrphan(s.deviceId, userID);
    return () => {
      if (this.local.sessions.get(s.deviceId) === s) this.local.sessions.delete(s.deviceId);
      unorphan?.();
    };
  }

  /** Forget a session (its socket or client is gone for good): a logged-in device counts as a closed link. */
  close(s: DeviceSession): void {
    if (s.loggedIn && s.userID && !this.isClosed()) this.linkEvent(s, { type: 'LINK.CLOSED' });
    this.local.detach(s);
    if (this.local.sessions.get(s.deviceId) === s) this.local.sessions.delete(s.deviceId);
  }

  login(s: DeviceSession, rawUserID: unknown): LoginResult {
    const userID = check.userID(rawUserID);
    if (s.loggedIn && s.userID === userID) return { repeatLogin: true, status: this.status.statusOf(userID, userID) };
    if (s.loggedIn) throw invalidParameter('userID', `this device is logged in as '${s.userID}': call logout() first`);
    this.requireUser(userID);
    this.rates.admit(s.deviceId, 'login', false); // EXT-6: last, as in section 10's order; the command uses the quota
    const was = { userID: s.userID, link: s.link };
    const unclaim = this.claim(s, userID);
    if (s.userID && s.userID !== userID) this.local.detach(s);
    this.local.attach(s, userID);
    s.loggedIn = true;
    s.connected = true;
    s.link = this.links.fresh(userID, s.deviceId, s.platform);
    try {
      this.run(userID, { type: 'device.login', userID, deviceId: s.deviceId, platform: s.platform });
    } catch (e) {
      this.local.detach(s);
      unclaim();
      s.userID = was.userID;
      s.link = was.link;
      throw e;
    }
    s.lastSeq = Math.max(s.lastSeq, this.tx.heardUpTo());
    if (this.shard.partial) {
      this.shard.startHeard(s, userID, this.scopeOf(userID), true);
    }
    return { repeatLogin: false, status: this.status.statusOf(userID, userID) };
  }

  logout(s: DeviceSession, userID: string): void {
    this.rates.admit(s.deviceId, 'logout', false);
    this.run(userID, { type: 'device.logout', userID, deviceId: s.deviceId });
    this.local.detach(s);
    if (this.local.sessions.get(s.deviceId) === s) this.local.sessions.delete(s.deviceId);
    s.userID = null;
    s.lastSeq = 0;
    s.heard = null;
  }

  /**
   * A device that was logged in before (this process started, or its socket dropped) comes back as
   * `userID`, already authenticated by the caller: the session takes the device's place, then `reconnect`
   * restores it and resumes (EXT-2). A device the user no longer has logs in again, as a dropped web device does.
   */
  adopt(s: DeviceSession, rawUserID: unknown, held?: Resumed): void {
    const userID = check.userID(rawUserID);
    this.requireUser(userID);
    if (s.userID && s.userID !== userID) throw invalidParameter('userID', `this device is '${s.userID}', not '${userID}'`);
    const was = s.userID;
    s.userID = userID;
    try {
      this.reconnect(s, held);
    } catch (e) {
      // What failed after the comeback landed (the resume's reads of other engines' users, EXT-2) leaves the
      // device back, logged in as its user: the session keeps it, and the client's retried resume catches up.
      // Dropping the user there left it logged in as nobody: neither a resume nor a login could take it again.
      if (!s.loggedIn) {
        if (was === null) {
          this.local.detach(s);
          if (this.local.sessions.get(s.deviceId) === s) this.local.sessions.delete(s.deviceId);
        }
        s.userID = was;
      }
      throw e;
    }
  }

  /** DEV-2/3: the link changes; a lost link becomes a device event of its user. */
  linkEvent(s: DeviceSession, event: FrontEndLinkEvent): void {
    const userID = s.userID;
    if (!s.link || !userID || this.isClosed()) return;
    const step = this.runners.link.transition(s.link, event);
    if (!s.loggedIn) {
      // A device that is not logged in has no status to lose: its link is only bookkeeping.
      if (step.handled) s.link = step.snapshot;
      return;
    }
    if (!step.handled) return;
    if (s.receiving) s.lastSeq = Math.max(s.lastSeq, this.tx.heardUpTo()); // it has heard everything so far (EXT-2)
    // The link's changes that matter are commands: journaled, replayed, and their timers durable.
    const deviceId = s.deviceId;
    const command: Command =
      event.type === 'LINK.SILENT'
        ? { type: 'device.silent', userID, deviceId }
        : event.type === 'LINK.CLOSED'
          ? { type: 'device.disconnect', userID, deviceId, reason: 'link_closed' }
          : { type: 'device.heard', userID, deviceId };
    this.run(userID, command);
  }

  /**
   * DEV-1: the device's session comes back (a dropped web device logs in again, a native one reconnects),
   * then EXT-2: each user whose status moved since the device last heard is sent once, current.
   */
  reconnect(s: DeviceSession, held?: Resumed): void {
    const userID = s.userID;
    if (!userID) throw notLoggedIn();
    this.shard.require(userID);
    if (!this.store.hasUser(userID)) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${userID}' is not registered`);
    this.claim(s, userID);
    if (held?.lastSeq !== undefined) s.lastSeq = held.lastSeq;
    if (!this.local.of(userID)?.includes(s)) this.local.attach(s, userID);
    // What the client says it heard wins (pushes may have died with a socket we still think alive);
    // without it, a device that is receiving right now has missed nothing.
    const since = held?.lastSeq !== undefined ? held.lastSeq : s.receiving ? Math.max(s.lastSeq, this.tx.heardUpTo()) : s.lastSeq;
    // From here on it hears live: this comeback's own changes, and whatever still waits in the outbox.
    const liveFrom = this.tx.heardUpTo() + 1;
    const away = held !== undefined || !s.receiving; // a device that hears right now has missed nothing
    this.reopenLink(s, userID);
    const device = this.deviceOf(userID, s.deviceId);
    if (!device || !device.connected) {
      this.run(userID, { type: 'device.reconnect', userID, deviceId: s.deviceId, platform: s.platform });
    } else {
      s.loggedIn = true;
      s.connected = true;
    }
    if (!this.shard.partial || away) this.resume(s, since, liveFrom, held?.versions);
  }

  background(s: DeviceSession, userID: string): void {
    if (!isNativePlatform(s.platform) || !s.connected) return; // a web page has no background (DEV-3)
    if (s.receiving) s.lastSeq = Math.max(s.lastSeq, this.tx.heardUpTo());
    this.run(userID, { type: 'device.background', userID, deviceId: s.deviceId });
  }

  /** DEV-3: a native app back in the foreground reconnects its link if it went down, and is connected again. */
  foreground(s: DeviceSession, userID: string): void {
    if (!isNativePlatform(s.platform)) return; // a web page has no background, so no foreground either
    if (s.connected && s.link?.value === 'deviceLink.live') return;
    const since = s.receiving ? Math.max(s.lastSeq, this.tx.heardUpTo()) : s.lastSeq;
    const liveFrom = this.tx.heardUpTo() + 1;
    this.reopenLink(s, userID);
    if (!s.connected) this.run(userID, { type: 'device.foreground', userID, deviceId: s.deviceId });
    this.resume(s, since, liveFrom);
  }

  /**
   * Brings a device's link back to live: a link waiting out its heartbeat timeout hears a heartbeat (a
   * journaled command that stops the durable wait), a closed one opens anew.
   */
  private reopenLink(s: DeviceSession, userID: string): void {
    // The device's wait began without this session (a restart, or another socket): take it over.
    const stray = this.links.takeStray(s.deviceId);
    if (stray) s.link = stray;
    if (s.link?.value === 'deviceLink.silent' && this.deviceOf(userID, s.deviceId)) {
      this.run(userID, { type: 'device.heard', userID, deviceId: s.deviceId });
    }
    if (s.link?.value !== 'deviceLink.live') s.link = this.links.fresh(userID, s.deviceId, s.platform);
  }

  /**
   * EXT-2: send, once, the current status of each user in this device's view that it was shown a change of
   * after `since` (the seq up to which it heard everything) and before `liveFrom` (from there on it heard them
   * live). `versions`, when a client passes them (e.g. after a server restart), also skips what it holds.
   */
  private resume(s: DeviceSession, since: number, liveFrom: number, versions?: Record<string, number>): void {
    const userID = s.userID;
    if (!userID || !s.receiving) return;
    if (this.shard.partial) return this.resumeByVersions(s, userID, versions);
    const gates = this.fanOut.gates();
    const scope = this.scopeOf(userID);
    const candidates = [];
    for (const id of scope) {
      if (!this.store.getStatus(id)) continue;
      if (id !== userID && !this.rules.mayHear(userID, { subscribers: this.store.subscribersOf(id), followers: this.store.followersOf(id) }, gates)) continue;
      const held = versions?.[id];
      candidates.push({ changedAt: this.status.shownAt(id, userID), status: this.status.statusOf(id, userID), ...(held === undefined ? {} : { held }) });
    }
    const batch = this.rules.resumeBatch(candidates, since, liveFrom);
    if (batch.length === 0) return;
    this.tx.send(userID, { name: EVENT.USER_STATUS_UPDATED, data: batch }, s.deviceId, this.tx.seq);
    this.tx.flush();
  }

  /**
   * EXT-2 with engines side by side: no sequence spans them, so the device's versions decide (those the
   * client passed, else those it was seen to hear). The users of other engines are read at their owner.
   */
  private resumeByVersions(s: DeviceSession, userID: string, versions?: Record<string, number>): void {
    s.heard ??= new Map(); // a device adopted after a restart: from here on, what it hears is kept
    const candidates = [];
    for (const id of this.scopeOf(userID)) {
      if (!this.shard.hasUser(id)) continue;
      if (id !== userID && !this.shard.mayHear(userID, id)) continue;
      // A client on a new socket says what it holds: what it does not name never reached it (pushes handed
      // to a socket that died count for nothing), so it holds what it started from, if anything.
      const held = versions !== undefined ? (versions[id] ?? this.shard.startedFrom(s, id)) : s.heard?.get(id);
      candidates.push({ status: this.shard.statusOf(id, userID), ...(held === undefined ? {} : { held }) });
    }
    const batch = this.rules.resumeByVersions(candidates);
    if (batch.length === 0) return;
    this.tx.send(userID, { name: EVENT.USER_STATUS_UPDATED, data: batch }, s.deviceId, this.tx.seq);
    this.tx.flush();
  }

  /** EXT-2: whom a device of `userID` is brought up to date on. */
  private scopeOf(userID: string): Set<string> {
    const subs = (this.store.getSubscriptions(userID) ?? this.runners.subsInitial).context.list;
    return this.rules.resumeScope(userID, subs, this.store.friendsOf(userID), this.fanOut.gates().friendNotify);
  }

  private deviceOf(userID: string, deviceId: string) {
    return (this.store.getStatus(userID) ?? this.runners.userInitial).context.devices.find((d) => d.id === deviceId);
  }

  private requireUser(userID: string): void {
    this.shard.require(userID);
    if (!this.store.hasUser(userID)) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${userID}' is not registered`, { param: 'userID' });
  }
}
