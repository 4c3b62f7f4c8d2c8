// DEV-2/DEV-3: device links run by the `deviceLink` machine, inside commands. A session holds its device's
// link; a link no session here holds (a replay, a client gone with a restart, a device found connected in
// the store at start) is kept here while it waits out its heartbeat timeout.
import type { DeviceLinkContext, DeviceLinkEvent } from '../../machines/deviceLink';
import type { UserStatusEvent } from '../../machines/userStatus';
import type { Command, RunnerSnapshot } from '../records';
import type { Store } from '../store/types';
import type { LocalDevices } from './delivery';
import type { InspectReports } from './inspectReports';
import type { Runners } from './runners';
import { timerRequests } from './steps';
import type { DurableTimers } from './timers';
import type { Transaction } from './transaction';

export class Links {
  /** Links that no session here holds, while they wait out a heartbeat timeout. */
  private readonly stray = new Map<string, RunnerSnapshot<DeviceLinkContext>>();
  /** Devices found connected at start, by device: whose they are (only that user may take them over). */
  readonly orphans = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly tx: Transaction,
    private readonly timers: DurableTimers,
    private readonly runners: Runners,
    private readonly local: LocalDevices,
    private readonly reports: InspectReports,
    private readonly toUser: (userID: string, event: UserStatusEvent) => void,
    private readonly run: (command: Command) => void,
  ) {}

  /** A new live link for a device of `userID` (a login, or a comeback after a closed link): a reset, reported. */
  fresh(userID: string, deviceId: string, platform: DeviceLinkContext['platform']): RunnerSnapshot<DeviceLinkContext> {
    const link = this.runners.link.initial({ platform }).snapshot;
    this.reports.transition(this.runners.link, deviceId, { type: 'xstate.init' }, link, { userID });
    return link;
  }

  /** One event to a device's link machine, inside a command; a lost link disconnects the device. */
  step(userID: string, deviceId: string, event: DeviceLinkEvent | { type: string }): void {
    const s = this.local.sessions.get(deviceId);
    const session = s && s.userID === userID ? s : undefined;
    let before = session?.link ?? this.stray.get(deviceId) ?? undefined;
    if (!before) {
      // No session here holds the device (a replay, or its client went with a restart): run its link alone.
      const d = (this.store.getStatus(userID) ?? this.runners.userInitial).context.devices.find((x) => x.id === deviceId);
      if (!d) return;
      before = this.runners.link.initial({ platform: d.platform }).snapshot;
    }
    const step = this.runners.link.transition(before, event);
    if (!step.handled) return;
    // Read before anything else runs (the runner fills the same answer again).
    const { snapshot: after, emitted, timers } = step;
    if (session) {
      const was = session.link;
      session.link = after;
      this.tx.onUndo(() => (session.link = was));
    } else {
      const was = this.stray.get(deviceId);
      if (after.value === 'deviceLink.silent') this.stray.set(deviceId, after);
      else this.stray.delete(deviceId);
      this.tx.onUndo(() => (was ? this.stray.set(deviceId, was) : this.stray.delete(deviceId)));
    }
    this.reports.transition(this.runners.link, deviceId, event, after, { before, userID });
    this.timers.apply('deviceLink', userID, timerRequests(this.runners.link, timers), deviceId);
    for (const em of emitted) this.toUser(userID, { type: 'DEVICE.DISCONNECT', deviceId, reason: em.reason });
  }

  /**
   * A heartbeat timeout decided without a durable timer (a device found connected at start): its waiting
   * link hears the machine's own timeout event; with no link here (a replay of such a command) the journal's
   * verdict goes to the user at once.
   */
  timedOut(userID: string, deviceId: string): void {
    const link = this.stray.get(deviceId);
    if (link?.value === 'deviceLink.silent') {
      const [delay] = this.runners.linkDelays;
      this.step(userID, deviceId, this.runners.link.afterEvent(delay as string, 'silent'));
      return;
    }
    this.drop(userID, deviceId);
    this.toUser(userID, { type: 'DEVICE.DISCONNECT', deviceId, reason: 'heartbeat_timeout' });
  }

  /** Forgets a device's link wait (its device is gone another way). */
  drop(userID: string, deviceId: string): void {
    const was = this.stray.get(deviceId);
    if (was) {
      this.stray.delete(deviceId);
      this.tx.onUndo(() => this.stray.set(deviceId, was));
    }
    const waits = this.runners.linkDelays.filter((d) => this.timers.find('deviceLink', userID, d, deviceId) !== undefined);
    if (waits.length > 0) this.timers.apply('deviceLink', userID, waits.map((delay) => ({ op: 'cancel' as const, delay, state: 'silent' })), deviceId);
  }

  /**
   * The links a replay holds without sessions (a snapshot's engine memory, issue 9): the silent ones, here
   * or in a session (a replay has no sessions, and its heartbeat timer must find the link waiting). The waits
   * of devices found connected at start are this process's own (a replay does not make them) and stay out.
   */
  exportStray(): Array<[string, RunnerSnapshot<DeviceLinkContext>]> {
    const out = [...this.stray].filter(([deviceId]) => !this.orphans.has(deviceId));
    for (const [deviceId, s] of this.local.sessions) {
      if (s.link?.value === 'deviceLink.silent' && !this.stray.has(deviceId)) out.push([deviceId, s.link]);
    }
    return out;
  }
  /** Puts back a snapshot's links (a replay from it), before any command. */
  loadStray(links: Iterable<[string, RunnerSnapshot<DeviceLinkContext>]>): void {
    for (const [deviceId, rec] of links) this.stray.set(deviceId, rec);
  }

  /** Hands a link that waited without a session to the session that takes its device over. */
  takeStray(deviceId: string): RunnerSnapshot<DeviceLinkContext> | undefined {
    const stray = this.stray.get(deviceId);
    if (stray) this.stray.delete(deviceId);
    return stray;
  }

  /**
   * A durable store can hold devices that were connected when the last process stopped: their links died with
   * it. Each link starts silent, as if its network went quiet at start, and the `deviceLink` machine's
   * heartbeat timeout decides (DEV-2/DEV-3): a client that comes back in time resumes with no visible change
   * (`adopt`), otherwise the device is dropped (web) or disconnected (native) with reason heartbeat_timeout.
   */
  adoptStored(): void {
    for (const userID of [...this.store.userIDs()]) {
      const rec = this.store.getStatus(userID);
      if (!rec) continue;
      // A device whose silent link came with the engine's memory (a cluster shard's snapshot) already waits
      // out its heartbeat timeout on its durable timer, where its old owner left it.
      for (const d of rec.context.devices) if (d.connected && !this.stray.has(d.id)) this.waitForOrphan(userID, d.id, this.runners.link.initial({ platform: d.platform }).snapshot);
    }
  }

  private waitForOrphan(userID: string, deviceId: string, live: RunnerSnapshot<DeviceLinkContext>): void {
    const step = this.runners.link.transition(live, { type: 'LINK.SILENT' });
    const silent = step.snapshot;
    const wait = step.timers.find((t) => t.op === 'schedule');
    if (!wait || wait.op !== 'schedule') return;
    this.stray.set(deviceId, silent);
    this.orphans.set(deviceId, userID);
    this.timers.armVolatile(orphanKey(deviceId), wait.delayMs, () => {
      this.orphans.delete(deviceId);
      const still = this.store.getStatus(userID)?.context.devices.find((x) => x.id === deviceId);
      if (!still?.connected || this.local.sessions.get(deviceId)?.userID === userID) return;
      try {
        this.run({ type: 'device.disconnect', userID, deviceId, reason: 'heartbeat_timeout' });
      } catch {
        // The store refused it: the device waits another timeout.
        this.waitForOrphan(userID, deviceId, live);
      }
    });
  }

  /** A client takes its orphaned device over: the wait ends; returns how to put it back if its login fails. */
  claimOrphan(deviceId: string, userID: string): (() => void) | null {
    if (this.orphans.get(deviceId) !== userID) return null;
    const link = this.stray.get(deviceId);
    this.timers.cancelVolatile(orphanKey(deviceId));
    this.orphans.delete(deviceId);
    this.stray.delete(deviceId);
    return () => {
      if (link) this.waitForOrphan(userID, deviceId, this.runners.link.initial({ platform: link.context.platform }).snapshot);
    };
  }
}

const orphanKey = (deviceId: string): string => JSON.stringify(['deviceLink', 'orphan', deviceId]);
