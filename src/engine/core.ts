// The engine: composes its parts; a Command is applied in one place (`apply`, also replay's entry point:
// ./commands.ts). Live calls check first (a failed call changes nothing), then run one command in one transaction
// (src/engine/transaction.ts); the parts decide nothing of SPEC's rules themselves: the machines and
// src/engine/rules/ do. Front-ends see it only through the EnginePort (src/engine/port.ts).
import { accessMachine, defaultAccessContext, mergeSettings, type AccessContext } from '../../machines/access';
import type { Limits, Platform } from '../../machines/spec';
import { MemoryBroker } from '../broker/memory';
import type { Broker } from '../broker/types';
import { systemClock, type Clock } from '../clock';
import { ErrorCode, StatusError, invalidParameter } from '../errors';
import type { Command, Failure, JournalEntry, StatusTransition, UserStatus } from '../records';
import { MemoryStore } from '../store/memory';
import type { EngineMemory, Snapshot } from '../store/snapshot';
import type { Store } from '../store/types';
import type { AdminStatus, EngineOptions, EngineState, JournalInfo } from '../types';
import { Admin } from './admin';
import { Calls } from './calls';
import { Commands } from './commands';
import { Compaction } from './compaction';
import { parseConfigChange } from './config';
import { LocalDevices } from './delivery';
import { Devices, type FrontEndLinkEvent, type Resumed } from './devices';
import { FanOut } from './fanout';
import { InspectBridge } from './inspect';
import { InspectReports } from './inspectReports';
import { Links } from './links';
import type { DeviceHandle, EnginePort, UserDetail } from './port';
import { RateWindows } from './rate';
import { RULES, type Rules } from './rules/index';
import { Runners, type InternalMachines } from './runners';
import { DeviceSession, type DeviceSink, type LoginResult } from './session';
import { Settings } from './settings';
import { Shard } from './shard';
import { StatusSteps, type TransitionListener } from './status';
import { SubscriptionSteps } from './subs';
import { DurableTimers } from './timers';
import { Transaction } from './transaction';

export { DeviceSession, type DeviceSink, type LoginResult } from './session';

/** How an engine starts besides its options (internal: replay and cluster shards). */
export interface EngineStartup {
  adoptStored?: boolean;
  memory?: EngineMemory;
}

export class EngineCore implements EnginePort {
  readonly clock: Clock;
  readonly store: Store;
  readonly broker: Broker;
  private readonly tx: Transaction;
  private readonly settingsPart: Settings;
  private readonly timers: DurableTimers;
  private readonly local: LocalDevices;
  /** The inspection bridge (src/engine/inspect.ts), when `inspect` is given: `serve --inspect` asks it for the current actors. */
  readonly inspector: InspectBridge | null;
  private readonly links: Links;
  private readonly rates: RateWindows;
  private readonly fanOut: FanOut;
  private readonly status: StatusSteps;
  private readonly subs: SubscriptionSteps;
  private readonly devices: Devices;
  private readonly calls: Calls;
  private readonly admin: Admin;
  private readonly shard: Shard;
  private readonly commands: Commands;
  readonly compaction: Compaction;
  private readonly listeners = new Set<TransitionListener>();
  private closed = false;
  private readonly detach: () => void;

  /** `adoptStored: false`: a replay from a snapshot (its connected devices are not this process's to wait for).
   * `memory`: the engine memory (rate windows, silent links) to start with, before stored devices are adopted. */
  constructor(options: EngineOptions = {}, rules: Rules = RULES, internal: InternalMachines = {}, startup: EngineStartup = {}) {
    this.clock = options.clock ?? systemClock;
    const journalMax = typeof options.journal === 'object' ? options.journal.maxEntries : undefined;
    const store = (this.store = options.store ?? new MemoryStore({ journalMaxEntries: options.journal === false ? 0 : journalMax }));
    const journalOn = options.journal !== false;
    this.broker = options.broker ?? new MemoryBroker();
    const tx = (this.tx = new Transaction(store, this.broker, journalOn, () => this.clock.now()));
    const local = (this.local = new LocalDevices(tx));

    const initialChange = parseConfigChange(
      Object.fromEntries(Object.entries({ edition: options.edition, switches: options.switches, limits: options.limits }).filter(([, v]) => v !== undefined)),
      'options',
    );
    const stored = store.getSettings();
    const m = options.machines ?? {};
    const settings = (this.settingsPart = new Settings(m.access ?? accessMachine, stored ?? mergeSettings(defaultAccessContext(), initialChange), options.inspect));
    if (!stored) store.transaction(() => store.putSettings(settings.current));
    const runners = new Runners({ ...m, ...internal }, () => settings.limits);
    const shard = (this.shard = new Shard(options.owns ?? (() => true), options.owns !== undefined, store, this.broker, tx, runners, settings, rules, local, (by, c) => this.run(by, c)));
    this.detach = shard.attach();
    this.inspector = options.inspect ? new InspectBridge(options.inspect, settings.sessionId, options.inspectUsers) : null;
    const reports = new InspectReports(this.inspector, tx);
    const run = (by: string, command: Command, then?: () => void) => this.run(by, command, then);
    const timers = (this.timers = new DurableTimers(store, this.clock, tx, (key) => run('system', { type: 'timer.fire', key })));
    this.fanOut = new FanOut(store, tx, settings, timers, runners, reports, rules);
    this.subs = new SubscriptionSteps(store, tx, timers, runners, rules, reports, journalOn, shard);
    const links = (this.links = new Links(store, tx, timers, runners, local, reports, (u, e) => this.status.step(u, e), (c) => run('system', c)));
    this.status = new StatusSteps({
      store, tx, timers, runners, rules, reports, local, journalOn,
      fanOut: this.fanOut,
      subs: this.subs,
      listeners: this.listeners,
      dropLink: (u, d) => links.drop(u, d),
    });
    shard.bind(this.status);
    this.rates = new RateWindows(runners, settings, this.clock, tx, reports);
    this.devices = new Devices(store, tx, runners, local, links, this.status, this.fanOut, rules, this.rates, shard, run, () => this.closed);
    this.calls = new Calls(tx, settings, this.rates, this.status, shard, run);
    this.admin = new Admin(store, settings, runners, this.status, timers, shard, (by, c) => run(by, c));
    this.commands = new Commands({ store, settings, runners, timers, links, rates: this.rates, status: this.status, subs: this.subs, admin: this.admin, shard, tx });

    // The options' settings are the journal's first command, so that replay from empty rebuilds them.
    if (!stored && Object.keys(initialChange).length > 0 && journalOn) {
      store.transaction(() => {
        const seq = ++tx.seq;
        store.append({ seq, at: this.clock.now(), kind: 'command', by: 'admin', command: { type: 'config.change', change: initialChange } });
      });
    }
    // seq never goes below a stored record's (a journal-less store keeps no seq).
    for (const userID of store.userIDs()) {
      const rec = store.getStatus(userID);
      if (rec && rec.seq > tx.seq) tx.seq = rec.seq;
    }
    this.compaction = new Compaction(store, tx, this.clock, this.rates, links);
    // A cluster shard rebuilt from its snapshot + log: the old owner's rate windows and silent links.
    if (startup.memory) this.compaction.load(startup.memory);
    // Timers that were pending when a durable store was last closed resume where they were, and devices
    // that were connected then wait out their heartbeat timeout.
    timers.rearm();
    // Inspected users that have devices (a restart of a durable store, a cluster shard taken over) are
    // registered with their current status at once: a viewer sees them, and their links' parent, before a step.
    if (this.inspector) {
      for (const id of store.userIDs()) {
        const rec = this.inspector.inspects(id) && shard.owns(id) ? store.getStatus(id) : undefined;
        if (rec && ((rec.context as { devices?: unknown[] }).devices?.length ?? 0) > 0) this.inspector.transition(runners.user, id, { type: 'xstate.init' }, { value: rec.value, context: rec.context });
      }
    }
    if (startup.adoptStored !== false) links.adoptStored();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Commands: the only way state changes.

  private run(by: string, command: Command, then?: () => void): void {
    this.assertOpen();
    this.tx.run(by, command, this.applyCommand, then);
  }

  private readonly applyCommand = (command: Command): unknown => this.apply(command);

  /** Applies a command without checks: replay's entry point, and the body of every live call (./commands.ts). */
  apply(command: Command): unknown {
    return this.commands.apply(command);
  }

  // ---------------------------------------------------------------------------------------------------------
  // The port: device sessions.

  openSession(platform: Platform, sink: DeviceSink, deviceId?: string): DeviceSession {
    this.assertOpen();
    return this.devices.open(platform, sink, deviceId);
  }
  closeSession(h: DeviceHandle): void {
    const s = own(h);
    this.devices.close(s);
  }
  login(h: DeviceHandle, rawUserID: unknown): LoginResult {
    const s = own(h);
    this.assertOpen();
    return this.devices.login(s, rawUserID);
  }
  logout(h: DeviceHandle): void {
    const s = own(h);
    this.assertOpen();
    this.devices.logout(s, this.calls.userOf(s));
  }
  adopt(h: DeviceHandle, rawUserID: unknown, held?: Resumed): void {
    const s = own(h);
    this.assertOpen();
    this.devices.adopt(s, rawUserID, held);
  }
  reconnect(h: DeviceHandle, held?: Resumed): void {
    const s = own(h);
    this.assertOpen();
    this.devices.reconnect(s, held);
  }
  linkEvent(h: DeviceHandle, event: FrontEndLinkEvent): void {
    const s = own(h);
    this.devices.linkEvent(s, event);
  }
  background(h: DeviceHandle): void {
    const s = own(h);
    this.assertOpen();
    this.devices.background(s, this.calls.userOf(s));
  }
  foreground(h: DeviceHandle): void {
    const s = own(h);
    this.assertOpen();
    this.devices.foreground(s, this.calls.userOf(s));
  }

  // The port: the calls of a logged-in device.

  setSelfStatus(h: DeviceHandle, raw: unknown): UserStatus {
    const s = own(h);
    this.assertOpen();
    return this.calls.setSelfStatus(s, raw);
  }
  getUserStatus(h: DeviceHandle, raw: unknown): { successUserList: UserStatus[]; failureUserList: Failure[] } {
    const s = own(h);
    this.assertOpen();
    return this.calls.getUserStatus(s, raw);
  }
  subscribe(h: DeviceHandle, raw: unknown): { failureUserList: Failure[] } {
    const s = own(h);
    this.assertOpen();
    return this.calls.subscribe(s, raw);
  }
  unsubscribe(h: DeviceHandle, raw: unknown): { failureUserList: Failure[] } {
    const s = own(h);
    this.assertOpen();
    return this.calls.unsubscribe(s, raw);
  }
  setVisibility(h: DeviceHandle, raw: unknown): UserStatus {
    const s = own(h);
    this.assertOpen();
    return this.calls.setVisibility(s, raw);
  }
  /** A user's status as `viewer` may see it (EXT-5, issue 17); `null`: the admin's view. */
  statusOf(userID: string, viewer: string | null): UserStatus {
    return this.status.statusOf(userID, viewer);
  }

  // The port: admin.

  registerUsers(raw: unknown): void {
    this.admin.registerUsers(raw);
  }
  changeFriends(rawUser: unknown, rawFriends: unknown, add: boolean, both = false): void {
    this.admin.changeFriends(rawUser, rawFriends, add, both);
  }
  configure(raw: unknown): void {
    this.admin.configure(raw);
  }
  settings(): AccessContext {
    return this.admin.current();
  }
  queryStatus(raw: unknown, opts: unknown): AdminStatus[] {
    this.assertOpen();
    return this.admin.queryStatus(raw, opts);
  }
  explain(raw: unknown): StatusTransition[] {
    this.assertOpen();
    return this.admin.explain(raw);
  }
  userDetail(raw: unknown): UserDetail {
    this.assertOpen();
    return this.admin.userDetail(raw);
  }
  userCount(): number {
    return this.admin.userCount();
  }
  onlineUserIDs(): string[] {
    return this.admin.onlineUserIDs();
  }
  journal(raw?: unknown): JournalEntry[] {
    this.assertOpen();
    return this.admin.journal(raw);
  }
  exportState(): EngineState {
    return this.admin.exportState();
  }
  get acknowledgesLater(): boolean {
    return typeof this.store.durable === 'function';
  }
  /** Resolves with `value` once what the engine has written so far is durable (see Store.durable). */
  acknowledge<T>(value: T): Promise<T> {
    const durable = this.store.durable?.();
    return durable ? durable.then(() => value) : Promise.resolve(value);
  }
  hasUser(userID: string): boolean {
    return this.shard.hasUser(userID);
  }

  get limits(): Readonly<Limits> {
    return this.settingsPart.limits;
  }
  /** The seq of the last command or transition applied (EXT-2's "caught up to" marker). */
  get currentSeq(): number {
    return this.tx.seq;
  }

  /**
   * Hear every step of every user's status machine once its command has landed (e.g. the server's webhook,
   * EXT-8), with the command that caused it; works with the journal off too. Returns an unsubscribe.
   */
  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Hear every settings change (e.g. a gateway pushes the edition to its SDKs); returns an unsubscribe. */
  onSettingsChange(listener: (settings: AccessContext) => void): () => void {
    return this.settingsPart.onChange(listener);
  }

  /** The link of a device attached here, for the admin dashboard (null: no session here holds it). */
  linkStateOf(deviceId: string): 'live' | 'silent' | 'closed' | null {
    return this.local.sessions.get(deviceId)?.linkState ?? null;
  }

  /** How much the engine holds besides its store: for /healthz, and for tests that nothing grows unbounded. */
  stats(): { sessions: number; usersWithSessions: number; rateWindows: number; pendingTimers: number; flaps: number; orphans: number } {
    return {
      sessions: this.local.sessions.size,
      usersWithSessions: this.local.usersWithSessions,
      rateWindows: this.rates.size,
      pendingTimers: this.timers.size,
      flaps: [...this.timers.all()].filter((t) => t.machine === 'flap').length,
      orphans: this.links.orphans.size,
    };
  }

  // Compaction (issue 9): src/engine/compaction.ts.
  snapshot = (): Snapshot => (this.assertOpen(), this.compaction.snapshot());
  replayStart = (): Snapshot | null => (this.assertOpen(), this.compaction.replayStart());
  journalInfo = (): JournalInfo => (this.assertOpen(), this.compaction.journalInfo());

  /** Arms every pending durable timer on the clock (after a replay). */
  rearm(): void {
    this.timers.rearm();
  }

  /** EXT-3: rebuild from a journal: each command re-applied at its time, timers fired where they fired. */
  replay(entries: Iterable<JournalEntry>, setNow: (t: number) => void): void {
    this.timers.replaying = true;
    try {
      for (const e of entries) {
        if (e.kind !== 'command') continue;
        setNow(e.at);
        this.tx.replayOne(e.seq, e.at, () => this.apply(e.command), e);
      }
    } finally {
      this.timers.replaying = false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    this.compaction.settle();
    this.timers.close();
    this.links.orphans.clear();
    this.settingsPart.stop();
  }

  private assertOpen(): void {
    if (this.closed) throw new StatusError(ErrorCode.ENGINE_CLOSED, 'the engine is closed');
  }
}

/** The session behind a handle: only sessions this engine's openSession made are accepted. */
function own(h: DeviceHandle): DeviceSession {
  if (!(h instanceof DeviceSession)) throw invalidParameter('session', 'expected a device session made by openSession()');
  return h;
}
