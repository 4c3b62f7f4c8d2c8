// ClusterPort: one EnginePort over the shard engines of this node (the router of engines side by side, for
// a node that owns only some shards). A session belongs to the engine of its user's shard once it logs in;
// calls for users of shards this node does not own are refused 75006 NOT_OWNER (the front-end relays such a
// client to the owner node). `prepare` fetches the facts of other nodes' users a call will read.
import type { AccessContext } from '../../machines/access';
import { DEFAULT_LIMITS, type Limits, type Platform } from '../../machines/spec';
import type { DeviceHandle, DeviceSink, LinkReport, ResumePoint, UserDetail } from '../engine/port';
import { DeviceSession } from '../engine/session';
import { invalidParameter, notLoggedIn } from '../errors';
import type { Command, Failure, JournalEntry, StatusTransition, UserStatus } from '../records';
import type { AdminStatus, EngineState } from '../types';
import { ClusterError, ClusterErrorCode } from './errors';
import type { ClusterRuntime } from './runtime';
import { HandedOnce } from './once';
import type { ShardEngine } from './shardEngine';
import type { ClusterPort, PreparedCall } from './service';

const listOf = (arg: unknown): string[] => {
  const l = arg !== null && typeof arg === 'object' ? (arg as { userIDList?: unknown }).userIDList : undefined;
  return Array.isArray(l) ? l.filter((u): u is string => typeof u === 'string') : [];
};

/** How many times a resync tries to resume one device (a round apart) before leaving it to its client. */
const RESUME_TRIES = 5;
/** How many devices a resync resumes at once (each fetches its scope's facts from their owners first). */
const RESUME_AT_ONCE = 64;

export class ClusterPortImpl implements ClusterPort {
  /** The engine each logged-in session was logged in on (a rebuilt shard's sessions are stale). */
  private readonly bound = new Map<DeviceSession, ShardEngine>();
  private readonly transitionListeners = new Set<(entry: StatusTransition, command: Command | undefined) => void>();
  private readonly settingsListeners = new Set<(s: AccessContext) => void>();
  private readonly hooked = new WeakSet<ShardEngine>();
  /** What each session was handed (see HandedOnce). */
  private readonly once = new WeakMap<DeviceSession, HandedOnce>();
  /** The shards asked for in this turn, sharing the pass that begins at the next (see resync). */
  private queued: { shards: Set<number>; done: Promise<void> } | null = null;

  constructor(private readonly rt: ClusterRuntime) {
    rt.resync = (shard) => this.resync(shard);
    rt.resyncShards = (shards) => this.resyncDevicesOf(shards);
    rt.engineListeners.add((e) => this.hook(e));
  }

  get clock() {
    return this.rt.o.clock;
  }
  /** The app's limits (every shard has the same settings); before this node owns a shard, the configured ones. */
  get limits(): Readonly<Limits> {
    const own = this.rt.o.engine.limits ?? {};
    return this.any()?.core.limits ?? { ...DEFAULT_LIMITS, ...own, rateLimit: { ...DEFAULT_LIMITS.rateLimit, ...(own.rateLimit ?? {}) } };
  }
  get currentSeq(): number {
    let n = 0;
    for (const e of this.rt.engines.values()) n = Math.max(n, e.core.currentSeq);
    return n;
  }
  readonly acknowledgesLater = true;

  private any(): ShardEngine | undefined {
    for (const e of this.rt.engines.values()) return this.hook(e);
    return undefined;
  }
  /** Listeners registered on the port reach every engine, including those built later. */
  private hook(e: ShardEngine): ShardEngine {
    if (this.hooked.has(e)) return e;
    this.hooked.add(e);
    e.core.onTransition((t, c) => this.transitionListeners.forEach((l) => l(t, c)));
    e.core.onSettingsChange((s) => {
      // One change reaches every shard: tell the listeners once, from the lowest shard this node has.
      if (this.any() === e) this.settingsListeners.forEach((l) => l(s));
    });
    return e;
  }
  private engineFor(userID: unknown): ShardEngine {
    if (typeof userID !== 'string') throw invalidParameter('userID', 'expected a string');
    return this.touch(this.hook(this.rt.requireEngine(userID)));
  }
  /** The engines calls went to in this event-loop turn: acknowledge waits for them even if dropped since. */
  private touched = new Set<ShardEngine>();
  private touch(e: ShardEngine): ShardEngine {
    if (this.touched.size === 0) setImmediate(() => this.touched.clear());
    this.touched.add(e);
    return e;
  }
  /** The engine of a logged-in session's user; a session of a dropped engine is stale (reconnect it). */
  private of(h: DeviceHandle): ShardEngine {
    const s = own(h);
    if (s.userID === null) throw notLoggedIn();
    const e = this.engineFor(s.userID);
    const b = this.bound.get(s);
    if (b !== undefined && b !== e) throw new ClusterError(ClusterErrorCode.NOT_OWNER, `the shard of '${s.userID}' was taken over since this device logged in: reconnect`);
    return e;
  }

  async prepare(call: PreparedCall, h: DeviceHandle, arg: unknown): Promise<void> {
    const s = own(h);
    const viewer = call === 'login' || call === 'adopt' ? arg : s.userID;
    if (typeof viewer !== 'string') return; // the call itself answers the bad argument
    // A resume with the client's record (hub/ops.ts, a new socket): the device is bound to that socket already.
    if (call === 'reconnect' && isResumePoint(arg) && arg.versions !== undefined) this.once.get(s)?.resuming();
    if (call === 'getUserStatus' || call === 'subscribe' || call === 'unsubscribe') return this.rt.fetch(viewer, listOf(arg));
    const e = this.rt.engineOf(viewer);
    if (e === undefined) return; // the call is refused NOT_OWNER
    // Login and resume read the user's scope: its subscriptions and friends.
    const subs = e.store.getSubscriptions(viewer)?.context.list ?? [];
    await this.rt.fetch(viewer, [viewer, ...subs, ...(e.store.friendsOf(viewer) ?? [])]);
  }

  /**
   * After a hole in pushes from a shard (or a new owner's chain): every receiving device here that hears of a
   * user of that shard (a subscription or a friend there) resumes by versions (EXT-2). A failover starts the
   * chains of many shards at once: the shards asked for in the same turn share one pass, which begins at the
   * next turn, so a device that hears of k of them resumes once, not k times (a resume reads the whole scope).
   * Passes do not wait for each other: a shard's pushes wait only for the pass that resumes its own devices.
   */
  private resync(shard: number): Promise<void> {
    if (this.queued) {
      this.queued.shards.add(shard);
      return this.queued.done;
    }
    const shards = new Set([shard]);
    const batch = {
      shards,
      done: new Promise<void>((r) => setImmediate(r)).then(() => {
        if (this.queued === batch) this.queued = null;
        return this.resumeHearing(shards);
      }),
    };
    this.queued = batch;
    return batch.done;
  }
  private async resumeHearing(shards: ReadonlySet<number>): Promise<void> {
    const hearsOf = (e: ShardEngine, u: string) => {
      const subs = e.store.getSubscriptions(u)?.context.list ?? [];
      for (const x of subs) if (shards.has(this.rt.shardOf(x))) return true;
      for (const x of e.store.friendsOf(u) ?? []) if (shards.has(this.rt.shardOf(x))) return true;
      return false;
    };
    await this.resumeEach([...this.bound].filter(([s, e]) => s.userID !== null && hearsOf(e, s.userID)));
  }

  /** After this node took `shards`: their receiving devices here resume by versions (see hintOthers). */
  private async resyncDevicesOf(shards: readonly number[]): Promise<void> {
    if (shards.length === 0) return;
    const set = new Set(shards);
    await this.resumeEach([...this.bound].filter(([, e]) => set.has(e.shard)));
  }

  /**
   * Resumes each receiving device by versions (EXT-2). A device whose facts could not be fetched (the node
   * asked no longer owns the shard, a peer or Redis away) is tried again a round later, up to RESUME_TRIES
   * times: it was sent nothing of what it missed, and no push may bring it (the one that showed the hole was
   * not delivered). Past that its client's next reconnect resumes it.
   */
  private async resumeEach(devices: ReadonlyArray<readonly [DeviceSession, ShardEngine]>, tried = 1): Promise<void> {
    const failed: Array<readonly [DeviceSession, ShardEngine]> = [];
    const resume = async ([s, e]: readonly [DeviceSession, ShardEngine]) => {
      if (!s.receiving || s.userID === null || this.rt.engines.get(e.shard) !== e) return;
      try {
        await this.prepare('reconnect', s, undefined);
        if (s.receiving && this.rt.engines.get(e.shard) === e) {
          e.core.reconnect(s, {});
          this.rt.counts.resumes += 1;
        }
      } catch {
        failed.push([s, e]);
      }
    };
    // RESUME_AT_ONCE devices at a time, as a pool (one slow fetch holds one place): a peer that does not answer
    // costs each fetch the forward timeout, and one after the other a pass over n devices would take n timeouts,
    // the shard's pushes waiting behind it.
    let next = 0;
    const worker = async () => {
      while (next < devices.length) await resume(devices[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(RESUME_AT_ONCE, devices.length) }, worker));
    if (failed.length === 0 || tried >= RESUME_TRIES || this.rt.isStopped) return;
    this.rt.counts.resyncRetries += failed.length;
    this.rt.o.clock.setTimeout(() => void this.resumeEach(failed, tried + 1), this.rt.node.tickMs);
  }

  openSession(platform: Platform, sink: DeviceSink, deviceId?: string): DeviceHandle {
    if (deviceId !== undefined && (typeof deviceId !== 'string' || deviceId.length === 0 || deviceId.length > 128)) {
      throw invalidParameter('deviceId', 'expected a string of 1 to 128 characters');
    }
    // Each version of a user once per device, whichever path (live, from another node, a resume) brought it.
    const once = new HandedOnce();
    const session: DeviceSession = new DeviceSession(
      platform,
      (event, seq) => {
        const e = once.admit(session.userID, event);
        if (e !== null) sink(e, seq);
      },
      deviceId,
    );
    this.once.set(session, once);
    return session;
  }
  closeSession(h: DeviceHandle): void {
    const s = own(h);
    const b = this.bound.get(s);
    this.bound.delete(s);
    if (b !== undefined && this.rt.engines.get(b.shard) === b) b.core.closeSession(s);
  }
  login(h: DeviceHandle, userID: unknown): { repeatLogin: boolean; status: UserStatus } {
    const s = own(h);
    const to = this.engineFor(userID);
    const from = this.bound.get(s);
    if (from !== undefined && from !== to && s.loggedIn && s.userID === userID && this.rt.engines.get(from.shard) !== from) {
      // Logged in on an engine that was dropped since (its shard rebuilt here): the device comes back into the current one.
      this.adoptInto(to, s, userID as string, {});
      return { repeatLogin: true, status: to.core.statusOf(userID as string, userID as string) };
    }
    // A dropped device that logs in as a user of another engine leaves the engine that kept it for its comeback.
    if (from !== undefined && from !== to && !s.loggedIn && this.rt.engines.get(from.shard) === from) this.touch(from).core.closeSession(s);
    const r = to.core.login(s, userID);
    this.bound.set(s, to);
    if (!r.repeatLogin) this.once.get(s)?.forget(); // a fresh login: the client starts from nothing
    return r;
  }
  logout(h: DeviceHandle): void {
    const s = own(h);
    this.of(s).core.logout(s);
    this.bound.delete(s);
  }
  adopt(h: DeviceHandle, userID: unknown, held?: ResumePoint): void {
    const s = own(h);
    const e = this.engineFor(userID);
    if (typeof userID === 'string') this.once.get(s)?.holds(userID, held?.versions);
    this.adoptInto(e, s, userID, held);
  }
  /** The session is `e`'s once adopted, also when what failed came after the device came back (its resume's
   * reads, see Devices.adopt): unbound, the hub's close of it would not reach the engine (a ghost). */
  private adoptInto(e: ShardEngine, s: DeviceSession, userID: unknown, held: ResumePoint | undefined): void {
    try {
      e.core.adopt(s, userID, held);
    } catch (err) {
      if (s.loggedIn && s.userID === userID) this.bound.set(s, e);
      throw err;
    }
    this.bound.set(s, e);
  }
  reconnect(h: DeviceHandle, held?: ResumePoint): void {
    const s = own(h);
    if (s.userID === null) throw notLoggedIn();
    const e = this.engineFor(s.userID);
    const b = this.bound.get(s);
    this.once.get(s)?.holds(s.userID, held?.versions);
    if (b !== e) {
      // Its shard was rebuilt here, or the session comes from another node (its shard taken over): it takes
      // the device's place in this engine and resumes by versions (EXT-2).
      this.adoptInto(e, s, s.userID, held ?? {});
      return;
    }
    e.core.reconnect(s, held);
    this.bound.set(s, e);
  }
  linkEvent(h: DeviceHandle, event: LinkReport): void {
    const s = own(h);
    const b = this.bound.get(s);
    if (b !== undefined && this.rt.engines.get(b.shard) === b) b.core.linkEvent(s, event);
  }
  background(h: DeviceHandle): void {
    this.of(h).core.background(h);
  }
  foreground(h: DeviceHandle): void {
    this.of(h).core.foreground(h);
  }
  setSelfStatus(h: DeviceHandle, options: unknown): UserStatus {
    return this.of(h).core.setSelfStatus(h, options);
  }
  getUserStatus(h: DeviceHandle, options: unknown): { successUserList: UserStatus[]; failureUserList: Failure[] } {
    return this.of(h).core.getUserStatus(h, options);
  }
  subscribe(h: DeviceHandle, options: unknown): { failureUserList: Failure[] } {
    const r = this.of(h).core.subscribe(h, options);
    // Asked for the current status of these users: it is handed even if this device had that version.
    if ((options as { pushCurrent?: unknown } | null)?.pushCurrent === true) this.once.get(own(h))?.forget(listOf(options));
    return r;
  }
  unsubscribe(h: DeviceHandle, options: unknown): { failureUserList: Failure[] } {
    return this.of(h).core.unsubscribe(h, options);
  }
  setVisibility(h: DeviceHandle, visibility: unknown): UserStatus {
    return this.of(h).core.setVisibility(h, visibility);
  }
  statusOf(userID: string, viewer: string | null): UserStatus {
    const e = this.rt.engineOf(userID);
    if (e !== undefined) return e.core.statusOf(userID, viewer);
    if (viewer === null) return this.engineFor(userID).core.statusOf(userID, null);
    return this.rt.cache.answer({ type: 'statusOf', userID, viewer }) as UserStatus;
  }

  // Admin, on this node's shards only (ClusterAdmin reaches the whole cluster).
  registerUsers(userIDs: unknown): void {
    if (!Array.isArray(userIDs)) return void this.anyOrRefuse().core.registerUsers(userIDs);
    const parts = new Map<ShardEngine, unknown[]>();
    for (const u of userIDs) {
      const e = typeof u === 'string' ? this.engineFor(u) : this.anyOrRefuse();
      parts.set(e, [...(parts.get(e) ?? []), u]);
    }
    for (const [e, part] of parts) e.core.registerUsers(part);
  }
  hasUser(userID: string): boolean {
    return this.engineFor(userID).core.hasUser(userID);
  }
  changeFriends(userID: unknown, friendIDs: unknown, add: boolean, both?: boolean): void {
    this.engineFor(userID).core.changeFriends(userID, friendIDs, add, both);
  }
  configure(change: unknown): void {
    for (const e of this.rt.engines.values()) this.touch(e).core.configure(change);
  }
  settings(): AccessContext {
    return this.anyOrRefuse().core.settings();
  }
  queryStatus(userIDs: unknown, opts: unknown): AdminStatus[] {
    if (!Array.isArray(userIDs)) return this.anyOrRefuse().core.queryStatus(userIDs, opts);
    return userIDs.map((u) => this.engineFor(u).core.queryStatus([u], opts)[0]!);
  }
  explain(userID: unknown): StatusTransition[] {
    return this.engineFor(userID).core.explain(userID);
  }
  userDetail(userID: unknown): UserDetail {
    return this.engineFor(userID).core.userDetail(userID);
  }
  userCount(): number {
    let n = 0;
    for (const e of this.rt.engines.values()) n += e.core.userCount();
    return n;
  }
  onlineUserIDs(): string[] {
    return [...this.rt.engines.values()].flatMap((e) => e.core.onlineUserIDs());
  }
  journal(opts?: unknown): JournalEntry[] {
    return this.anyOrRefuse().core.journal(opts);
  }
  exportState(): EngineState {
    const parts = [...this.rt.engines.values()].map((e) => e.core.exportState());
    const first = parts[0] ?? this.anyOrRefuse().core.exportState();
    return { settings: first.settings, users: Object.assign({}, ...parts.map((p) => p.users)), timers: parts.flatMap((p) => p.timers) };
  }
  close(): void {}
  /** Once every command of the engines this turn's calls went to is durable (a failed shard fails it: not
   * acknowledged), even if dropped meanwhile; a turn that named no engine (configure) waits for all of them.
   * Only those: a slow or failing shard does not hold or fail a call on another one. */
  acknowledge<T>(value: T): Promise<T> {
    const engines = this.touched.size > 0 ? new Set(this.touched) : new Set(this.rt.engines.values());
    return Promise.all([...engines].map((e) => e.store.durable())).then(() => value);
  }
  onTransition(listener: (entry: StatusTransition, command: Command | undefined) => void): () => void {
    for (const e of this.rt.engines.values()) this.hook(e);
    this.transitionListeners.add(listener);
    return () => this.transitionListeners.delete(listener);
  }
  onSettingsChange(listener: (settings: AccessContext) => void): () => void {
    for (const e of this.rt.engines.values()) this.hook(e);
    this.settingsListeners.add(listener);
    return () => this.settingsListeners.delete(listener);
  }

  private anyOrRefuse(): ShardEngine {
    const e = this.any();
    if (e === undefined) throw new ClusterError(ClusterErrorCode.NOT_OWNER, 'this node owns no shard right now');
    return e;
  }
}

const isResumePoint = (v: unknown): v is ResumePoint => v !== null && typeof v === 'object';

function own(h: DeviceHandle): DeviceSession {
  if (!(h instanceof DeviceSession)) throw invalidParameter('session', 'expected a device session made by openSession()');
  return h;
}
