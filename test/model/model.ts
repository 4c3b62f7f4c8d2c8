// The reference model of the model-based tests: SPEC.md and the engine decisions of the helpers' brief,
// written as plain Maps, Sets and arrays. It shares no code with src/ or machines/ on purpose: it is the
// second, independent reading of the spec that the engine is compared with after every command.
import { LIMITS, USERS } from './config';
import { reach } from './coverage';

export const ONLINE = 1;
export const OFFLINE = 2;
export const UNLOGINED = 3;
export type StatusTypeM = 1 | 2 | 3;

export interface StatusM {
  userID: string;
  statusType: StatusTypeM;
  customStatus: string;
  version: number;
  reason: string;
}

/** What a device is expected to hear during one command. */
export type Heard =
  | { kind: 'status'; batch: StatusM[] }
  | { kind: 'kicked' }
  | { kind: 'ended'; userIDList: string[]; reason: 'subscription_evicted' | 'subscriptions_cleared' };

/** A call's expected outcome: a value, or a StatusError code (and, for 2996, when to retry). */
export type Outcome = { ok: unknown } | { code: number; retryAfterMs?: number };

export type VisibilityM = 'everyone' | 'friends' | 'nobody';
/** EXT-5: a user's friends (in its own list) and everyone else may see different things. */
type ClassM = 'friends' | 'others';
/** What one class of viewers was last shown of a user (issue 17), and the tick it was shown at (EXT-2 resume). */
type ViewM = Omit<StatusM, 'userID'> & { tick: number };

/** Limits the model follows at run time (GATE-1): the ones a run may change, and the rest as configured. */
export type LimitsM = { -readonly [K in keyof typeof LIMITS]: (typeof LIMITS)[K] extends number ? number : (typeof LIMITS)[K] };

interface UserM {
  statusType: StatusTypeM;
  customStatus: string;
  version: number;
  reason: string;
  /** Client indexes of the logged-in devices, oldest login first (DEV-4 kicks the oldest). */
  devices: number[];
  /** Earliest first (SUB-8 evicts from the front). */
  subs: string[];
  /** Directional: u hears its friends' changes (NTF-2 c). */
  friends: Set<string>;
  /** Tick of the last change, for EXT-2 resume. */
  changedAt: number;
  /** EXT-4: a list cleared after logout, told at the next login. */
  clearedNotice: string[] | null;
  /** EXT-5: who may see it. */
  visibility: VisibilityM;
  /** Issue 17: what each class of viewers was last shown. */
  views: Record<ClassM, ViewM>;
  /** EXT-7: a change caused by a lost link, held back from others: what they saw before it. */
  hold: { statusType: StatusTypeM; customStatus: string } | null;
}

export interface DeviceM {
  platform: string;
  /** The account the session belongs to; kept while a web device is dropped, so reconnect can log in again. */
  user: string | null;
  /** In the user's device list (DEV-2: a dropped web device is not). */
  loggedIn: boolean;
  link: 'live' | 'silent' | 'closed';
  /** A native app in the background (DEV-3). */
  background: boolean;
  /** Tick at which the device stopped hearing; resume sends what changed after it (EXT-2). */
  awaySince: number | null;
  /** Versions this device heard, per user, since it last logged in: resume never repeats one. */
  heard: Map<string, number>;
  /** CL-2/CL-3: the client's own status as the client holds it. */
  cache: StatusM | null;
}

type Timer = { due: number; order: number } & (
  | { kind: 'heartbeat'; device: number }
  | { kind: 'customStatus'; user: string }
  | { kind: 'subscriptions'; user: string }
  | { kind: 'flap'; user: string }
);

/** The per-user windows (LIM-1), and the per-device ones of login and logout (EXT-6). */
export type Api = 'get' | 'subscribe' | 'unsubscribe' | 'login' | 'logout';

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const isNative = (platform: string) => platform !== 'web';

export class Model {
  limits: LimitsM = { ...LIMITS, rateLimit: { ...LIMITS.rateLimit } };
  now = 0;
  edition: 'trial' | 'pro' | 'ultimate' = 'ultimate';
  switches = { userStatus: true, friendStatusNotify: false };
  readonly users = new Map<string, UserM>();
  readonly devices: DeviceM[];
  private readonly timers: Timer[] = [];
  private readonly rate = new Map<string, number[]>();
  private tick = 0;
  private timerOrder = 0;
  /** Expected events per device for the command under way. */
  outbox: Heard[][];

  /**
   * `loginWindow`: whose window a device's login or logout counts against (EXT-6: the device's). Engines side
   * by side keep it at the engine of the user it logs in as, so there it is the device's per shard.
   */
  constructor(
    platforms: readonly string[],
    private readonly loginWindow: (device: number, userID: string) => string = (device) => `device ${device}`,
    /**
     * Engines side by side resume by versions alone (README, "Shard-ready"): a device that was away gets each
     * user in view whose version moved past what it holds (heard, or what it could hear when it began to listen).
     */
    private readonly byVersions = false,
  ) {
    for (const id of USERS) {
      this.users.set(id, {
        statusType: UNLOGINED,
        customStatus: '',
        version: 0,
        reason: 'registered',
        devices: [],
        subs: [],
        friends: new Set(),
        changedAt: 0,
        clearedNotice: null,
        visibility: 'everyone',
        views: { friends: initialView(), others: initialView() },
        hold: null,
      });
    }
    this.devices = platforms.map((platform) => ({
      platform,
      user: null,
      loggedIn: false,
      link: 'live',
      background: false,
      awaySince: null,
      heard: new Map(),
      cache: null,
    }));
    this.outbox = this.devices.map(() => []);
  }

  // ---- reading ----

  registered(id: string): boolean {
    return this.users.has(id);
  }

  user(id: string): UserM {
    const u = this.users.get(id);
    if (!u) throw new Error(`model: no user ${id}`);
    return u;
  }

  status(id: string): StatusM {
    const u = this.user(id);
    return { userID: id, statusType: u.statusType, customStatus: u.customStatus, version: u.version, reason: u.reason };
  }

  /** EXT-5, issue 17: `id`'s status as `viewer` sees it: its own, or what the viewer's class was last shown. */
  viewFor(id: string, viewer: string): StatusM {
    if (viewer === id) return this.status(id);
    const { tick: _tick, ...v } = this.user(id).views[this.classOf(id, viewer)];
    return { userID: id, ...v };
  }

  private classOf(id: string, viewer: string): ClassM {
    return this.user(id).friends.has(viewer) ? 'friends' : 'others';
  }

  /** ST-4/ST-5: counted as connected: logged in, link not closed, not in the background. */
  connected(d: DeviceM): boolean {
    return d.loggedIn && d.link !== 'closed' && !d.background;
  }

  /** NTF-5: hears notifications and may call: connected and the link is live (a silent link hears nothing). */
  receiving(d: DeviceM): boolean {
    return d.loggedIn && d.link === 'live' && !d.background;
  }

  get gateOpen(): boolean {
    return this.edition === 'ultimate' && this.switches.userStatus;
  }

  /** Drains the expected events of the command that just ran. */
  takeOutbox(): Heard[][] {
    const out = this.outbox;
    this.outbox = this.devices.map(() => []);
    return out;
  }

  nextDue(): number | null {
    let min: number | null = null;
    for (const t of this.timers) if (min === null || t.due < min) min = t.due;
    return min;
  }

  // ---- the user's aggregate status (ST-4..6, CS-5, EXT-1, EXT-2) ----

  private derive(u: UserM): StatusTypeM {
    const ds = u.devices.map((i) => this.devices[i]!);
    if (ds.some((d) => this.connected(d))) return ONLINE;
    if (ds.length > 0) return OFFLINE;
    return UNLOGINED;
  }

  /** Runs `change` on user `id`'s devices, then records and announces whatever became visible. */
  private step(id: string, reason: string, change: () => void = () => {}): void {
    const u = this.user(id);
    const before = u.statusType;
    const prev = { statusType: u.statusType, customStatus: u.customStatus };
    change();
    const after = this.derive(u);
    if (after === before) return;
    u.statusType = after;
    // CS-5: OFFLINE clears the custom status in the same change.
    if (after === OFFLINE) u.customStatus = '';
    this.commit(id, reason, prev);
    if (after === UNLOGINED) {
      if (u.customStatus !== '') this.arm({ kind: 'customStatus', user: id }, this.limits.customStatusClearAfterLogoutMs);
      if (u.subs.length > 0) this.arm({ kind: 'subscriptions', user: id }, this.limits.subscriptionClearAfterLogoutMs);
    }
    if (before === UNLOGINED) {
      // CS-5 and UNSUB-5: coming back before the delays run out keeps both.
      this.disarm((t) => (t.kind === 'customStatus' || t.kind === 'subscriptions') && t.user === id);
      if (u.clearedNotice) {
        const list = u.clearedNotice;
        u.clearedNotice = null;
        reach('subscriptions cleared: told at login');
        this.tellUser(id, { kind: 'ended', userIDList: list, reason: 'subscriptions_cleared' });
      }
    }
  }

  private commit(id: string, reason: string, prev: { statusType: StatusTypeM; customStatus: string }, prevVisibility?: VisibilityM): void {
    reach(`change: ${reason}`);
    const u = this.user(id);
    u.version += 1;
    u.reason = reason;
    u.changedAt = ++this.tick;
    // NTF-2 (a): the user's own devices hear every change at once.
    const s = this.status(id);
    this.devices.forEach((d, i) => {
      if (this.receiving(d) && d.user === id) this.deliver(i, [s]);
    });
    // EXT-7: while a hold runs, others hear nothing; a comeback ends it.
    if (u.hold) {
      if (reason === 'reconnect' || reason === 'login' || reason === 'foreground') {
        reach('flap: ended by a comeback');
        this.disarm((t) => t.kind === 'flap' && t.user === id);
        this.endHold(id);
      }
      return;
    }
    if (this.limits.flapGraceMs > 0 && (reason === 'link_closed' || reason === 'heartbeat_timeout')) {
      reach('flap: held');
      u.hold = prev;
      this.arm({ kind: 'flap', user: id }, this.limits.flapGraceMs);
      return;
    }
    if (prevVisibility !== undefined) this.showFlips(id, prevVisibility);
    else this.showOthers(id);
  }

  private endHold(id: string): void {
    const u = this.user(id);
    const before = u.hold!;
    u.hold = null;
    if (before.statusType !== u.statusType || before.customStatus !== u.customStatus) this.showOthers(id);
    else reach('flap: nothing to tell');
  }

  private sees(visibility: VisibilityM, cls: ClassM): boolean {
    return visibility === 'everyone' || (visibility === 'friends' && cls === 'friends');
  }

  /** NTF-2 (b)(c): each class that sees the user takes the change; its viewers who may hear are told. */
  private showOthers(id: string): void {
    const u = this.user(id);
    const s = this.status(id);
    const taking = (['friends', 'others'] as const).filter((c) => this.sees(u.visibility, c));
    for (const c of taking) u.views[c] = { ...viewOf(s), tick: this.tick };
    this.devices.forEach((d, i) => {
      if (!this.receiving(d) || d.user === null || d.user === id) return;
      if (!this.hears(d.user, id)) {
        if (this.user(d.user).subs.includes(id)) reach('not heard: subscriber behind a closed gate');
        return;
      }
      if (taking.includes(this.classOf(id, d.user))) this.deliver(i, [s]);
      else reach('not heard: hidden from the viewer');
    });
  }

  /** EXT-5: a change of visibility is news only to the classes whose sight flips; each is told its new view. */
  private showFlips(id: string, from: VisibilityM): void {
    const u = this.user(id);
    const s = this.status(id);
    const flipped: ClassM[] = [];
    for (const c of ['friends', 'others'] as const) {
      const was = this.sees(from, c);
      const is = this.sees(u.visibility, c);
      if (was === is) continue;
      flipped.push(c);
      u.views[c] = is ? { ...viewOf(s), tick: this.tick } : { statusType: UNLOGINED, customStatus: '', version: s.version, reason: 'visibility_changed', tick: this.tick };
    }
    if (flipped.length === 0) reach('visibility: no class flips');
    this.devices.forEach((d, i) => {
      if (!this.receiving(d) || d.user === null || d.user === id || !this.hears(d.user, id)) return;
      if (flipped.includes(this.classOf(id, d.user))) this.deliver(i, [this.viewFor(id, d.user)]);
    });
  }

  private hears(listener: string, subject: string): boolean {
    if (listener === subject) return true;
    const l = this.user(listener);
    return (this.gateOpen && l.subs.includes(subject)) || (this.switches.friendStatusNotify && l.friends.has(subject));
  }

  private deliver(device: number, batch: StatusM[]): void {
    const d = this.devices[device]!;
    this.outbox[device]!.push({ kind: 'status', batch: batch.map((s) => ({ ...s })) });
    reach(batch.length > 1 || batch[0]!.userID !== d.user ? 'heard: about others' : 'heard: about itself');
    for (const s of batch) {
      d.heard.set(s.userID, s.version);
      if (s.userID === d.user) this.cacheTake(d, s);
      else this.shown(d.user!, s);
    }
  }

  /** Issue 17: per viewer and user, the last version the viewer was shown (a delivery or a query). */
  readonly lastShown = new Map<string, Map<string, number>>();

  private shown(viewer: string, s: StatusM): void {
    let m = this.lastShown.get(viewer);
    if (!m) this.lastShown.set(viewer, (m = new Map()));
    m.set(s.userID, s.version);
  }

  private cacheTake(d: DeviceM, s: StatusM): void {
    if (d.cache && s.version < d.cache.version) return;
    d.cache = { ...s };
  }

  /** EXT-4 notices go to every device of the user that hears anything. */
  private tellUser(id: string, h: Heard): void {
    this.devices.forEach((d, i) => {
      if (d.user === id && this.receiving(d)) this.outbox[i]!.push(h);
    });
  }

  private goAway(d: DeviceM): void {
    if (this.receiving(d)) d.awaySince = this.tick;
  }

  /** EXT-2: once, the current status of each user in view that changed while the device was away. */
  private resume(device: number): void {
    const d = this.devices[device]!;
    // Never away: nothing changed while away (a reconnect on a live link).
    const since = d.awaySince ?? Infinity;
    // Still away (a silent link hears nothing): keep the mark for the real return.
    if (d.user === null || !this.receiving(d)) return;
    d.awaySince = null;
    const u = this.user(d.user);
    const view = new Set<string>([d.user]);
    if (this.gateOpen) for (const id of u.subs) view.add(id);
    if (this.switches.friendStatusNotify) for (const id of u.friends) view.add(id);
    const batch: StatusM[] = [];
    for (const id of view) {
      const x = this.user(id);
      const v = this.viewFor(id, d.user);
      const at = id === d.user ? x.changedAt : x.views[this.classOf(id, d.user)].tick;
      if (this.byVersions ? since !== Infinity && v.version > (d.heard.get(id) ?? 0) : at > since && d.heard.get(id) !== v.version) batch.push(v);
    }
    if (batch.length > 0) {
      reach('resume: batch');
      this.deliver(device, batch);
    }
  }

  // ---- timers ----

  private arm(t: Omit<Timer, 'due' | 'order'> & Partial<Timer>, ms: number): void {
    this.timers.push({ ...(t as Timer), due: this.now + ms, order: this.timerOrder++ });
  }

  private disarm(match: (t: Timer) => boolean): void {
    for (let i = this.timers.length - 1; i >= 0; i--) if (match(this.timers[i]!)) this.timers.splice(i, 1);
  }

  /** Fires every timer due at `at` (the caller moves the engine's clock to the same instant first). */
  fireDue(at: number): void {
    this.now = at;
    for (;;) {
      const due = this.timers.filter((t) => t.due <= at).sort((a, b) => a.due - b.due || a.order - b.order);
      const t = due[0];
      if (!t) return;
      this.timers.splice(this.timers.indexOf(t), 1);
      this.fire(t);
    }
  }

  advanceTo(at: number): void {
    this.now = at;
  }

  private fire(t: Timer): void {
    if (t.kind === 'heartbeat') {
      this.linkLost(t.device, 'heartbeat_timeout');
    } else if (t.kind === 'customStatus') {
      const u = this.user(t.user);
      const prev = { statusType: u.statusType, customStatus: u.customStatus };
      u.customStatus = '';
      this.commit(t.user, 'custom_status_expired', prev);
    } else if (t.kind === 'flap') {
      reach('flap: grace ran out');
      this.endHold(t.user);
    } else {
      const u = this.user(t.user);
      reach('subscriptions cleared after logout');
      u.clearedNotice = u.subs;
      u.subs = [];
    }
  }

  /** DEV-2/DEV-3: the link is gone, closed or timed out. */
  private linkLost(device: number, reason: 'link_closed' | 'heartbeat_timeout'): void {
    const d = this.devices[device]!;
    const id = d.user!;
    this.goAway(d);
    if (isNative(d.platform)) {
      this.step(id, reason, () => (d.link = 'closed'));
    } else {
      // A dropped web device counts as logged out, but the session remembers its user for reconnect().
      this.step(id, reason, () => {
        d.link = 'closed';
        d.loggedIn = false;
        const u = this.user(id);
        u.devices = u.devices.filter((i) => i !== device);
      });
    }
  }

  // ---- rate windows (LIM-1, EXT-6) ----

  private admit(userID: string, api: Api): Outcome | null {
    const key = `${userID}|${api}`;
    const { requests, windowMs } = this.limits.rateLimit;
    const live = (this.rate.get(key) ?? []).filter((t) => t > this.now - windowMs);
    if (live.length >= requests) {
      this.rate.set(key, live);
      const blocker = live[live.length - requests]!;
      return { code: 2996, retryAfterMs: Math.max(1, blocker + windowMs - this.now) };
    }
    live.push(this.now);
    this.rate.set(key, live);
    return null;
  }

  // ---- device lifecycle (DEV-1..4) ----

  /** Adds a device to its user's list; DEV-4 kicks the oldest of a full platform first. */
  private bringUp(device: number, id: string, reason: string): void {
    const d = this.devices[device]!;
    const u = this.user(id);
    const cap = d.platform === 'web' ? this.limits.maxWebInstances : this.limits.maxDevicesPerNativePlatform;
    const same = u.devices.filter((i) => this.devices[i]!.platform === d.platform);
    this.step(id, reason, () => {
      // DEV-4: the oldest go, more than one when the cap was lowered since they logged in.
      for (const k of same.slice(0, Math.max(0, same.length - cap + 1))) this.kick(k);
      u.devices.push(device);
      d.user = id;
      d.loggedIn = true;
      d.link = 'live';
      d.background = false;
    });
  }

  private kick(device: number): void {
    reach('kick');
    const k = this.devices[device]!;
    const u = this.user(k.user!);
    u.devices = u.devices.filter((i) => i !== device);
    this.disarm((t) => t.kind === 'heartbeat' && t.device === device);
    this.outbox[device]!.push({ kind: 'kicked' });
    this.reset(k);
  }

  private reset(d: DeviceM): void {
    d.user = null;
    d.loggedIn = false;
    d.link = 'live';
    d.background = false;
    d.awaySince = null;
    d.heard = new Map();
    d.cache = null;
  }

  login(device: number, userID: string): Outcome {
    const d = this.devices[device]!;
    if (d.loggedIn) {
      if (d.user === userID) return { ok: { repeatLogin: true, userID } };
      return { code: 6017 };
    }
    if (!this.registered(userID)) return { code: 70107 };
    const refused = this.admit(this.loginWindow(device, userID), 'login');
    if (refused) return refused;
    this.disarm((t) => t.kind === 'heartbeat' && t.device === device);
    d.awaySince = null;
    d.heard = new Map();
    this.bringUp(device, userID, 'login');
    d.cache = this.status(userID);
    d.heard.set(userID, d.cache.version);
    if (this.byVersions) {
      const u = this.user(userID);
      this.holds(d, userID, [...u.subs, ...(this.switches.friendStatusNotify ? u.friends : [])]);
    }
    return { ok: { repeatLogin: false, userID } };
  }

  logout(device: number): Outcome {
    const d = this.devices[device]!;
    if (!d.loggedIn) return { code: 2024 };
    const id = d.user!;
    const refused = this.admit(this.loginWindow(device, id), 'logout');
    if (refused) return refused;
    const u = this.user(id);
    this.disarm((t) => t.kind === 'heartbeat' && t.device === device);
    this.step(id, 'logout', () => {
      u.devices = u.devices.filter((i) => i !== device);
      this.reset(d);
    });
    return { ok: {} };
  }

  disconnect(device: number, how: 'link_closed' | 'network_lost'): void {
    const d = this.devices[device]!;
    if (!d.loggedIn || d.link === 'closed') return;
    if (how === 'link_closed') {
      this.disarm((t) => t.kind === 'heartbeat' && t.device === device);
      this.linkLost(device, 'link_closed');
    } else if (d.link === 'live') {
      this.goAway(d);
      d.link = 'silent';
      const ms = isNative(d.platform) ? this.limits.nativeHeartbeatTimeoutMs : this.limits.webHeartbeatTimeoutMs;
      this.arm({ kind: 'heartbeat', device }, ms);
    }
  }

  reconnect(device: number): Outcome {
    const d = this.devices[device]!;
    if (d.user === null) return { code: 2024 };
    this.disarm((t) => t.kind === 'heartbeat' && t.device === device);
    if (!d.loggedIn) {
      // DEV-1: a dropped web device logs in again.
      this.bringUp(device, d.user, 'reconnect');
    } else {
      this.step(d.user, 'reconnect', () => {
        d.link = 'live';
        d.background = false;
      });
    }
    this.resume(device);
    return { ok: undefined };
  }

  background(device: number): void {
    const d = this.devices[device]!;
    if (!d.loggedIn || !isNative(d.platform) || d.background) return;
    this.goAway(d);
    this.step(d.user!, 'background', () => (d.background = true));
  }

  /** DEV-3: back to the foreground, connected again: the app opens its link again if it was lost. */
  foreground(device: number): void {
    const d = this.devices[device]!;
    if (!d.loggedIn || !isNative(d.platform) || (!d.background && d.link === 'live')) return;
    this.disarm((t) => t.kind === 'heartbeat' && t.device === device);
    this.step(d.user!, 'foreground', () => {
      d.background = false;
      d.link = 'live';
    });
    this.resume(device);
  }

  // ---- the client calls (CS, GET, SUB, UNSUB; error order of SPEC section 10 and the brief) ----

  setSelfStatus(device: number, customStatus: string): Outcome {
    const d = this.devices[device]!;
    if (!d.loggedIn) return { code: 2024 };
    if (utf8Bytes(customStatus) > this.limits.customStatusMaxBytes) return { code: 6017 };
    if (!this.receiving(d)) return { code: 2800 };
    const id = d.user!;
    const u = this.user(id);
    if (u.customStatus !== customStatus) {
      const prev = { statusType: u.statusType, customStatus: u.customStatus };
      u.customStatus = customStatus;
      this.commit(id, customStatus === '' ? 'custom_status_cleared' : 'custom_status_set', prev);
    }
    const s = this.status(id);
    this.cacheTake(d, s);
    return { ok: s };
  }

  getUserStatus(device: number, list: readonly string[]): Outcome {
    const d = this.devices[device]!;
    const distinct = [...new Set(list)];
    // CL-2: the client answers a self-only list from what it holds, without asking the engine.
    if (d.loggedIn && d.cache && list.length > 0 && distinct.length === 1 && distinct[0] === d.cache.userID) {
      reach(`self query from the cache${this.receiving(d) ? '' : ' (not connected)'}`);
      return { ok: { successUserList: [{ ...d.cache }], failureUserList: [] } };
    }
    if (!d.loggedIn) return { code: 2024 };
    if (distinct.length === 0 || distinct.length > this.limits.queryMaxUsers) return { code: 6017 };
    if (!this.receiving(d)) return { code: 2800 };
    const gate = this.gate(d.user!, 'get');
    if (gate) return gate;
    return {
      ok: {
        successUserList: distinct.filter((id) => this.registered(id)).map((id) => this.query(d.user!, id)),
        failureUserList: distinct.filter((id) => !this.registered(id)).map((userID) => ({ userID, code: 70107 })),
      },
    };
  }

  private query(viewer: string, id: string): StatusM {
    const v = this.viewFor(id, viewer);
    if (id !== viewer) this.shown(viewer, v);
    return v;
  }

  private gate(userID: string, api: Api): Outcome | null {
    if (this.edition !== 'ultimate') return { code: 3122 };
    if (!this.switches.userStatus) return { code: 72001 };
    return this.admit(userID, api);
  }

  subscribe(device: number, list: readonly string[], pushCurrent = false): Outcome {
    const d = this.devices[device]!;
    if (!d.loggedIn) return { code: 2024 };
    const distinct = [...new Set(list)];
    if (distinct.length === 0 || distinct.length > this.limits.subscribeMaxUsers) return { code: 6017 };
    if (!this.receiving(d)) return { code: 2800 };
    const self = d.user!;
    const gate = this.gate(self, 'subscribe');
    if (gate) return gate;
    const failureUserList: Array<{ userID: string; code: number }> = [];
    const u = this.user(self);
    const incoming: string[] = [];
    for (const id of distinct) {
      if (id === self) failureUserList.push({ userID: id, code: 6017 });
      else if (!this.registered(id)) failureUserList.push({ userID: id, code: 70107 });
      else incoming.push(id);
    }
    // SUB-8: subscribing again moves a user to the newest place; then, beyond the quota, the earliest go.
    u.subs = [...u.subs.filter((x) => !incoming.includes(x)), ...incoming];
    const evicted = u.subs.splice(0, Math.max(0, u.subs.length - this.limits.subscriptionQuota));
    if (evicted.length > 0) reach('eviction');
    if (evicted.length > 0) this.tellUser(self, { kind: 'ended', userIDList: evicted, reason: 'subscription_evicted' });
    this.listens(self, incoming);
    // EXT-2: the current status at once, to this device, as this viewer sees it.
    if (pushCurrent && incoming.length > 0) {
      reach('pushCurrent');
      this.deliver(device, incoming.map((id) => this.viewFor(id, self)));
    }
    return { ok: { failureUserList } };
  }

  unsubscribe(device: number, list: readonly string[] | undefined): Outcome {
    const d = this.devices[device]!;
    if (!d.loggedIn) return { code: 2024 };
    const distinct = [...new Set(list ?? [])];
    if (distinct.length > this.limits.unsubscribeMaxUsers) return { code: 6017 };
    if (!this.receiving(d)) return { code: 2800 };
    const self = d.user!;
    const gate = this.gate(self, 'unsubscribe');
    if (gate) return gate;
    const u = this.user(self);
    if (distinct.length === 0) {
      u.subs = [];
      return { ok: { failureUserList: [] } };
    }
    const failureUserList = distinct.filter((id) => !this.registered(id)).map((userID) => ({ userID, code: 70107 }));
    u.subs = u.subs.filter((x) => !distinct.includes(x));
    return { ok: { failureUserList } };
  }

  /** EXT-5: who may see the user's status; a change is delivered like a real one (to those whose view flips). */
  setVisibility(device: number, visibility: VisibilityM): Outcome {
    const d = this.devices[device]!;
    if (!d.loggedIn) return { code: 2024 };
    if (!this.receiving(d)) return { code: 2800 };
    const id = d.user!;
    const u = this.user(id);
    if (u.visibility !== visibility) {
      const from = u.visibility;
      u.visibility = visibility;
      reach(`visibility: ${from} -> ${visibility}`);
      this.commit(id, 'visibility_changed', { statusType: u.statusType, customStatus: u.customStatus }, from);
    }
    const s = this.status(id);
    this.cacheTake(d, s);
    return { ok: s };
  }

  /** Resume by versions: what a device holds of users it begins to listen to (its login, a subscription, a friend). */
  private holds(d: DeviceM, viewer: string, ids: readonly string[]): void {
    for (const id of ids) {
      const v = this.viewFor(id, viewer).version;
      if ((d.heard.get(id) ?? -1) < v) d.heard.set(id, v);
    }
  }

  private listens(viewer: string, ids: readonly string[]): void {
    if (!this.byVersions) return;
    for (const d of this.devices) if (d.user === viewer && this.receiving(d)) this.holds(d, viewer, ids);
  }

  // ---- admin calls ----

  changeFriends(userID: string, ids: readonly string[], add: boolean): Outcome {
    if (ids.includes(userID)) return { code: 6017 };
    if (!this.registered(userID) || ids.some((id) => !this.registered(id))) return { code: 70107 };
    const f = this.user(userID).friends;
    for (const id of ids) {
      // A viewer moved between userID's classes may see the other class's view, older or newer: a friend
      // change is not told (EXT-5 tells visibility changes only), so its last-shown mark starts again.
      if (f.has(id) !== add) this.lastShown.get(id)?.delete(userID);
      if (add && !f.has(id)) this.listens(userID, [id]);
      add ? f.add(id) : f.delete(id);
    }
    return { ok: undefined };
  }

  configure(change: { edition?: 'trial' | 'pro' | 'ultimate'; switches?: Partial<Model['switches']>; limits?: Partial<LimitsM> }): Outcome {
    if (change.edition) this.edition = change.edition;
    this.switches = { ...this.switches, ...change.switches };
    if (change.limits) this.limits = { ...this.limits, ...change.limits };
    return { ok: undefined };
  }
}

const initialView = (): ViewM => ({ statusType: UNLOGINED, customStatus: '', version: 0, reason: 'registered', tick: 0 });
const viewOf = (s: StatusM): Omit<ViewM, 'tick'> => ({ statusType: s.statusType, customStatus: s.customStatus, version: s.version, reason: s.reason });
