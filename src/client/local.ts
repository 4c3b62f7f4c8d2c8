// The in-process client: the Web SDK's API (CL-1) over an engine in the same process. One client is one
// device; its calls go straight to the engine core, its events come back through the device's sink.
import type { Platform } from '../../machines/spec';
import { EngineCore, type DeviceSession } from '../engine/core';
import { attempt } from '../engine/engine';
import { EVENT, type ClientEvent } from '../events';
import { notLoggedIn, invalidParameter } from '../errors';
import type { Visibility } from '../types';
import { describe } from '../engine/validate';
import { Emitter } from './emitter';
import { SelfStatus, isSelfOnly } from './self';
import type { Client, ClientEventHandler } from './types';

export class LocalClient implements Client {
  private readonly session: DeviceSession;
  private readonly events = new Emitter();
  private readonly self = new SelfStatus();

  constructor(
    private readonly core: EngineCore,
    platform: Platform,
  ) {
    this.session = core.openSession(platform, (event) => this.receive(event));
  }

  /** The device id the engine knows this client by (EXT-9 detail, DEV-4). */
  get deviceId(): string {
    return this.session.deviceId;
  }

  private receive(event: ClientEvent): void {
    if (event.name === EVENT.USER_STATUS_UPDATED) {
      for (const s of event.data) if (s.userID === this.self.userID) this.self.take(s);
    } else if (event.name === EVENT.KICKED_OUT) {
      this.self.forget();
    }
    this.events.emit(event);
  }

  login(o: { userID: string; userSig?: string }) {
    return attempt(() => {
      const opts = o as unknown;
      if (opts === null || typeof opts !== 'object') throw invalidParameter('options', 'login expects {userID, userSig}');
      const r = this.core.login(this.session, (opts as { userID?: unknown }).userID);
      if (!r.repeatLogin) this.self.start(r.status);
      return { data: { repeatLogin: r.repeatLogin, userID: r.status.userID } };
    });
  }

  logout() {
    return attempt(() => {
      this.core.logout(this.session);
      this.self.forget();
      return { data: {} as Record<string, never> };
    });
  }

  setSelfStatus(o: { customStatus: string }) {
    return attempt(() => {
      const status = this.core.setSelfStatus(this.session, o);
      this.self.take(status);
      return { data: status };
    });
  }

  getUserStatus(o: { userIDList: string[] }) {
    return attempt(() => {
      // CL-2: the caller alone is answered from the client's own state, without a round trip.
      const list = (o as { userIDList?: unknown } | undefined)?.userIDList;
      if (this.session.loggedIn && isSelfOnly(list, this.self.userID)) {
        return { data: { successUserList: [this.self.get()], failureUserList: [] } };
      }
      return { data: this.core.getUserStatus(this.session, o) };
    });
  }

  subscribeUserStatus(o: { userIDList: string[]; pushCurrent?: boolean }) {
    return attempt(() => ({ data: this.core.subscribe(this.session, o) }));
  }

  unsubscribeUserStatus(o?: { userIDList?: string[] }) {
    return attempt(() => ({ data: this.core.unsubscribe(this.session, o) }));
  }

  setVisibility(visibility: Visibility) {
    return attempt(() => {
      const status = this.core.setVisibility(this.session, visibility);
      this.self.take(status);
      return { data: status };
    });
  }

  on(event: string, handler: ClientEventHandler): void {
    this.events.on(event, handler);
  }

  off(event: string, handler: ClientEventHandler): void {
    this.events.off(event, handler);
  }

  disconnect(how: 'link_closed' | 'network_lost' = 'link_closed'): void {
    if (how !== 'link_closed' && how !== 'network_lost') {
      throw invalidParameter('how', `expected 'link_closed' or 'network_lost', got ${describe(how)}`);
    }
    this.core.linkEvent(this.session, { type: how === 'link_closed' ? 'LINK.CLOSED' : 'LINK.SILENT' });
  }

  reconnect(): Promise<void> {
    return attempt(() => {
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
