// The benchmarks' baseline: the smallest engine that does the same fan-out as status-engine for web devices
// (NTF-2 a/b/c, each recipient once, only online users hear), with plain Maps and Sets: no machines, no
// journal, no gating, no timers, no validation. Every engine figure in docs/performance.md is a ratio
// against this, run in the same process on the same operation sequence.

const ONLINE = 1;
const UNLOGINED = 3;

export interface BaselineStatus {
  userID: string;
  statusType: number;
  customStatus: string;
  version: number;
  reason: string;
}
export interface BaselineEvent {
  name: 'onUserStatusUpdated';
  data: BaselineStatus[];
}
export type BaselineSink = (event: BaselineEvent, seq: number) => void;

export class BaselineDevice {
  userID: string | null = null;
  constructor(readonly sink: BaselineSink) {}
}

export interface UserRecord {
  statusType: number;
  customStatus: string;
  version: number;
  devices: BaselineDevice[];
}

export class BaselineEngine {
  private readonly users = new Set<string>();
  /** Only users that ever logged in have a record, as in the engine's store. */
  private readonly status = new Map<string, UserRecord>();
  private readonly subscriptions = new Map<string, Set<string>>();
  private readonly subscribers = new Map<string, Set<string>>();
  private readonly friends = new Map<string, Set<string>>();
  private readonly followers = new Map<string, Set<string>>();
  private seq = 0;

  register(ids: readonly string[]): void {
    for (const id of ids) this.users.add(id);
  }

  addFriends(userID: string, friendIDs: readonly string[]): void {
    for (const f of friendIDs) {
      add(this.friends, userID, f);
      add(this.followers, f, userID);
    }
  }

  subscribe(userID: string, targets: readonly string[]): void {
    for (const t of targets) {
      if (t === userID || !this.users.has(t)) continue;
      add(this.subscriptions, userID, t);
      add(this.subscribers, t, userID);
    }
  }

  /** A user's record (for the durable baseline, which writes it out). */
  recordOf(userID: string): Readonly<UserRecord> | undefined {
    return this.status.get(userID);
  }

  login(d: BaselineDevice, userID: string): void {
    if (!this.users.has(userID)) throw new Error(`not registered: ${userID}`);
    let rec = this.status.get(userID);
    if (!rec) this.status.set(userID, (rec = { statusType: UNLOGINED, customStatus: '', version: 0, devices: [] }));
    d.userID = userID;
    rec.devices.push(d);
    if (rec.devices.length === 1) this.change(userID, rec, ONLINE, 'login');
  }

  logout(d: BaselineDevice): void {
    const userID = d.userID;
    if (userID === null) throw new Error('not logged in');
    const rec = this.status.get(userID)!;
    rec.devices.splice(rec.devices.indexOf(d), 1);
    d.userID = null;
    if (rec.devices.length === 0) this.change(userID, rec, UNLOGINED, 'logout');
  }

  setSelfStatus(d: BaselineDevice, customStatus: string): void {
    const userID = d.userID;
    if (userID === null) throw new Error('not logged in');
    const rec = this.status.get(userID)!;
    if (rec.customStatus === customStatus) return;
    rec.customStatus = customStatus;
    this.change(userID, rec, rec.statusType, customStatus === '' ? 'custom_status_cleared' : 'custom_status_set');
  }

  private change(userID: string, rec: UserRecord, statusType: number, reason: string): void {
    rec.statusType = statusType;
    rec.version++;
    const seq = ++this.seq;
    const event: BaselineEvent = {
      name: 'onUserStatusUpdated',
      data: [{ userID, statusType, customStatus: rec.customStatus, version: rec.version, reason }],
    };
    for (const d of rec.devices) d.sink(event, seq);
    const subs = this.subscribers.get(userID);
    if (subs) for (const s of subs) this.deliver(s, event, seq);
    const fols = this.followers.get(userID);
    if (fols) for (const f of fols) if (!subs?.has(f)) this.deliver(f, event, seq);
  }

  private deliver(viewer: string, event: BaselineEvent, seq: number): void {
    const rec = this.status.get(viewer);
    if (rec === undefined || rec.statusType !== ONLINE) return;
    for (const d of rec.devices) d.sink(event, seq);
  }
}

function add(index: Map<string, Set<string>>, key: string, value: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
}

/**
 * The Promise-shaped baseline for the public API's figures: one object per device with the client's call
 * shapes, one `async` method per call (so each call costs a Promise and an `await`, as any Promise API does),
 * handlers registered with `on()` and called directly.
 */
export class BaselineClient {
  private readonly device: BaselineDevice;
  private readonly handlers = new Map<string, Set<(e: BaselineEvent) => void>>();

  constructor(private readonly engine: BaselineEngine) {
    this.device = new BaselineDevice((e) => {
      const hs = this.handlers.get(e.name);
      if (hs) for (const h of hs) h(e);
    });
  }

  on(name: BaselineEvent['name'], handler: (e: BaselineEvent) => void): void {
    let hs = this.handlers.get(name);
    if (!hs) this.handlers.set(name, (hs = new Set()));
    hs.add(handler);
  }

  async login(o: { userID: string }): Promise<{ data: { repeatLogin: boolean; userID: string } }> {
    this.engine.login(this.device, o.userID);
    return { data: { repeatLogin: false, userID: o.userID } };
  }

  async logout(): Promise<{ data: Record<string, never> }> {
    this.engine.logout(this.device);
    return { data: {} };
  }

  async setSelfStatus(o: { customStatus: string }): Promise<{ data: BaselineStatus }> {
    const userID = this.device.userID;
    this.engine.setSelfStatus(this.device, o.customStatus);
    const rec = this.engine.recordOf(userID!)!;
    return { data: { userID: userID!, statusType: rec.statusType, customStatus: rec.customStatus, version: rec.version, reason: '' } };
  }

  async subscribeUserStatus(o: { userIDList: string[] }): Promise<{ data: { failureUserIDList: [] } }> {
    this.engine.subscribe(this.device.userID!, o.userIDList);
    return { data: { failureUserIDList: [] } };
  }
}
