// The in-process client: the Web SDK's API (CL-1) over an engine in the same process. One client is one
// device; its calls go straight to the engine's port (src/engine/port.ts), its events come back through the
// device's sink.
import type { Platform } from '../../machines/spec';
import { attempt } from '../engine/engine';
import type { DeviceHandle, EnginePort } from '../engine/port';
import { notLoggedIn, invalidParameter } from '../errors';
import type { UserStatus, Visibility } from '../types';
import { ClientBase, checkDisconnect } from './base';
import type { Client } from './types';

export class LocalClient extends ClientBase implements Client {
  private readonly session: DeviceHandle;

  constructor(
    private readonly core: EnginePort,
    platform: Platform,
  ) {
    super();
    // A bound method, not an arrow: the fan-out calls it for every recipient, and the bound function reaches
    // the client in one object where an arrow takes two (the function, then its context).
    this.session = core.openSession(platform, this.hear.bind(this));
  }

  /** A call is acknowledged once its command is durable (at once on memory and SQLite stores). */
  private acked<T>(fn: () => T): Promise<T> {
    const p = attempt(fn);
    return this.core.acknowledgesLater ? p.then((v) => this.core.acknowledge(v)) : p;
  }

  /** The answer of a call that went through: `acked` for a call already made (no closure per call). */
  private done<T>(value: T): Promise<T> {
    const p = Promise.resolve(value);
    return this.core.acknowledgesLater ? p.then((v) => this.core.acknowledge(v)) : p;
  }

  /** The device id the engine knows this client by (EXT-9 detail, DEV-4). */
  get deviceId(): string {
    return this.session.deviceId;
  }

  login(o: { userID: string; userSig?: string }) {
    return this.acked(() => {
      const opts = o as unknown;
      if (opts === null || typeof opts !== 'object') throw invalidParameter('options', 'login expects {userID, userSig}');
      const r = this.core.login(this.session, (opts as { userID?: unknown }).userID);
      if (!r.repeatLogin) this.self.start(r.status);
      return { data: { repeatLogin: r.repeatLogin, userID: r.status.userID } };
    });
  }

  logout(): Promise<{ data: Record<string, never> }> {
    try {
      this.core.logout(this.session);
      this.self.forget();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.done({ data: {} as Record<string, never> });
  }

  // The fan-out's calls (setSelfStatus, login, logout) are written out rather than passed to `acked` as
  // closures: one object less per call on the path that every status change takes.
  setSelfStatus(o: { customStatus: string }): Promise<{ data: UserStatus }> {
    let status: UserStatus;
    try {
      status = this.core.setSelfStatus(this.session, o);
      this.self.take(status);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.done({ data: status });
  }

  getUserStatus(o: { userIDList: string[] }) {
    return this.acked(() => {
      // CL-2: the caller alone is answered from the client's own state, without a round trip.
      return this.selfOnly(o, this.session.loggedIn) ?? { data: this.core.getUserStatus(this.session, o) };
    });
  }

  subscribeUserStatus(o: { userIDList: string[]; pushCurrent?: boolean }) {
    return this.acked(() => ({ data: this.core.subscribe(this.session, o) }));
  }

  unsubscribeUserStatus(o?: { userIDList?: string[] }) {
    return this.acked(() => ({ data: this.core.unsubscribe(this.session, o) }));
  }

  setVisibility(visibility: Visibility) {
    return this.acked(() => {
      const status = this.core.setVisibility(this.session, visibility);
      this.self.take(status);
      return { data: status };
    });
  }

  disconnect(how: 'link_closed' | 'network_lost' = 'link_closed'): void {
    const kind = checkDisconnect(how);
    this.core.linkEvent(this.session, { type: kind === 'link_closed' ? 'LINK.CLOSED' : 'LINK.SILENT' });
  }

  reconnect(): Promise<void> {
    return this.acked(() => {
      if (!this.session.userID) throw notLoggedIn();
      this.core.reconnect(this.session);
    });
  }

  background(): void {
    if (this.session.loggedIn) this.core.background(this.session);
  }

  foreground(): void {
    if (this.session.loggedIn) this.core.foreground(this.session);
  }

  destroy(): Promise<void> {
    return attempt(() => this.core.closeSession(this.session));
  }
}
