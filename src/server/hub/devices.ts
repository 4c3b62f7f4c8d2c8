// The hub's devices: each an engine device session that outlives its sockets, bound to at most one socket
// at a time, forgotten after the retention period without one. Owed link closes go through the retrier.
import { createHash } from 'node:crypto';
import type WebSocket from 'ws';
import type { Clock } from '../../clock';
import type { DeviceHandle, EnginePort } from '../../engine/port';
import type { ClientEvent } from '../../events';
import type { Platform } from '../../../machines/spec';
import { ErrorCode, StatusError } from '../../errors';
import type { Relay } from '../cluster/relay';
import type { SocketLink } from '../link/lifecycle';
import type { Retrier } from '../link/retry';
import type { RequestBudget } from '../requestBudget';

/**
 * The engine's id of a client's device: the client names its device, but only within its own user's
 * devices, so that no one can take over another user's device by naming it.
 */
export function engineDeviceId(userID: string, clientDeviceId: string): string {
  return `${clientDeviceId}.${createHash('sha256').update(userID).digest('base64url').slice(0, 16)}`;
}

/** One device of the engine as the hub keeps it: its session, and the socket bound to it, if any. */
export interface Device {
  session: DeviceHandle;
  conn: Conn | null;
  /** When it lost its last socket (clock time), for the retention sweep. */
  detachedAt: number | null;
}

/** One client socket, and the device it proved a UserSig for, if any. */
export interface Conn {
  ws: WebSocket;
  link: SocketLink;
  deviceId: string;
  platform: Platform;
  device: Device | null;
  /** The hub made its device link silent: a frame brings it back, a timeout closes it. */
  silenced: boolean;
  remote: string;
  /** Whatever it sends, the work it can cause is bounded. */
  budget: RequestBudget;
  /** Cluster mode: frames waiting their turn (one frame of a connection at a time, in order). */
  queue?: Array<{ data: Buffer; isBinary: boolean }>;
  running?: boolean;
  /** Cluster mode: the client is piped to its user's owner node. */
  relay?: Relay | null;
  /** Cluster mode: this socket is another node's relay of its client (never relayed again). */
  viaRelay?: boolean;
}

export interface DeviceRegistryOptions {
  port: EnginePort;
  clock: Clock;
  retry: Retrier;
  /** Runs a step whose throw must not escape a timer (the link group's guard). */
  guard(what: string, fn: () => void, extra?: Record<string, unknown>): void;
  /** What the engine sends a device. */
  push(d: Device, event: ClientEvent, seq: number): void;
}

/** The retrier's key of a device's owed close. */
const closeKey = (d: Device): string => `hub-close:${d.session.deviceId}`;

export class DeviceRegistry {
  private readonly devices = new Map<string, Device>();
  /** The devices with no socket now: the retention sweep looks at these only. */
  private readonly detached = new Set<Device>();

  constructor(private readonly o: DeviceRegistryOptions) {}

  get(deviceId: string): Device | undefined {
    return this.devices.get(deviceId);
  }

  create(deviceId: string, platform: Platform): Device {
    const d: Device = { session: null as unknown as DeviceHandle, conn: null, detachedAt: this.o.clock.now() };
    d.session = this.o.port.openSession(platform, (event, seq) => this.o.push(d, event, seq), deviceId);
    this.devices.set(deviceId, d);
    this.detached.add(d);
    return d;
  }

  /** The engine first: if the store refuses the close, the hub still has the device (to retry, or to resume). */
  forget(d: Device): void {
    if (d.conn) this.unbind(d.conn);
    this.o.port.closeSession(d.session);
    if (this.devices.get(d.session.deviceId) === d) this.devices.delete(d.session.deviceId);
    this.detached.delete(d);
  }

  /** A device let go of for good (the client's `bye`): forgotten, retried until it lands unless it comes back. */
  forgetOwed(d: Device): void {
    this.o.retry.run(closeKey(d), 'forgetting a device', () => {
      if (!d.conn) this.forget(d);
    });
  }

  /**
   * The device lost its socket: its link is closed (DEV-1..3), a logged-out device is forgotten. When the
   * store refuses it (a full disk), it is retried on the clock until it lands, unless the device comes
   * back on a new socket first: presence converges, with no ghost.
   */
  closeLink(d: Device): void {
    this.o.retry.run(closeKey(d), 'closing a device link', () => {
      if (d.conn) return;
      const s = d.session;
      try {
        if (s.userID && s.linkState !== null && s.linkState !== 'closed') this.o.port.linkEvent(s, { type: 'LINK.CLOSED' });
      } catch (e) {
        // Cluster mode: the user's shard moved away meanwhile; its new owner times the device out (no ghost).
        if (e instanceof StatusError && e.code === ErrorCode.NOT_OWNER) return this.abandon(d);
        throw e;
      }
      if (s.userID === null) this.forget(d);
    });
  }

  bind(conn: Conn, d: Device): void {
    // Moving off another device (a login as another user): that one's link closes, as when its socket goes.
    if (conn.device && conn.device !== d) this.detach(conn);
    const old = d.conn;
    if (old && old !== conn) {
      // The same device on a newer socket (the old one is a half-dead connection the client gave up on).
      old.device = null;
      old.link.replaced();
    }
    this.o.retry.cancel(closeKey(d)); // back before an owed close landed: it is no longer owed
    d.conn = conn;
    d.detachedAt = null;
    this.detached.delete(d);
    conn.device = d;
    conn.silenced = false;
  }

  unbind(conn: Conn): void {
    const d = conn.device;
    conn.device = null;
    if (d && d.conn === conn) {
      d.conn = null;
      d.detachedAt = this.o.clock.now();
      this.detached.add(d);
    }
  }

  /** The socket lets go of its device, whose link is then closed (DEV-1). */
  detach(conn: Conn): void {
    const d = conn.device;
    if (!d) return;
    this.unbind(conn);
    this.closeLink(d);
  }

  /** The retention sweep: a logged-out device, or one with no socket for `retentionMs`, is forgotten. */
  sweep(retentionMs: number): void {
    const now = this.o.clock.now();
    for (const d of [...this.detached]) {
      if (d.conn || this.o.retry.has(closeKey(d))) continue;
      if (d.session.userID === null || (d.detachedAt !== null && now - d.detachedAt >= retentionMs)) {
        this.o.guard('forgetting a device', () => this.forget(d), { deviceId: d.session.deviceId });
      }
    }
  }

  /** The user's shard moved to another node: the device is let go of here without a word to the port
   * (its state is the new owner's, which times it out unless its client comes back there). */
  abandon(d: Device): void {
    if (d.conn) this.unbind(d.conn);
    this.o.retry.cancel(closeKey(d));
    if (this.devices.get(d.session.deviceId) === d) this.devices.delete(d.session.deviceId);
    this.detached.delete(d);
  }

  all(): IterableIterator<Device> {
    return this.devices.values();
  }

  stats(): { devices: number; loggedIn: number } {
    let loggedIn = 0;
    for (const d of this.devices.values()) if (d.session.loggedIn) loggedIn++;
    return { devices: this.devices.size, loggedIn };
  }
}
