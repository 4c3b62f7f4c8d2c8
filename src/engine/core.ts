// The engine: applies commands to the machines' compact records, decides who hears of each change (NTF-2),
// owns the timers, and keeps the journal (EXT-3). Every state change is one Command, applied inside one store
// transaction by `apply()`; the live calls validate and gate first (so a failed call changes nothing), and
// replay feeds the journal's commands to the same `apply()`. Deliveries wait in an outbox until the command
// has landed, then leave in order (NTF-6).
import { createActor, type Actor } from 'xstate';
import { accessMachine, defaultAccessContext, mergeSettings, type AccessContext } from '../../machines/access';
import { deviceLinkMachine, type DeviceLinkContext, type DeviceLinkEmitted, type DeviceLinkEvent } from '../../machines/deviceLink';
import { rateWindowMachine, type RateWindowContext, type RateWindowEmitted, type RateWindowEvent } from '../../machines/rateWindow';
import { ADMIN_MAX_USERS_PER_CALL, TYPES, isNativePlatform, type Limits, type Platform, type RateLimitedApi, type Reason } from '../../machines/spec';
import { subscriptionsMachine, type SubscriptionsContext, type SubscriptionsEmitted, type SubscriptionsEvent } from '../../machines/subscriptions';
import {
  reasonOf,
  userStatusMachine,
  type UserStatusContext,
  type UserStatusEmitted,
  type UserStatusEvent,
  type Visibility,
} from '../../machines/userStatus';
import { MemoryBroker } from '../broker/memory';
import type { Broker } from '../broker/types';
import { systemClock, type Clock } from '../clock';
import { ErrorCode, StatusError, invalidParameter, notLoggedIn } from '../errors';
import { EVENT, type ClientEvent } from '../events';
import { MemoryStore } from '../store/memory';
import { StoreUnavailableError, type PendingTimer, type StatusRecord, type Store, type SubscriptionsRecord } from '../store/types';
import type { AdminStatus, Command, ConfigChange, EngineOptions, EngineState, Failure, JournalEntry, StatusTransition, UserStatus } from '../types';
import { InspectBridge } from './inspect';
import { parseConfigChange } from './config';
import { CompiledMachine, type RunnerSnapshot, type TimerOp } from './runner';
import * as check from './validate';

type UserRunner = CompiledMachine<UserStatusContext, UserStatusEvent, UserStatusEmitted>;
type SubsRunner = CompiledMachine<SubscriptionsContext, SubscriptionsEvent, SubscriptionsEmitted>;
type RateRunner = CompiledMachine<RateWindowContext, RateWindowEvent, RateWindowEmitted>;
type LinkRunner = CompiledMachine<DeviceLinkContext, DeviceLinkEvent, DeviceLinkEmitted>;

/** Receives what the engine sends to one device; `seq` is the journal position of the change (EXT-2). */
export type DeviceSink = (event: ClientEvent, seq: number) => void;

/** One device (one SDK instance) attached to this engine. Clients and the server's sockets each hold one. */
export class DeviceSession {
  readonly deviceId: string;
  platform: Platform;
  /** The user this device is logged in as, or was until a drop (a dropped web device logs in again on reconnect). */
  userID: string | null = null;
  /** The seq up to which it has heard everything addressed to it, for resume (EXT-2). */
  lastSeq = 0;
  /**
   * Whether deliveries reach it: logged in, connected, and its link live. A field kept by the three setters
   * below, because the fan-out reads it for every recipient of every change.
   */
  receiving = false;
  private loggedInValue = false;
  private connectedValue = false;
  private linkValue: RunnerSnapshot<DeviceLinkContext> | null = null;

  constructor(
    platform: Platform,
    readonly sink: DeviceSink,
    deviceId?: string,
  ) {
    this.platform = platform;
    // Unguessable: a device id is what a resume names (the gateway signs it into session keys as well).
    this.deviceId = deviceId ?? `dev-${globalThis.crypto.randomUUID()}`;
  }

  /** Logged in according to the user's status machine. */
  get loggedIn(): boolean {
    return this.loggedInValue;
  }
  set loggedIn(v: boolean) {
    this.loggedInValue = v;
    this.refresh();
  }
  /** The engine's view: connected according to the user's status machine. */
  get connected(): boolean {
    return this.connectedValue;
  }
  set connected(v: boolean) {
    this.connectedValue = v;
    this.refresh();
  }
  /** The link itself (heartbeats flowing). */
  get link(): RunnerSnapshot<DeviceLinkContext> | null {
    return this.linkValue;
  }
  set link(v: RunnerSnapshot<DeviceLinkContext> | null) {
    this.linkValue = v;
    this.refresh();
  }

  private refresh(): void {
    this.receiving = this.loggedInValue && this.connectedValue && this.linkValue?.value === 'deviceLink.live';
  }
}

export interface LoginResult {
  repeatLogin: boolean;
  status: UserStatus;
}

const RATE_KEY_SEP = '\u0000';
const RATE_SWEEP_MIN = 1024;
const HIDDEN = TYPES.USER_STATUS_UNLOGINED;

export class EngineCore {
  readonly clock: Clock;
  readonly store: Store;
  readonly broker: Broker;
  private readonly user: UserRunner;
  private readonly subs: SubsRunner;
  private readonly rate: RateRunner;
  private readonly linkRunner: LinkRunner;
  private access: Actor<typeof accessMachine>;
  private settingsCache: AccessContext;
  /** GATE: decided by the access machine's state, cached after each change. */
  private userStatusGate: 'enabled' | 'editionLacks' | 'switchOff' = 'switchOff';
  private friendNotifyOn = false;
  private readonly userInitial: StatusRecord;
  private readonly subsInitial: SubscriptionsRecord;
  private readonly rateInitial: RunnerSnapshot<RateWindowContext>;
  private readonly rates = new Map<string, RunnerSnapshot<RateWindowContext>>();
  private lastRateSweep = 0;
  /** Durable timers (CS-5, UNSUB-5 clears, heartbeat waits): key -> pending; and their clock handles. */
  private readonly pending = new Map<string, PendingTimer>();
  private readonly handles = new Map<string, unknown>();
  /** The pending heartbeat wait of each device, so that a logout finds it without a scan. */
  private readonly linkTimerOf = new Map<string, string>();
  /** Device sessions of this process: by device, and the logged-in ones by user. */
  private readonly sessions = new Map<string, DeviceSession>();
  /** Copy-on-write arrays: a delivery walks one while a handler may log a device in or out. */
  private readonly byUser = new Map<string, readonly DeviceSession[]>();
  /** Links of devices that no session here holds, while they wait out a heartbeat timeout (replay, restart). */
  private readonly strayLinks = new Map<string, RunnerSnapshot<DeviceLinkContext>>();
  /** Devices found connected in the store at start, waiting for their client (see adoptStoredDevices). */
  private readonly orphans = new Map<string, { userID: string; handle: unknown; platform: Platform }>();
  /** EXT-7: changes held back from others while a user's link flaps. */
  private readonly flaps = new Map<
    string,
    { before: UserStatus; latest: UserStatus; ctx: UserStatusContext; timer: unknown }
  >();
  /** `recipients`: one change's event for many users (NTF-2 b/c), in the order they were found. */
  private outbox: Array<{ userID: string; event: ClientEvent; seq: number; deviceId?: string; recipients?: string[] }> = [];
  private flushing = false;
  private flushIndex = 0;
  private seq: number;
  private cause = 0;
  private readonly journalOn: boolean;
  private readonly inspector: InspectBridge | null;
  private closed = false;
  /** Set while replaying: timers are recorded but never armed on the clock. */
  private replaying = false;
  /**
   * While a command runs: how to put the engine's own memory (timers, rate windows, settings, sessions) back
   * if the store refuses the command, so that a failed command changes nothing anywhere.
   */
  private undo: Array<() => void> | null = null;
  /** While a command runs: what to do once it has landed (tell settings listeners). */
  private afterCommit: Array<() => void> = [];
  /** The command being applied, for transition listeners, and the time it is applied at (read once). */
  private command: Command | undefined;
  private now = 0;
  private readonly transitionListeners = new Set<(entry: StatusTransition, command: Command | undefined) => void>();
  private readonly accessMachineUsed: typeof accessMachine;
  private readonly inspectOption: EngineOptions['inspect'];

  constructor(options: EngineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    const journalMax = typeof options.journal === 'object' ? options.journal.maxEntries : undefined;
    this.store = options.store ?? new MemoryStore({ journalMaxEntries: options.journal === false ? 0 : journalMax });
    this.journalOn = options.journal !== false;
    this.broker = options.broker ?? new MemoryBroker();
    this.broker.attach({
      one: (userID, event, seq, deviceId) => this.deliverLocal(userID, event, seq, deviceId),
      many: (userIDs, event, seq) => this.deliverLocalMany(userIDs, event, seq),
    });
    this.seq = this.store.lastSeq();

    const initialChange = parseConfigChange(
      Object.fromEntries(Object.entries({ edition: options.edition, switches: options.switches, limits: options.limits }).filter(([, v]) => v !== undefined)),
      'options',
    );
    const stored = this.store.getSettings();
    const settings = stored ?? mergeSettings(defaultAccessContext(), initialChange);
    const m = options.machines ?? {};
    this.accessMachineUsed = m.access ?? accessMachine;
    this.inspectOption = options.inspect;
    this.access = createActor(this.accessMachineUsed, { input: settings, inspect: options.inspect as never });
    this.access.start();
    this.settingsCache = this.access.getSnapshot().context;
    this.refreshGates();
    if (!stored) this.store.transaction(() => this.store.putSettings(this.settingsCache));
    // The options' settings are the journal's first command, so that replay from empty rebuilds them.
    const given = Object.keys(initialChange).length > 0;

    const limits = () => this.settingsCache.limits;
    this.user = new CompiledMachine(
      (m.userStatus ?? userStatusMachine).provide({ delays: { customStatusClearAfterLogout: () => limits().customStatusClearAfterLogoutMs } }),
    );
    this.subs = new CompiledMachine(
      (m.subscriptions ?? subscriptionsMachine).provide({ delays: { subscriptionClearAfterLogout: () => limits().subscriptionClearAfterLogoutMs } }),
    );
    this.rate = new CompiledMachine(m.rateWindow ?? rateWindowMachine);
    this.linkRunner = new CompiledMachine(
      (m.deviceLink ?? deviceLinkMachine).provide({
        delays: {
          heartbeatTimeout: ({ context }) =>
            context.platform === 'web' ? limits().webHeartbeatTimeoutMs : limits().nativeHeartbeatTimeoutMs,
        },
      }),
    );
    this.userInitial = { ...this.user.initial().snapshot, seq: 0 };
    this.subsInitial = this.subs.initial().snapshot;
    this.rateInitial = this.rate.initial().snapshot;
    this.inspector = options.inspect ? new InspectBridge(options.inspect, this.access.sessionId, options.inspectUsers) : null;

    if (!stored && given && this.journalOn) {
      this.store.transaction(() => {
        const seq = ++this.seq;
        this.store.append({ seq, at: this.clock.now(), kind: 'command', by: 'admin', command: { type: 'config.change', change: initialChange } });
      });
    }
    // Timers that were pending when a durable store was last closed resume where they were.
    this.rearm();
    this.adoptStoredDevices();
  }

  /**
   * A durable store can hold devices that were connected when the last process stopped: their links died
   * with it. Each is treated like a device whose network went quiet at start: it keeps its place for its
   * heartbeat timeout (DEV-2/DEV-3), so a client that comes back in time resumes with no visible change
   * (`adopt`), and otherwise it is dropped (web) or disconnected (native) with reason heartbeat_timeout.
   * The same scan makes sure seq never goes below a stored record's (a journal-less store keeps no seq).
   */
  private adoptStoredDevices(): void {
    for (const userID of [...this.store.userIDs()]) {
      const rec = this.store.getStatus(userID);
      if (!rec) continue;
      if (rec.seq > this.seq) this.seq = rec.seq;
      for (const d of rec.context.devices) if (d.connected) this.armOrphan(userID, d.id, d.platform);
    }
  }

  /** Gives a device whose link died with a process its heartbeat timeout to come back (see above). */
  private armOrphan(userID: string, deviceId: string, platform: Platform): void {
    const timeout = isNativePlatform(platform) ? this.limits.nativeHeartbeatTimeoutMs : this.limits.webHeartbeatTimeoutMs;
    const handle = this.clock.setTimeout(() => {
      if (this.orphans.get(deviceId)?.handle !== handle || this.closed) return;
      this.orphans.delete(deviceId);
      const still = this.store.getStatus(userID)?.context.devices.find((x) => x.id === deviceId);
      if (!still?.connected || this.sessions.get(deviceId)?.userID === userID) return;
      try {
        this.run('system', { type: 'device.disconnect', userID, deviceId, reason: 'heartbeat_timeout' });
      } catch {
        // The store refused it: the device waits another timeout.
        this.armOrphan(userID, deviceId, platform);
      }
    }, timeout);
    this.orphans.set(deviceId, { userID, handle, platform });
  }

  /**
   * A device that was logged in before (this process started, or its socket dropped) comes back as
   * `userID`, already authenticated by the caller: the session takes the device's place, then `reconnect`
   * restores it and resumes (EXT-2). A device the user no longer has logs in again, as a dropped web device does.
   */
  adopt(s: DeviceSession, rawUserID: unknown, held?: { lastSeq?: number; versions?: Record<string, number> }): void {
    this.assertOpen();
    const userID = check.userID(rawUserID);
    if (!this.store.hasUser(userID)) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${userID}' is not registered`, { param: 'userID' });
    if (s.userID && s.userID !== userID) throw invalidParameter('userID', `this device is '${s.userID}', not '${userID}'`);
    const was = s.userID;
    s.userID = userID;
    try {
      this.reconnect(s, held);
    } catch (e) {
      s.userID = was;
      throw e;
    }
  }

  /** Arms every pending durable timer on the clock (at start, and after a replay). */
  rearm(): void {
    for (const t of [...this.store.timers()]) this.armTimer(t);
  }

  get limits(): Readonly<Limits> {
    return this.settingsCache.limits;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Commands: the only way state changes.

  /** Runs one accepted command: journal it, apply it (then `then`, in the same transaction), land it atomically, then deliver. */
  private run(by: string, command: Command, then?: () => void): void {
    this.assertOpen();
    const seq0 = this.seq;
    const cause0 = this.cause;
    const outbox0 = this.outbox.length;
    const outer = this.undo;
    const undo: Array<() => void> = [];
    this.undo = undo;
    try {
      this.store.transaction(() => {
        const seq = ++this.seq;
        this.cause = seq;
        this.command = command;
        this.now = this.clock.now();
        if (this.journalOn) this.store.append({ seq, at: this.now, kind: 'command', by, command });
        this.apply(command);
        then?.();
      });
    } catch (e) {
      // The store rolled back; put the engine's memory back too (newest first), as if nothing was tried.
      this.undo = outer;
      for (let i = undo.length - 1; i >= 0; i--) (undo[i] as () => void)();
      this.seq = seq0;
      this.cause = cause0;
      this.outbox.length = outbox0;
      if (!outer) this.afterCommit = [];
      throw e;
    }
    this.undo = outer;
    if (outer) {
      outer.push(...undo);
      return;
    }
    if (this.afterCommit.length > 0) {
      const after = this.afterCommit;
      this.afterCommit = [];
      for (const fn of after) fn();
    }
    this.flush();
  }

  /** Registers how to revert a change of engine memory if the running command fails. */
  private onUndo(fn: () => void): void {
    this.undo?.push(fn);
  }

  /** Applies a command without checks: replay's entry point, and the body of every live call. */
  apply(command: Command): unknown {
    switch (command.type) {
      case 'users.register':
        return this.store.addUsers(command.userIDs);
      case 'friends.add':
        return this.store.addFriends(command.userID, command.friendIDs);
      case 'friends.remove':
        return this.store.removeFriends(command.userID, command.friendIDs);
      case 'config.change':
        return this.applyConfig(command.change);
      case 'visibility.set':
        return this.toUser(command.userID, { type: 'VISIBILITY.SET', visibility: command.visibility });
      case 'device.login':
      case 'device.reconnect':
        return this.toUser(command.userID, {
          type: command.type === 'device.login' ? 'DEVICE.LOGIN' : 'DEVICE.RECONNECT',
          deviceId: command.deviceId,
          platform: command.platform,
          cap: isNativePlatform(command.platform) ? this.limits.maxDevicesPerNativePlatform : this.limits.maxWebInstances,
        });
      case 'device.logout':
        this.dropLink(command.userID, command.deviceId);
        return this.toUser(command.userID, { type: 'DEVICE.LOGOUT', deviceId: command.deviceId });
      case 'device.disconnect':
        // A closed link goes through the device's link machine (which stops any heartbeat wait); a timeout
        // found by other means (a device whose process died with a restart) goes to the user at once.
        if (command.reason === 'link_closed') return this.toLink(command.userID, command.deviceId, { type: 'LINK.CLOSED' });
        this.dropLink(command.userID, command.deviceId);
        return this.toUser(command.userID, { type: 'DEVICE.DISCONNECT', deviceId: command.deviceId, reason: command.reason });
      case 'device.silent':
        return this.toLink(command.userID, command.deviceId, { type: 'LINK.SILENT' });
      case 'device.heard':
        return this.toLink(command.userID, command.deviceId, { type: 'LINK.HEARTBEAT' });
      case 'device.background':
        return this.toUser(command.userID, { type: 'DEVICE.BACKGROUND', deviceId: command.deviceId });
      case 'device.foreground':
        return this.toUser(command.userID, { type: 'DEVICE.FOREGROUND', deviceId: command.deviceId });
      case 'status.set':
        return this.toUser(command.userID, { type: 'STATUS.SET', customStatus: command.customStatus });
      case 'status.query':
        return this.admitRate(command.userID, 'getUserStatus', true);
      case 'subscriptions.add':
        this.admitRate(command.userID, 'subscribeUserStatus', true);
        return this.toSubs(command.userID, { type: 'SUB.ADD', userIDs: command.userIDs, quota: this.limits.subscriptionQuota });
      case 'subscriptions.remove':
        this.admitRate(command.userID, 'unsubscribeUserStatus', true);
        return this.toSubs(
          command.userID,
          command.userIDs === null ? { type: 'SUB.REMOVE_ALL' } : { type: 'SUB.REMOVE', userIDs: command.userIDs },
        );
      case 'timer.fire':
        return this.applyTimerFire(command.key);
      case 'flap.release':
        return this.endFlap(command.userID);
    }
  }

  private applyConfig(change: ConfigChange): void {
    const saved = this.access.getPersistedSnapshot();
    this.access.send({ type: 'CONFIG.CHANGE', ...change });
    this.settingsCache = this.access.getSnapshot().context;
    this.refreshGates();
    this.onUndo(() => {
      this.access.stop();
      this.access = createActor(this.accessMachineUsed, { snapshot: saved, inspect: this.inspectOption as never } as never);
      this.access.start();
      this.settingsCache = this.access.getSnapshot().context;
      this.refreshGates();
    });
    this.store.putSettings(this.settingsCache);
    const settings = this.settingsCache;
    const tell = () => {
      for (const l of this.settingsListeners) l(settings);
    };
    if (this.undo) this.afterCommit.push(tell);
    else tell();
  }

  private readonly settingsListeners = new Set<(settings: AccessContext) => void>();

  /**
   * Hear every step of every user's status machine once its command has landed (e.g. the server's webhook,
   * EXT-8), with the command that caused it; works with the journal off too. Returns an unsubscribe.
   */
  onTransition(listener: (entry: StatusTransition, command: Command | undefined) => void): () => void {
    this.transitionListeners.add(listener);
    return () => this.transitionListeners.delete(listener);
  }

  /** The seq of the last command or transition applied (EXT-2's "caught up to" marker). */
  get currentSeq(): number {
    return this.seq;
  }

  /** Hear every settings change (e.g. a gateway pushes the edition to its SDKs); returns an unsubscribe. */
  onSettingsChange(listener: (settings: AccessContext) => void): () => void {
    this.settingsListeners.add(listener);
    return () => this.settingsListeners.delete(listener);
  }

  private refreshGates(): void {
    const value = this.access.getSnapshot().value as { userStatus: string; friendNotify: string };
    this.userStatusGate = value.userStatus as typeof this.userStatusGate;
    this.friendNotifyOn = value.friendNotify === 'on';
  }

  /** One event to one user's status machine, with everything that follows from it. */
  private toUser(userID: string, event: UserStatusEvent): RunnerSnapshot<UserStatusContext> {
    const before = this.store.getStatus(userID) ?? this.userInitial;
    const step = this.user.transition(before, event);
    if (!step.handled) return before;
    const after: StatusRecord = { value: step.snapshot.value, context: step.snapshot.context, seq: before.seq };
    if (before.shownSeq !== undefined) after.shownSeq = before.shownSeq;
    if (before.visibilitySeq !== undefined) after.visibilitySeq = before.visibilitySeq;
    this.inspector?.transition(this.user, userID, event, after, { before });
    this.scheduleOps('userStatus', userID, step.timers);
    let lastChange: Extract<UserStatusEmitted, { type: 'status.changed' }> | undefined;
    let kicked = false;
    for (const e of step.emitted) {
      if (e.type !== 'status.changed') kicked = true;
      else {
        lastChange = e;
        if (e.reason === 'visibility_changed') after.visibilitySeq = this.cause;
      }
    }
    if (lastChange) after.seq = this.cause;
    this.store.putStatus(userID, after);
    if (this.journalOn || this.transitionListeners.size > 0) {
      // EXT-1/EXT-3: every step of the machine is journaled, also those that change no visible status
      // (a second device, a kick), so that explain() shows how the user got where it is.
      const entry: StatusTransition = {
        seq: ++this.seq,
        at: this.now,
        kind: 'transition',
        cause: this.cause,
        machine: 'userStatus',
        userID,
        event: event.type,
        reason: lastChange?.reason ?? (kicked ? 'kicked' : reasonOf(event)),
        from: this.user.pathOf(before),
        to: this.user.pathOf(after),
        before: { statusType: before.context.statusType, customStatus: before.context.customStatus },
        after: { statusType: after.context.statusType, customStatus: after.context.customStatus },
        version: after.context.version,
        devices: after.context.devices.length,
      };
      if (this.journalOn) this.store.append(entry);
      if (this.transitionListeners.size > 0) {
        const command = this.command;
        this.afterCommit.push(() => {
          for (const l of this.transitionListeners) l(entry, command);
        });
      }
    }
    let prev = before.context;
    let shown = before.shownSeq ?? before.seq;
    for (const em of step.emitted) {
      if (em.type === 'device.kicked') {
        for (const id of em.deviceIds) this.kick(userID, id);
        continue;
      }
      // UNSUB-5: the subscription list outlives a logout by a delay, and a login keeps it.
      const wasOut = prev.statusType === TYPES.USER_STATUS_UNLOGINED;
      const isOut = em.statusType === TYPES.USER_STATUS_UNLOGINED;
      if (!wasOut && isOut) this.toSubs(userID, { type: 'OWNER.LOGGED_OUT' });
      if (wasOut && !isOut) {
        this.toSubs(userID, { type: 'OWNER.LOGGED_IN' });
        // EXT-4: the returning user hears which subscriptions were cleared while it was away.
        const notice = this.store.getNotice(userID);
        if (notice) {
          this.store.putNotice(userID, undefined);
          this.send(userID, { name: EVENT.SUBSCRIPTION_ENDED, data: notice });
        }
      }
      if (this.fanOut(userID, after.context, em, prev)) shown = this.cause;
      prev = { ...prev, statusType: em.statusType, customStatus: em.customStatus };
    }
    // EXT-2: what others were last told, when that is not the last change (EXT-7 held it back).
    const shownSeq = shown === after.seq ? undefined : shown;
    if (shownSeq !== after.shownSeq) {
      if (shownSeq === undefined) delete after.shownSeq;
      else after.shownSeq = shownSeq;
      this.store.putStatus(userID, after);
    }
    // Sessions follow their devices; a step that left the devices as they were (a custom status) has nothing to sync.
    if (after.context.devices !== before.context.devices) this.syncSessions(userID, after.context);
    return after;
  }

  /** One event to one user's subscription list. */
  private toSubs(userID: string, event: SubscriptionsEvent): SubscriptionsRecord {
    const before = this.store.getSubscriptions(userID) ?? this.subsInitial;
    const step = this.subs.transition(before, event);
    if (!step.handled) return before;
    this.inspector?.transition(this.subs, userID, event, step.snapshot, { before });
    this.scheduleOps('subscriptions', userID, step.timers);
    const added: string[] = [];
    const removed: string[] = [];
    let reason: Reason = 'subscribed';
    for (const em of step.emitted) {
      if (em.type === 'subscriptions.added') added.push(...em.userIDs);
      else {
        removed.push(...em.userIDs);
        reason = em.reason;
        // EXT-4: the subscriber hears of an ending it did not ask for; if it is away, at its next login.
        if (em.reason === 'subscription_evicted' && em.userIDs.length > 0) {
          this.send(userID, { name: EVENT.SUBSCRIPTION_ENDED, data: { userIDList: em.userIDs, reason: em.reason } });
        } else if (em.reason === 'subscriptions_cleared' && em.userIDs.length > 0) {
          this.store.putNotice(userID, { userIDList: em.userIDs, reason: em.reason });
        }
      }
    }
    const evicted = new Set(added.filter((id) => removed.includes(id)));
    const delta = {
      added: added.filter((id) => !evicted.has(id)),
      removed: removed.filter((id) => !evicted.has(id)),
    };
    this.store.putSubscriptions(userID, step.snapshot, delta);
    if (this.journalOn && (step.snapshot.value !== before.value || delta.added.length || delta.removed.length)) {
      this.store.append({
        seq: ++this.seq,
        at: this.now,
        kind: 'transition',
        cause: this.cause,
        machine: 'subscriptions',
        userID,
        reason: delta.added.length && !delta.removed.length ? 'subscribed' : reason,
        from: this.subs.pathOf(before),
        to: this.subs.pathOf(step.snapshot),
        added: delta.added,
        removed: delta.removed,
      });
    }
    return step.snapshot;
  }

  /**
   * Forgets windows with no call left in them (equivalent to a fresh window), so that the map holds only the
   * users who called lately. Runs at most once a window, and only on a big map: its cost spreads thin.
   */
  private sweepRates(now: number): void {
    this.lastRateSweep = now;
    const windowMs = this.limits.rateLimit.windowMs;
    for (const [key, rec] of this.rates) {
      const last = rec.context.stamps[rec.context.stamps.length - 1];
      if (last === undefined || last <= now - windowMs) this.rates.delete(key);
    }
  }

  /** LIM-1: the rate window's verdict; `commit` stores it (only an accepted call uses quota). */
  private admitRate(userID: string, api: RateLimitedApi, commit: boolean): RunnerSnapshot<RateWindowContext> {
    const key = api + RATE_KEY_SEP + userID;
    const before = this.rates.get(key) ?? this.rateInitial;
    const { requests, windowMs } = this.limits.rateLimit;
    const event: RateWindowEvent = { type: 'RATE.REQUEST', now: this.clock.now(), requests, windowMs };
    const step = this.rate.transition(before, event);
    const refused = step.emitted.find((e) => e.type === 'rate.refused');
    if (refused && !commit) {
      this.inspector?.transition(this.rate, `${api}:${userID}`, event, step.snapshot, { before });
      throw new StatusError(
        ErrorCode.RATE_LIMITED,
        `rate limit: ${api} allows ${refused.requests} calls per ${refused.windowMs} ms; retry in ${refused.retryAfterMs} ms`,
        { retryAfterMs: refused.retryAfterMs, requests: refused.requests, windowMs: refused.windowMs, limitName: 'rateLimit', limit: refused.requests },
      );
    }
    if (commit) {
      if (this.rates.size > RATE_SWEEP_MIN && event.now - this.lastRateSweep >= windowMs) this.sweepRates(event.now);
      const old = this.rates.get(key);
      this.rates.set(key, step.snapshot);
      this.onUndo(() => (old ? this.rates.set(key, old) : this.rates.delete(key)));
      this.inspector?.transition(this.rate, `${api}:${userID}`, event, step.snapshot, { before });
    }
    return step.snapshot;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Fan-out (NTF-2..6, EXT-5).

  private fanOut(
    userID: string,
    ctx: UserStatusContext,
    em: Extract<UserStatusEmitted, { type: 'status.changed' }>,
    prev: UserStatusContext,
  ): boolean {
    // One object goes to every recipient (and every app handler) of this change: events are read-only.
    const full: UserStatus = ({
      userID,
      statusType: em.statusType,
      customStatus: em.customStatus,
      version: em.version,
      reason: em.reason,
    });
    const event: ClientEvent = { name: EVENT.USER_STATUS_UPDATED, data: [full] };
    // (a) the user's own devices always hear it.
    this.send(userID, event);
    if (this.damp(userID, ctx, full, prev)) return false;
    this.toOthers(userID, ctx, event, prev.visibility);
    return true;
  }

  /**
   * EXT-7 flap damping: a change caused by a lost link is held back from others for flapGraceMs. If the
   * user comes back within it to the status it had, others hear nothing; otherwise they hear the final
   * state (once, when the flap ends or the grace runs out). Returns whether the change was held.
   */
  private damp(userID: string, ctx: UserStatusContext, full: UserStatus, prev: UserStatusContext): boolean {
    const held = this.flaps.get(userID);
    if (held) {
      const { latest, ctx: heldCtx } = held;
      this.onUndo(() => Object.assign(held, { latest, ctx: heldCtx }));
      held.latest = full;
      held.ctx = ctx;
      if (full.reason === 'reconnect' || full.reason === 'login' || full.reason === 'foreground') this.endFlap(userID);
      return true;
    }
    const grace = this.limits.flapGraceMs;
    if (grace <= 0 || (full.reason !== 'link_closed' && full.reason !== 'heartbeat_timeout') || this.replaying) return false;
    const timer = this.releaseLater(userID, grace);
    const before: UserStatus = { userID, statusType: prev.statusType, customStatus: prev.customStatus, version: prev.version, reason: prev.reason };
    this.flaps.set(userID, { before, latest: full, ctx, timer });
    this.onUndo(() => {
      this.clock.clearTimeout(timer);
      this.flaps.delete(userID);
    });
    return true;
  }

  private endFlap(userID: string): void {
    const held = this.flaps.get(userID);
    if (!held) return;
    this.flaps.delete(userID);
    this.clock.clearTimeout(held.timer);
    // A failed command keeps holding, until the grace runs out by itself.
    this.onUndo(() => {
      held.timer = this.releaseLater(userID, this.limits.flapGraceMs);
      this.flaps.set(userID, held);
    });
    const { before, latest } = held;
    if (latest.statusType === before.statusType && latest.customStatus === before.customStatus) return;
    this.toOthers(userID, held.ctx, { name: EVENT.USER_STATUS_UPDATED, data: [latest] });
    // Others hear it now: resume (EXT-2) counts it from here.
    const rec = this.store.getStatus(userID);
    if (rec) {
      const shown: StatusRecord = { ...rec, shownSeq: this.cause };
      if (shown.shownSeq === shown.seq) delete shown.shownSeq;
      this.store.putStatus(userID, shown);
    }
  }

  /** EXT-7: the release of a held change is a command of its own, journaled, at the end of the grace. */
  private releaseLater(userID: string, ms: number): unknown {
    const timer: unknown = this.clock.setTimeout(() => {
      if (this.closed || this.flaps.get(userID)?.timer !== timer) return;
      try {
        this.run('system', { type: 'flap.release', userID });
      } catch {
        // The store refused it: the hold stays (the command's undo) and is released by the next comeback.
      }
    }, ms);
    return timer;
  }

  /** NTF-2 (b) and (c): subscribers and friends, each once, each seeing what EXT-5 lets them see. */
  private toOthers(
    userID: string,
    ctx: UserStatusContext,
    shown: Extract<ClientEvent, { name: 'onUserStatusUpdated' }>,
    prevVisibility: Visibility = ctx.visibility,
  ): void {
    const full = shown.data[0] as UserStatus;
    // Who may hear it; whether they hear it is the broker's part: only devices that are connected and
    // receiving get it (NTF-5), so a viewer who is not logged in costs one lookup and hears nothing.
    // (b) subscribers, if the edition and the switch allow it now (NTF-4).
    const subscribers = this.userStatusGate === 'enabled' ? this.store.subscribersOf(userID) : undefined;
    // (c) users that list this one as a friend, with friend auto-notification on; once only (NTF-2).
    const followers = this.friendNotifyOn ? this.store.followersOf(userID) : undefined;
    if (!subscribers && !followers) return;
    // One event object, one outbox entry for everyone who sees the change as it is.
    let recipients: string[];
    const visibilityChange = full.reason === 'visibility_changed';
    if (ctx.visibility === 'everyone' && !visibilityChange) {
      recipients = subscribers ? [...subscribers] : [];
      if (followers) for (const f of followers) if (!subscribers?.has(f)) recipients.push(f);
    } else {
      recipients = [];
      // EXT-5: a hidden user looks UNLOGINED; only the switch between hidden and shown is news to a viewer.
      let hidden: ClientEvent | undefined;
      const consider = (viewer: string) => {
        const sees = this.canSee(userID, ctx.visibility, viewer);
        if (!visibilityChange) {
          if (sees) recipients.push(viewer);
        } else if (sees !== this.canSee(userID, prevVisibility, viewer)) {
          hidden ??= { name: EVENT.USER_STATUS_UPDATED, data: Object.freeze([Object.freeze({ ...full, statusType: HIDDEN, customStatus: '' })]) as UserStatus[] };
          this.send(viewer, sees ? shown : hidden);
        }
      };
      if (subscribers) for (const s of subscribers) consider(s);
      if (followers) for (const f of followers) if (!subscribers?.has(f)) consider(f);
    }
    if (recipients.length > 0) this.outbox.push({ userID, event: shown, seq: this.cause, recipients });
  }

  private send(userID: string, event: ClientEvent, deviceId?: string, seq = this.cause): void {
    this.outbox.push({ userID, event, seq, deviceId });
  }

  /** Hands the outbox to the broker, in order; a delivery that triggers a call queues behind the rest. */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let i = 0; i < this.outbox.length; i++) {
        this.flushIndex = i;
        const d = this.outbox[i] as (typeof this.outbox)[number];
        if (d.recipients) this.broker.publishMany(d.recipients, d.event, d.seq);
        else this.broker.publish(d.userID, d.event, d.seq, d.deviceId);
      }
    } finally {
      this.outbox = [];
      this.flushIndex = 0;
      this.flushing = false;
    }
  }

  /**
   * EXT-2: the seq up to which every delivery has left. While the outbox is being handed out (a handler called
   * back into the engine), what still waits in it has not been heard yet, whatever `seq` says.
   */
  private heardUpTo(): number {
    const next = this.flushing ? this.outbox[this.flushIndex] : undefined;
    return next === undefined ? this.seq : Math.min(this.seq, next.seq - 1);
  }

  private deliverLocal(userID: string, event: ClientEvent, seq: number, deviceId?: string): void {
    if (deviceId !== undefined) {
      const s = this.sessions.get(deviceId);
      if (s) this.hand(s, event, seq);
      return;
    }
    const sessions = this.byUser.get(userID);
    if (!sessions) return;
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i] as DeviceSession;
      if (s.receiving) this.hand(s, event, seq);
    }
  }

  /** One change's event to many users: the fan-out's inner loop, so it stays flat. */
  private deliverLocalMany(userIDs: readonly string[], event: ClientEvent, seq: number): void {
    const byUser = this.byUser;
    for (let i = 0; i < userIDs.length; i++) {
      const sessions = byUser.get(userIDs[i] as string);
      if (sessions === undefined) continue;
      for (let j = 0; j < sessions.length; j++) {
        const s = sessions[j] as DeviceSession;
        if (s.receiving) this.hand(s, event, seq);
      }
    }
  }

  /** Adds a session to its user's list (a new array: deliveries in progress keep walking the old one). */
  private addToUser(userID: string, s: DeviceSession): void {
    const list = this.byUser.get(userID);
    if (!list) this.byUser.set(userID, [s]);
    else if (!list.includes(s)) this.byUser.set(userID, [...list, s]);
  }

  private removeFromUser(userID: string, s: DeviceSession): void {
    const list = this.byUser.get(userID);
    if (!list || !list.includes(s)) return;
    if (list.length === 1) this.byUser.delete(userID);
    else this.byUser.set(userID, list.filter((x) => x !== s));
  }

  private hand(s: DeviceSession, event: ClientEvent, seq: number): void {
    if (seq > s.lastSeq) s.lastSeq = seq;
    try {
      s.sink(event, seq);
    } catch {
      // A handler's exception is the app's problem; it must not stop the deliveries to everyone else.
    }
  }

  /** DEV-4: the kicked device hears 3002 and is logged out here. */
  private kick(userID: string, deviceId: string): void {
    this.dropLink(userID, deviceId);
    this.send(
      userID,
      {
        name: EVENT.KICKED_OUT,
        data: { type: 'multipleDevice', code: ErrorCode.KICKED_OUT, message: 'kicked out by a newer login on the same platform' },
      },
      deviceId,
    );
    const s = this.sessions.get(deviceId);
    if (s) {
      const was = s.userID;
      s.userID = null; // not a drop: it does not log back in by itself
      this.onUndo(() => (s.userID = was));
    }
  }

  /** Keeps each local session's view of its device in step with the user's status machine. */
  private syncSessions(userID: string, ctx: UserStatusContext): void {
    const sessions = this.byUser.get(userID);
    if (!sessions) return;
    for (const s of sessions) {
      let d: (typeof ctx.devices)[number] | undefined;
      for (const x of ctx.devices) if (x.id === s.deviceId) d = x;
      const loggedIn = d !== undefined;
      const connected = d?.connected === true;
      const leaves = !d && s.userID !== userID; // kicked or logged out
      if (loggedIn === s.loggedIn && connected === s.connected && !leaves) continue;
      const was = { loggedIn: s.loggedIn, connected: s.connected };
      this.onUndo(() => {
        s.loggedIn = was.loggedIn;
        s.connected = was.connected;
        this.addToUser(userID, s);
      });
      s.loggedIn = loggedIn;
      s.connected = connected;
      if (leaves) this.removeFromUser(userID, s);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Timers: durable ones through the store, all of them through the clock.

  private scheduleOps(machine: PendingTimer['machine'], owner: string, ops: readonly TimerOp[], deviceId?: string): void {
    for (const op of ops) {
      // JSON, so that no userID or deviceId (any string) can make two timers' keys collide.
      const key = JSON.stringify(deviceId === undefined ? [machine, owner, op.id] : [machine, owner, deviceId, op.id]);
      const old = this.pending.get(key);
      this.onUndo(() => {
        this.disarm(key);
        if (old) this.armTimer(old);
      });
      this.disarm(key);
      if (op.op === 'schedule') {
        const t: PendingTimer = { key, due: this.clock.now() + op.delayMs, machine, owner, event: op.event };
        if (deviceId !== undefined) t.deviceId = deviceId;
        this.store.putTimer(t);
        this.armTimer(t);
      } else {
        this.store.deleteTimer(key);
      }
    }
  }

  private armTimer(t: PendingTimer): void {
    this.disarm(t.key);
    this.pending.set(t.key, t);
    if (t.deviceId !== undefined) this.linkTimerOf.set(t.deviceId, t.key);
    if (this.replaying) return;
    const handle = this.clock.setTimeout(() => {
      this.handles.delete(t.key);
      if (this.closed || !this.pending.has(t.key)) return;
      try {
        this.run('system', { type: 'timer.fire', key: t.key });
      } catch {
        // The store refused it (a full disk): the command changed nothing and re-armed its timer a second
        // later (applyTimerFire's undo), so it is tried again rather than lost or crashing the process.
      }
    }, Math.max(0, t.due - this.clock.now()));
    this.handles.set(t.key, handle);
  }

  private disarm(key: string): void {
    const t = this.pending.get(key);
    if (t?.deviceId !== undefined && this.linkTimerOf.get(t.deviceId) === key) this.linkTimerOf.delete(t.deviceId);
    this.pending.delete(key);
    const h = this.handles.get(key);
    if (h !== undefined) {
      this.clock.clearTimeout(h);
      this.handles.delete(key);
    }
  }

  private applyTimerFire(key: string): void {
    const t = this.pending.get(key);
    if (!t) return;
    // If the store refuses the firing, try again a second later rather than in a tight loop.
    this.onUndo(() => this.armTimer({ ...t, due: Math.max(t.due, this.clock.now() + 1000) }));
    this.disarm(key);
    this.store.deleteTimer(key);
    if (t.machine === 'userStatus') this.toUser(t.owner, t.event as UserStatusEvent);
    else if (t.machine === 'subscriptions') this.toSubs(t.owner, t.event as SubscriptionsEvent);
    else if (t.deviceId !== undefined) this.toLink(t.owner, t.deviceId, t.event as DeviceLinkEvent);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Device sessions: what clients and sockets call.

  /**
   * A new device session. A client may bring its own `deviceId` to take its device over after a drop or a
   * restart (see `adopt`); while another open session holds that id, the new one takes it only when it logs
   * in or reconnects as the same user (see `claim`).
   */
  openSession(platform: Platform, sink: DeviceSink, deviceId?: string): DeviceSession {
    this.assertOpen();
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
   * not ours to take.
   */
  private claim(s: DeviceSession, userID: string): () => void {
    const holder = this.sessions.get(s.deviceId);
    const other = this.orphans.get(s.deviceId);
    // A device id names one user's device: another user's session (even dropped, waiting to come back) or
    // stored device is not ours to take.
    if ((holder && holder !== s && holder.userID !== null && holder.userID !== userID) || (other && other.userID !== userID)) {
      throw invalidParameter('deviceId', `device '${s.deviceId}' belongs to another user`);
    }
    if (holder && holder !== s) {
      this.detach(holder);
      holder.userID = null;
      holder.link = null;
    }
    this.sessions.set(s.deviceId, s);
    const orphan = this.orphans.get(s.deviceId);
    if (orphan && orphan.userID === userID) {
      this.clock.clearTimeout(orphan.handle);
      this.orphans.delete(s.deviceId);
    }
    // If the login that claimed it fails: the device is not this session's, and an orphan waits again.
    return () => {
      if (this.sessions.get(s.deviceId) === s) this.sessions.delete(s.deviceId);
      if (orphan && orphan.userID === userID) this.armOrphan(orphan.userID, s.deviceId, orphan.platform);
    };
  }

  /** How much the engine holds besides its store: for /healthz, and for tests that nothing grows unbounded. */
  stats(): { sessions: number; usersWithSessions: number; rateWindows: number; pendingTimers: number; flaps: number; orphans: number } {
    return {
      sessions: this.sessions.size,
      usersWithSessions: this.byUser.size,
      rateWindows: this.rates.size,
      pendingTimers: this.pending.size,
      flaps: this.flaps.size,
      orphans: this.orphans.size,
    };
  }

  /** The open session of a device, if any (a server closes a stale one before its client takes over). */
  sessionOf(deviceId: string): DeviceSession | undefined {
    return this.sessions.get(deviceId);
  }

  /** Forget a session (its socket or client is gone for good): a logged-in device counts as a closed link. */
  closeSession(s: DeviceSession): void {
    if (s.loggedIn && s.userID && !this.closed) this.linkEvent(s, { type: 'LINK.CLOSED' });
    this.detach(s);
    if (this.sessions.get(s.deviceId) === s) this.sessions.delete(s.deviceId);
  }

  private attach(s: DeviceSession, userID: string): void {
    s.userID = userID;
    this.addToUser(userID, s);
  }

  private detach(s: DeviceSession): void {
    if (s.userID) this.removeFromUser(s.userID, s);
    s.loggedIn = false;
    s.connected = false;
  }

  login(s: DeviceSession, rawUserID: unknown): LoginResult {
    this.assertOpen();
    const userID = check.userID(rawUserID);
    if (s.loggedIn && s.userID === userID) return { repeatLogin: true, status: this.statusOf(userID, userID) };
    if (s.loggedIn) {
      throw invalidParameter('userID', `this device is logged in as '${s.userID}': call logout() first`);
    }
    if (!this.store.hasUser(userID)) {
      throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${userID}' is not registered`, { param: 'userID' });
    }
    const was = { userID: s.userID, link: s.link };
    const unclaim = this.claim(s, userID);
    if (s.userID && s.userID !== userID) this.detach(s);
    this.attach(s, userID);
    s.loggedIn = true;
    s.connected = true;
    s.link = this.linkRunner.initial({ platform: s.platform }).snapshot;
    this.inspector?.transition(this.linkRunner, s.deviceId, { type: 'xstate.init' }, s.link, { userID });
    try {
      this.run(userID, { type: 'device.login', userID, deviceId: s.deviceId, platform: s.platform });
    } catch (e) {
      this.detach(s);
      unclaim();
      s.userID = was.userID;
      s.link = was.link;
      throw e;
    }
    s.lastSeq = Math.max(s.lastSeq, this.heardUpTo());
    return { repeatLogin: false, status: this.statusOf(userID, userID) };
  }

  logout(s: DeviceSession): void {
    const userID = this.requireLogin(s);
    this.run(userID, { type: 'device.logout', userID, deviceId: s.deviceId });
    this.detach(s);
    if (this.sessions.get(s.deviceId) === s) this.sessions.delete(s.deviceId);
    s.userID = null;
    s.lastSeq = 0;
  }

  setSelfStatus(s: DeviceSession, raw: unknown): UserStatus {
    const userID = this.requireLogin(s);
    const opts = check.options(raw, 'setSelfStatus');
    const customStatus = check.customStatus(opts.customStatus, this.limits.customStatusMaxBytes);
    this.requireConnected(s);
    this.run(userID, { type: 'status.set', userID, customStatus });
    return this.statusOf(userID, userID);
  }

  getUserStatus(s: DeviceSession, raw: unknown): { successUserList: UserStatus[]; failureUserList: Failure[] } {
    const userID = this.requireLogin(s);
    const opts = check.options(raw, 'getUserStatus');
    const ids = check.userIDList(opts.userIDList, { max: this.limits.queryMaxUsers, limitName: 'queryMaxUsers' });
    this.requireConnected(s);
    const selfOnly = ids.length === 1 && ids[0] === userID;
    if (!selfOnly) {
      this.requireFeature();
      this.admitRate(userID, 'getUserStatus', false);
      this.run(userID, { type: 'status.query', userID, count: ids.length });
    }
    const successUserList: UserStatus[] = [];
    const failureUserList: Failure[] = [];
    for (const id of ids) {
      if (!this.store.hasUser(id)) failureUserList.push(notRegistered(id));
      else successUserList.push(this.statusOf(id, userID));
    }
    return { successUserList, failureUserList };
  }

  subscribe(s: DeviceSession, raw: unknown): { failureUserList: Failure[] } {
    const userID = this.requireLogin(s);
    const opts = check.options(raw, 'subscribeUserStatus');
    const ids = check.userIDList(opts.userIDList, { max: this.limits.subscribeMaxUsers, limitName: 'subscribeMaxUsers' });
    if (opts.pushCurrent !== undefined && typeof opts.pushCurrent !== 'boolean') {
      throw invalidParameter('pushCurrent', `expected a boolean, got ${typeof opts.pushCurrent}`);
    }
    this.requireConnected(s);
    this.requireFeature();
    this.admitRate(userID, 'subscribeUserStatus', false);
    const failureUserList: Failure[] = [];
    const ok: string[] = [];
    for (const id of ids) {
      if (id === userID) {
        failureUserList.push({ userID: id, code: ErrorCode.INVALID_PARAMETER, message: 'subscribing to yourself is not supported' });
      } else if (!this.store.hasUser(id)) failureUserList.push(notRegistered(id));
      else ok.push(id);
    }
    this.run(userID, { type: 'subscriptions.add', userID, userIDs: ok }, () => {
      // EXT-2: the current status at once, to this device, when asked.
      if (opts.pushCurrent === true && ok.length > 0) {
        this.send(userID, { name: EVENT.USER_STATUS_UPDATED, data: ok.map((id) => this.statusOf(id, userID)) }, s.deviceId);
      }
    });
    return { failureUserList };
  }

  unsubscribe(s: DeviceSession, raw: unknown): { failureUserList: Failure[] } {
    const userID = this.requireLogin(s);
    const opts = check.options(raw, 'unsubscribeUserStatus', true);
    // UNSUB-2: no list, or an empty one, means all.
    const all = opts.userIDList === undefined || (Array.isArray(opts.userIDList) && opts.userIDList.length === 0);
    const ids = all
      ? null
      : check.userIDList(opts.userIDList, { max: this.limits.unsubscribeMaxUsers, limitName: 'unsubscribeMaxUsers' });
    this.requireConnected(s);
    this.requireFeature();
    this.admitRate(userID, 'unsubscribeUserStatus', false);
    const failureUserList: Failure[] = [];
    const ok: string[] | null = ids === null ? null : [];
    for (const id of ids ?? []) {
      if (!this.store.hasUser(id)) failureUserList.push(notRegistered(id));
      else ok?.push(id);
    }
    this.run(userID, { type: 'subscriptions.remove', userID, userIDs: ok });
    return { failureUserList };
  }

  /** EXT-5: who may see this user's status. */
  setVisibility(s: DeviceSession, raw: unknown): UserStatus {
    const userID = this.requireLogin(s);
    const visibility = raw as Visibility;
    if (visibility !== 'everyone' && visibility !== 'friends' && visibility !== 'nobody') {
      throw invalidParameter('visibility', `expected 'everyone', 'friends' or 'nobody', got ${check.describe(raw)}`);
    }
    this.requireConnected(s);
    this.run(userID, { type: 'visibility.set', userID, visibility });
    return this.statusOf(userID, userID);
  }

  /** DEV-2/3: the link changes; a lost link becomes a device event of its user. */
  linkEvent(s: DeviceSession, event: DeviceLinkEvent): void {
    const userID = s.userID;
    if (!s.link || !userID || this.closed) return;
    if (!s.loggedIn) {
      // A device that is not logged in has no status to lose: its link is only bookkeeping.
      const step = this.linkRunner.transition(s.link, event);
      if (step.handled) s.link = step.snapshot;
      return;
    }
    if (!this.linkRunner.transition(s.link, event).handled) return;
    if (s.receiving) s.lastSeq = Math.max(s.lastSeq, this.heardUpTo()); // it has heard everything so far (EXT-2)
    // The link's changes that matter are commands: journaled, replayed, and their timers durable.
    const deviceId = s.deviceId;
    const command: Command =
      event.type === 'LINK.SILENT'
        ? { type: 'device.silent', userID, deviceId }
        : event.type === 'LINK.HEARTBEAT'
          ? { type: 'device.heard', userID, deviceId }
          : event.type === 'LINK.CLOSED'
            ? { type: 'device.disconnect', userID, deviceId, reason: 'link_closed' }
            : { type: 'device.heard', userID, deviceId };
    if (event.type === 'LINK.OPEN') {
      const before = s.link;
      s.link = this.linkRunner.transition(s.link, event).snapshot;
      this.inspector?.transition(this.linkRunner, s.deviceId, event, s.link, { before, userID });
      return;
    }
    this.run(userID, command);
  }

  /** DEV-2/3: one event to a device's link machine, inside a command; a lost link disconnects the device. */
  private toLink(userID: string, deviceId: string, event: DeviceLinkEvent): void {
    const s = this.sessions.get(deviceId);
    const session = s && s.userID === userID ? s : undefined;
    let before = session?.link ?? this.strayLinks.get(deviceId) ?? undefined;
    if (!before) {
      // No session here holds the device (a replay, or its client went with a restart): run its link alone.
      const d = (this.store.getStatus(userID) ?? this.userInitial).context.devices.find((x) => x.id === deviceId);
      if (!d) return;
      before = this.linkRunner.initial({ platform: d.platform }).snapshot;
    }
    const step = this.linkRunner.transition(before, event);
    if (!step.handled) return;
    const after = step.snapshot;
    if (session) {
      const was = session.link;
      session.link = after;
      this.onUndo(() => (session.link = was));
    } else {
      const was = this.strayLinks.get(deviceId);
      if (after.value === 'deviceLink.silent') this.strayLinks.set(deviceId, after);
      else this.strayLinks.delete(deviceId);
      this.onUndo(() => (was ? this.strayLinks.set(deviceId, was) : this.strayLinks.delete(deviceId)));
    }
    this.inspector?.transition(this.linkRunner, deviceId, event, after, { before, userID });
    this.scheduleOps('deviceLink', userID, step.timers, deviceId);
    for (const em of step.emitted) this.toUser(userID, { type: 'DEVICE.DISCONNECT', deviceId, reason: em.reason });
  }

  /** Forgets a device's link wait (its device is gone another way). */
  private dropLink(userID: string, deviceId: string): void {
    const was = this.strayLinks.get(deviceId);
    if (was) {
      this.strayLinks.delete(deviceId);
      this.onUndo(() => this.strayLinks.set(deviceId, was));
    }
    const key = this.linkTimerOf.get(deviceId);
    const t = key === undefined ? undefined : this.pending.get(key);
    if (t && t.owner === userID) {
      // A delayed event's id is its type (XState names `after` events so).
      this.scheduleOps('deviceLink', userID, [{ op: 'cancel', id: t.event.type }], deviceId);
    }
  }

  /**
   * DEV-1: the device's session comes back (a dropped web device logs in again, a native one reconnects),
   * then EXT-2: each user whose status moved since the device last heard is sent once, current.
   */
  reconnect(s: DeviceSession, held?: { lastSeq?: number; versions?: Record<string, number> }): void {
    this.assertOpen();
    const userID = s.userID;
    if (!userID) throw notLoggedIn();
    if (!this.store.hasUser(userID)) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${userID}' is not registered`);
    this.claim(s, userID);
    if (held?.lastSeq !== undefined) s.lastSeq = held.lastSeq;
    if (!this.byUser.get(userID)?.includes(s)) this.attach(s, userID);
    // What the client says it heard wins (pushes may have died with a socket we still think alive);
    // without it, a device that is receiving right now has missed nothing.
    const since = held?.lastSeq !== undefined ? held.lastSeq : s.receiving ? Math.max(s.lastSeq, this.heardUpTo()) : s.lastSeq;
    // From here on it hears live: this comeback's own changes, and whatever still waits in the outbox.
    const liveFrom = this.heardUpTo() + 1;
    this.reopenLink(s, userID);
    const device = (this.store.getStatus(userID) ?? this.userInitial).context.devices.find((d) => d.id === s.deviceId);
    if (!device || !device.connected) {
      this.run(userID, { type: 'device.reconnect', userID, deviceId: s.deviceId, platform: s.platform });
    } else {
      s.loggedIn = true;
      s.connected = true;
    }
    this.resume(s, since, liveFrom, held?.versions);
  }

  /**
   * Brings a device's link back to live: a link waiting out its heartbeat timeout hears a heartbeat (a
   * journaled command that stops the durable wait), a closed one opens anew.
   */
  private reopenLink(s: DeviceSession, userID: string): void {
    const stray = this.strayLinks.get(s.deviceId);
    if (stray) {
      // The device's wait began without this session (a restart, or another socket): take it over.
      this.strayLinks.delete(s.deviceId);
      s.link = stray;
    }
    const device = (this.store.getStatus(userID) ?? this.userInitial).context.devices.find((d) => d.id === s.deviceId);
    if (s.link?.value === 'deviceLink.silent' && device) {
      this.run(userID, { type: 'device.heard', userID, deviceId: s.deviceId });
    }
    if (s.link?.value !== 'deviceLink.live') {
      s.link = this.linkRunner.initial({ platform: s.platform }).snapshot;
      this.inspector?.transition(this.linkRunner, s.deviceId, { type: 'xstate.init' }, s.link, { userID });
    }
  }

  background(s: DeviceSession): void {
    const userID = this.requireLogin(s);
    if (!isNativePlatform(s.platform) || !s.connected) return; // a web page has no background (DEV-3)
    if (s.receiving) s.lastSeq = Math.max(s.lastSeq, this.heardUpTo());
    this.run(userID, { type: 'device.background', userID, deviceId: s.deviceId });
  }

  /** DEV-3: a native app back in the foreground reconnects its link if it went down, and is connected again. */
  foreground(s: DeviceSession): void {
    const userID = this.requireLogin(s);
    if (!isNativePlatform(s.platform)) return; // a web page has no background, so no foreground either
    if (s.connected && s.link?.value === 'deviceLink.live') return;
    const since = s.receiving ? Math.max(s.lastSeq, this.heardUpTo()) : s.lastSeq;
    const liveFrom = this.heardUpTo() + 1;
    this.reopenLink(s, userID);
    if (!s.connected) {
      this.run(userID, { type: 'device.foreground', userID, deviceId: s.deviceId });
    }
    this.resume(s, since, liveFrom);
  }

  /**
   * EXT-2: send, once, the current status of each user in this device's view that changed after `since`
   * (the seq up to which it heard everything) and before `liveFrom` (from there on it heard them live).
   * `versions`, when a client passes them (e.g. after a server restart), also skips what it already holds.
   */
  private resume(s: DeviceSession, since: number, liveFrom: number, versions?: Record<string, number>): void {
    const userID = s.userID;
    if (!userID || !s.receiving) return;
    const scope = new Set<string>([userID]);
    for (const id of (this.store.getSubscriptions(userID) ?? this.subsInitial).context.list) scope.add(id);
    if (this.friendNotifyOn) for (const f of this.store.friendsOf(userID) ?? []) scope.add(f);
    const changed: Array<{ seq: number; status: UserStatus }> = [];
    for (const id of scope) {
      const rec = this.store.getStatus(id);
      if (!rec) continue;
      // What this viewer could have been told: its own changes; others' as they were shown (EXT-7 holds some
      // back); a hidden user's (EXT-5) only when it hid or showed itself.
      const changedAt =
        id === userID ? rec.seq : this.canSee(id, rec.context.visibility, userID) ? (rec.shownSeq ?? rec.seq) : (rec.visibilitySeq ?? 0);
      // Changed after it left, and not by a command of this comeback (those it heard live).
      if (changedAt <= since || changedAt >= liveFrom) continue;
      if (id !== userID && !this.mayHear(id, userID)) continue;
      const status = this.statusOf(id, userID);
      if ((versions?.[id] ?? -1) >= status.version) continue;
      changed.push({ seq: changedAt, status });
    }
    if (changed.length === 0) return;
    changed.sort((a, b) => a.seq - b.seq);
    this.send(userID, { name: EVENT.USER_STATUS_UPDATED, data: changed.map((c) => c.status) }, s.deviceId, this.seq);
    this.flush();
  }

  /** Whether `viewer` would hear of `target`'s changes now (NTF-2 b/c with NTF-4). */
  private mayHear(target: string, viewer: string): boolean {
    if (this.userStatusGate === 'enabled' && this.store.subscribersOf(target)?.has(viewer)) return true;
    return this.friendNotifyOn && this.store.followersOf(target)?.has(viewer) === true;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Checks, in the order of SPEC.md section 10: 2024, 6017, 3122, 72001, 2996.

  private requireLogin(s: DeviceSession): string {
    this.assertOpen();
    if (!s.loggedIn || !s.userID) throw notLoggedIn();
    return s.userID;
  }

  /** A call needs a live link: a device in the background, or whose network is gone, cannot reach us. */
  private requireConnected(s: DeviceSession): void {
    if (!s.connected || !s.link || s.link.value !== 'deviceLink.live') {
      throw new StatusError(ErrorCode.NOT_CONNECTED, 'this device is not connected: call reconnect() or foreground() first');
    }
  }

  /** GATE-2/3: 3122 before 72001. */
  private requireFeature(): void {
    if (this.userStatusGate === 'editionLacks') {
      throw new StatusError(ErrorCode.EDITION_LACKS_FEATURE, `the ${this.settingsCache.edition} edition lacks user status: it needs Ultimate`);
    }
    if (this.userStatusGate === 'switchOff') {
      throw new StatusError(ErrorCode.SWITCH_OFF, 'the console switch "user status query and status change notification" (userStatus) is off');
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new StatusError(ErrorCode.ENGINE_CLOSED, 'the engine is closed');
  }

  // ---------------------------------------------------------------------------------------------------------
  // Reads.

  /** A user's status as `viewer` may see it (EXT-5); ST-7: UNKNOWN only when the store cannot tell. */
  statusOf(userID: string, viewer: string | null): UserStatus {
    let rec: StatusRecord;
    try {
      rec = this.store.getStatus(userID) ?? this.userInitial;
    } catch (e) {
      if (e instanceof StoreUnavailableError) {
        return { userID, statusType: TYPES.USER_STATUS_UNKNOWN, customStatus: '', version: 0, reason: 'registered' };
      }
      throw e;
    }
    const c = rec.context;
    const status: UserStatus = { userID, statusType: c.statusType, customStatus: c.customStatus, version: c.version, reason: c.reason };
    if (viewer === userID || viewer === null) return status;
    // EXT-7: while a flap is held back, others see the status from before it.
    const held = this.flaps.get(userID);
    if (this.canSee(userID, c.visibility, viewer)) return held ? { ...held.before } : status;
    // EXT-5: a hidden user looks UNLOGINED, and shows nothing that changes until it shows itself again.
    return { userID, statusType: HIDDEN, customStatus: '', version: c.visibilityVersion, reason: 'visibility_changed' };
  }

  /** EXT-5: whether `viewer` may see `owner`'s status under `visibility` (friends: owner's own friend list). */
  private canSee(owner: string, visibility: Visibility, viewer: string): boolean {
    if (visibility === 'everyone') return true;
    return visibility === 'friends' && this.store.friendsOf(owner)?.has(viewer) === true;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Admin.

  registerUsers(raw: unknown): void {
    const ids = check.userIDList(raw, { param: 'userIDs', max: ADMIN_MAX_USERS_PER_CALL, limitName: 'ADMIN_MAX_USERS_PER_CALL' });
    const fresh = ids.filter((id) => !this.store.hasUser(id));
    if (fresh.length === 0) return;
    this.run('admin', { type: 'users.register', userIDs: fresh });
  }

  changeFriends(rawUser: unknown, rawFriends: unknown, add: boolean): void {
    const userID = check.userID(rawUser);
    const friendIDs = check.userIDList(rawFriends, { param: 'friendIDs', max: ADMIN_MAX_USERS_PER_CALL, limitName: 'ADMIN_MAX_USERS_PER_CALL' });
    for (const id of [userID, ...friendIDs]) {
      if (!this.store.hasUser(id)) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${id}' is not registered`, { param: id === userID ? 'userID' : 'friendIDs' });
    }
    if (friendIDs.includes(userID)) throw invalidParameter('friendIDs', `a user cannot be its own friend ('${userID}')`);
    const mine = this.store.friendsOf(userID);
    const todo = friendIDs.filter((f) => (mine?.has(f) === true) !== add);
    if (todo.length === 0) return;
    const command: Command = add
      ? { type: 'friends.add', userID, friendIDs: todo }
      : { type: 'friends.remove', userID, friendIDs: todo };
    this.run('admin', command);
  }

  configure(raw: unknown): void {
    const change = parseConfigChange(raw, 'change');
    this.run('admin', { type: 'config.change', change });
  }

  settings(): AccessContext {
    return structuredClone(this.settingsCache);
  }

  queryStatus(raw: unknown, opts: unknown): AdminStatus[] {
    this.assertOpen();
    const ids = check.userIDList(raw, { param: 'userIDs', max: this.limits.queryMaxUsers, limitName: 'queryMaxUsers' });
    const o = check.options(opts, 'queryStatus', true);
    if (o.detail !== undefined && typeof o.detail !== 'boolean') throw invalidParameter('detail', `expected a boolean, got ${typeof o.detail}`);
    return ids.map((id) => {
      if (!this.store.hasUser(id)) {
        const f = notRegistered(id);
        return { userID: id, statusType: TYPES.USER_STATUS_UNKNOWN, customStatus: '', version: 0, reason: 'registered', error: { code: f.code, message: f.message } };
      }
      const s: AdminStatus = this.statusOf(id, null);
      if (o.detail === true) {
        const rec = this.store.getStatus(id) ?? this.userInitial;
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

  explain(raw: unknown): StatusTransition[] {
    this.assertOpen();
    const userID = check.userID(raw);
    if (!this.store.hasUser(userID)) throw new StatusError(ErrorCode.USER_NOT_FOUND, `user '${userID}' is not registered`, { param: 'userID' });
    return this.store.journalOf(userID).filter((e): e is StatusTransition => e.kind === 'transition' && e.machine === 'userStatus');
  }

  journal(raw?: unknown): JournalEntry[] {
    this.assertOpen();
    const opts = check.journalOptions(raw);
    const from = opts.fromSeq ?? this.store.firstSeq();
    return this.store.readJournal(from, opts.limit ?? Number.MAX_SAFE_INTEGER);
  }

  exportState(): EngineState {
    const users: EngineState['users'] = {};
    for (const id of this.store.userIDs()) {
      const rec = this.store.getStatus(id) ?? this.userInitial;
      const subs = this.store.getSubscriptions(id) ?? this.subsInitial;
      users[id] = {
        statusType: rec.context.statusType,
        customStatus: rec.context.customStatus,
        version: rec.context.version,
        state: this.user.pathOf(rec),
        devices: rec.context.devices.map((d) => ({ deviceId: d.id, platform: d.platform, connected: d.connected })),
        subscriptions: [...subs.context.list],
        friends: [...(this.store.friendsOf(id) ?? [])].sort(),
        visibility: rec.context.visibility,
      };
    }
    const timers = [...this.pending.values()].map((t) => ({ key: t.key, due: t.due })).sort((a, b) => (a.key < b.key ? -1 : 1));
    return { settings: this.settings(), users, timers };
  }

  /** EXT-3: rebuild from a journal: each command re-applied at its time, timers fired where they fired. */
  replay(entries: Iterable<JournalEntry>, setNow: (t: number) => void): void {
    this.replaying = true;
    try {
      for (const e of entries) {
        if (e.kind !== 'command') continue;
        setNow(e.at);
        this.store.transaction(() => {
          this.seq = e.seq;
          this.cause = e.seq;
          this.now = e.at;
          if (this.journalOn) this.store.append(e);
          this.apply(e.command);
        });
        this.outbox = [];
        this.afterCommit = [];
      }
    } finally {
      this.replaying = false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.handles.values()) this.clock.clearTimeout(h);
    for (const f of this.flaps.values()) this.clock.clearTimeout(f.timer);
    for (const o of this.orphans.values()) this.clock.clearTimeout(o.handle);
    this.orphans.clear();
    this.flaps.clear();
    this.handles.clear();
    this.access.stop();
  }
}

const notRegistered = (userID: string): Failure => ({
  userID,
  code: ErrorCode.USER_NOT_FOUND,
  message: `user '${userID}' is not registered`,
});

