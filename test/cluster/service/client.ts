// A client of a cluster node's port, as a front-end would drive it: each call that reads users of other
// nodes' shards is preceded by `port.prepare(...)`, and answered once acknowledged (durable in the shard
// log). Otherwise the in-process client (src/client/local.ts).
import type { Platform } from '../../../machines/spec';
import { ClientBase, checkDisconnect } from '../../../src/client/base';
import type { Client } from '../../../src/client/types';
import type { ClusterPort, PreparedCall } from '../../../src/cluster/service';
import type { DeviceHandle } from '../../../src/engine/port';
import { invalidParameter, notLoggedIn } from '../../../src/errors';
import type { Visibility } from '../../../src/types';

export class ClusterClient extends ClientBase implements Client {
  readonly session: DeviceHandle;

  constructor(
    /** The port of the node this client's socket is on; `portOf(userID)` picks it at login (a relay). */
    private readonly portOf: (userID: string | null) => ClusterPort,
    platform: Platform,
  ) {
    super();
    this.session = portOf(null).openSession(platform, (event) => this.hear(event));
  }

  private get port(): ClusterPort {
    return this.portOf(this.session.userID);
  }

  private async call<T>(prepare: PreparedCall | null, arg: unknown, fn: (p: ClusterPort) => T, port = this.port): Promise<T> {
    if (prepare !== null) await port.prepare(prepare, this.session, arg);
    const v = fn(port);
    return port.acknowledge(v);
  }

  get deviceId(): string {
    return this.session.deviceId;
  }

  login(o: { userID: string; userSig?: string }) {
    const opts = o as unknown;
    if (opts === null || typeof opts !== 'object') return Promise.reject(invalidParameter('options', 'login expects {userID, userSig}'));
    const userID = (opts as { userID?: unknown }).userID;
    const port = this.portOf(typeof userID === 'string' ? userID : null);
    return this.call(
      'login',
      userID,
      (p) => {
        const r = p.login(this.session, userID);
        if (!r.repeatLogin) this.self.start(r.status);
        return { data: { repeatLogin: r.repeatLogin, userID: r.status.userID } };
      },
      port,
    );
  }

  logout() {
    return this.call(null, undefined, (p) => {
      p.logout(this.session);
      this.self.forget();
      return { data: {} as Record<string, never> };
    });
  }

  setSelfStatus(o: { customStatus: string }) {
    return this.call(null, o, (p) => {
      const status = p.setSelfStatus(this.session, o);
      this.self.take(status);
      return { data: status };
    });
  }

  getUserStatus(o: { userIDList: string[] }) {
    const self = this.selfOnly(o, this.session.loggedIn);
    if (self) return this.call(null, o, () => self);
    return this.call('getUserStatus', o, (p) => ({ data: p.getUserStatus(this.session, o) }));
  }

  subscribeUserStatus(o: { userIDList: string[]; pushCurrent?: boolean }) {
    return this.call('subscribe', o, (p) => ({ data: p.subscribe(this.session, o) }));
  }

  unsubscribeUserStatus(o?: { userIDList?: string[] }) {
    return this.call('unsubscribe', o, (p) => ({ data: p.unsubscribe(this.session, o) }));
  }

  setVisibility(visibility: Visibility) {
    return this.call(null, visibility, (p) => {
      const status = p.setVisibility(this.session, visibility);
      this.self.take(status);
      return { data: status };
    });
  }

  disconnect(how: 'link_closed' | 'network_lost' = 'link_closed'): void {
    const kind = checkDisconnect(how);
    this.port.linkEvent(this.session, { type: kind === 'link_closed' ? 'LINK.CLOSED' : 'LINK.SILENT' });
  }

  reconnect(): Promise<void> {
    if (!this.session.userID) return Promise.reject(notLoggedIn());
    return this.call('reconnect', undefined, (p) => p.reconnect(this.session));
  }

  background(): void {
    if (this.session.loggedIn) this.port.background(this.session);
  }

  foreground(): void {
    // A foreground resumes (reads the scope): fetched first, so it runs a turn later.
    if (!this.session.loggedIn) return;
    const port = this.port;
    void port.prepare('reconnect', this.session, undefined).then(() => port.foreground(this.session), () => port.foreground(this.session));
  }

  destroy(): Promise<void> {
    try {
      this.port.closeSession(this.session);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

/**
 * `setter` logged in on one client, `follower` on another subscribed to it; `heard` collects the custom statuses
 * of `setter` the follower is handed, in order.
 */
export async function follower(portOf: (userID: string | null) => ClusterPort, setter: string, followerID: string) {
  const cb = new ClusterClient(portOf, 'web');
  await cb.login({ userID: setter });
  const sub = new ClusterClient(portOf, 'web');
  const heard: string[] = [];
  sub.on('onUserStatusUpdated', (e) => {
    for (const st of e.data as Array<{ userID: string; customStatus: string }>) if (st.userID === setter) heard.push(st.customStatus);
  });
  await sub.login({ userID: followerID });
  await sub.subscribeUserStatus({ userIDList: [setter] });
  return { cb, sub, heard };
}
