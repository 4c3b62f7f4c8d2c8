// The device sessions of this process and the last step of a delivery: the broker hands an event for a
// user (or device) here, and it reaches each of that user's receiving sessions (NTF-5). The user's status
// machine decides whether a device is logged in and connected; `sync` keeps the sessions in step with it.
import type { UserStatusContext } from '../../machines/userStatus';
import { EVENT, type ClientEvent } from '../events';
import type { UserStatus } from '../records';
import type { DeviceSession } from './session';
import type { Transaction } from './transaction';

export class LocalDevices {
  /** Device sessions of this process, by device. */
  readonly sessions = new Map<string, DeviceSession>();
  /**
   * The attached sessions by user: the session itself when the user has one here (most have: a fan-out then
   * reads it without an array, two fewer objects per recipient, each a cache miss at 10k users), else a
   * copy-on-write array (a delivery walks one while a handler may log a device in or out).
   */
  private readonly byUser = new Map<string, DeviceSession | readonly DeviceSession[]>();

  constructor(private readonly tx: Transaction) {}

  get usersWithSessions(): number {
    return this.byUser.size;
  }

  of(userID: string): readonly DeviceSession[] | undefined {
    const v = this.byUser.get(userID);
    return v === undefined || isList(v) ? v : [v];
  }

  deliver(userID: string, event: ClientEvent, seq: number, deviceId?: string): void {
    if (deviceId !== undefined) {
      const s = this.sessions.get(deviceId);
      if (s) hand(s, event, seq);
      return;
    }
    const v = this.byUser.get(userID);
    if (v === undefined) return;
    if (!isList(v)) {
      if (v.receiving) hand(v, event, seq);
      return;
    }
    for (let i = 0; i < v.length; i++) {
      const s = v[i] as DeviceSession;
      if (s.receiving) hand(s, event, seq);
    }
  }

  /** One change's event to many users: the fan-out's inner loop, so it stays flat. */
  deliverMany(userIDs: readonly string[], event: ClientEvent, seq: number): void {
    const byUser = this.byUser;
    for (let i = 0; i < userIDs.length; i++) {
      const v = byUser.get(userIDs[i] as string);
      if (v === undefined) continue;
      if (!isList(v)) {
        if (v.receiving) hand(v, event, seq);
        continue;
      }
      for (let j = 0; j < v.length; j++) {
        const s = v[j] as DeviceSession;
        if (s.receiving) hand(s, event, seq);
      }
    }
  }

  /** Adds a session to its user's (a new array: deliveries in progress keep walking the old one). */
  add(userID: string, s: DeviceSession): void {
    const v = this.byUser.get(userID);
    if (v === undefined) this.byUser.set(userID, s);
    else if (!isList(v)) {
      if (v !== s) this.byUser.set(userID, [v, s]);
    } else if (!v.includes(s)) this.byUser.set(userID, [...v, s]);
  }

  remove(userID: string, s: DeviceSession): void {
    const v = this.byUser.get(userID);
    if (v === undefined) return;
    if (!isList(v)) {
      if (v === s) this.byUser.delete(userID);
      return;
    }
    if (!v.includes(s)) return;
    const rest = v.filter((x) => x !== s);
    this.byUser.set(userID, rest.length === 1 ? (rest[0] as DeviceSession) : rest);
  }

  attach(s: DeviceSession, userID: string): void {
    s.userID = userID;
    this.add(userID, s);
  }

  detach(s: DeviceSession): void {
    if (s.userID) this.remove(s.userID, s);
    s.loggedIn = false;
    s.connected = false;
  }

  /** Keeps each local session's view of its device in step with the user's status machine. */
  sync(userID: string, ctx: UserStatusContext): void {
    const sessions = this.of(userID);
    if (!sessions) return;
    for (const s of sessions) {
      let d: (typeof ctx.devices)[number] | undefined;
      for (const x of ctx.devices) if (x.id === s.deviceId) d = x;
      const loggedIn = d !== undefined;
      const connected = d?.connected === true;
      const leaves = !d && s.userID !== userID; // kicked or logged out
      if (loggedIn === s.loggedIn && connected === s.connected && !leaves) continue;
      const was = { loggedIn: s.loggedIn, connected: s.connected };
      this.tx.onUndo(() => {
        s.loggedIn = was.loggedIn;
        s.connected = was.connected;
        this.add(userID, s);
      });
      s.loggedIn = loggedIn;
      s.connected = connected;
      if (leaves) this.remove(userID, s);
    }
  }
}

function isList(v: DeviceSession | readonly DeviceSession[]): v is readonly DeviceSession[] {
  return Array.isArray(v);
}

function hand(s: DeviceSession, event: ClientEvent, seq: number): void {
  if (seq > s.lastSeq) s.lastSeq = seq;
  if (s.heard !== null && event.name === EVENT.USER_STATUS_UPDATED) heard(s.heard, event.data);
  // One try per sink, not per batch: in optimised code an unthrown try costs nothing measurable (the loop
  // without it was not faster, measured at 10k online), and per sink a throwing one skips no one.
  try {
    s.sink(event, seq);
  } catch {
    // A handler's exception is the app's problem; it must not stop the deliveries to everyone else.
  }
}

/** What a device heard of each user (engines side by side: resume by versions). Versions only grow. */
export function heard(into: Map<string, number>, statuses: readonly UserStatus[]): void {
  for (const st of statuses) if ((into.get(st.userID) ?? -1) < st.version) into.set(st.userID, st.version);
}
