// The remote client: the same Client API and behaviour as the in-process one, over the client protocol
// (docs/protocol.md) to `status-engine serve`. One client is one device, named by a random deviceId that
// outlives its sockets: after a drop (or a server restart) it reconnects by itself with backoff and jitter
// (to the next of its URLs when it has several), logs back in with the UserSig it kept, and resumes from the
// last seq it heard (EXT-2), so that it gets each change it missed once, in order. This file is the session
// and the API mapping; connection.ts is the socket. A client with no user logged in holds no socket.
import type { Platform } from '../../machines/spec';
import { systemClock, type Clock } from '../clock';
import { ErrorCode, StatusError, invalidParameter, notLoggedIn } from '../errors';
import { EVENT, type ClientEvent } from '../events';
import { WireCode } from '../protocol/codes';
import type { Op } from '../protocol/messages';
import type { Failure, UserStatus, Visibility } from '../types';
import { Backoff, POLICY_CLOSE, PolicyCuts, type BackoffOptions } from './backoff';
import { ClientBase, checkDisconnect } from './base';
import { Connection, close, type ConnectionState } from './connection';
import { FINAL_RESUME_CODES, toSocketUrls } from './frames';
import { OPEN, randomHex } from './socket';
import type { Client } from './types';

export type { ConnectionState } from './connection';

export interface RemoteClientOptions {
  /**
   * 'ws://HOST:PORT' or 'http://HOST:PORT' (the path defaults to /ws), or a list of them: when one fails
   * (refused, or the link drops) the next one is tried.
   */
  url: string | readonly string[];
  platform?: Platform;
  /** Heartbeats, request timeouts and reconnect backoff read this clock. Default: the real one. */
  clock?: Clock;
  /** A call with no answer after this long rejects with 2801. Default 15,000 (the Web SDK's). */
  requestTimeoutMs?: number;
  /**
   * Reconnect backoff: the first retry is at once, then min x 2^n up to max, each cut by up to `jitter`; after
   * a policy close (1008) a longer wait, and after too many of them an 'error' event and no more. `false`: never.
   */
  reconnect?: false | BackoffOptions;
  /** The jitter's randomness (tests make it fixed). Default Math.random. */
  random?: () => number;
  /** Used by login() when it is given none. */
  userSig?: string;
}

export class RemoteClient extends ClientBase implements Client {
  readonly deviceId = randomHex(16);
  readonly platform: Platform;
  private readonly conn: Connection;
  private readonly backoff: Backoff | null;
  private readonly cuts: PolicyCuts;
  private readonly defaultUserSig: string | undefined;

  private bringingUp: Promise<void> | null = null;
  /** The link as the app set it (DEV-1): up, closed on purpose, or lost (network_lost: nothing flows). */
  private link: 'up' | 'closed' | 'lost' = 'up';

  /** Kept for logging back in by itself after a drop. */
  private userID: string | null = null;
  private userSig: string | null = null;
  /** The device counts as logged in (mirrors the engine: a web device dropped by a closed link does not). */
  private deviceLoggedIn = false;
  /** The next bring-up resumes the session (after a drop, or reconnect()) rather than only proving the sig. */
  private resumeWanted = false;

  /** EXT-2: the seq up to which this device has heard everything, and the versions it holds. */
  private lastSeq = 0;
  private readonly versions = new Map<string, number>();
  /** The versions pushed while a login is being asked (see login()). */
  private duringLogin: Map<string, number> | null = null;

  /** Fire-and-forget calls (background, foreground, disconnect) that sync() waits for. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: RemoteClientOptions) {
    super();
    const urls = toSocketUrls(options.url);
    this.platform = options.platform ?? 'web';
    const clock = options.clock ?? systemClock;
    this.backoff = options.reconnect === false ? null : new Backoff(clock, options.random ?? Math.random, options.reconnect);
    this.cuts = new PolicyCuts(clock, options.random ?? Math.random, options.reconnect || {});
    this.defaultUserSig = options.userSig;
    this.conn = new Connection(urls, this, clock, options.requestTimeoutMs ?? 15_000, {
      linkUp: () => this.link === 'up',
      heard: (seq) => {
        if (seq > this.lastSeq) this.lastSeq = seq;
      },
      push: (event) => this.receive(event),
      dropped: (code) => this.dropped(code),
      changed: (next, prev) => {
        const wire = next === 'connected' ? 'connected' : next === 'reconnecting' ? 'reconnecting' : prev === 'connected' || prev === 'reconnecting' ? 'disconnected' : null;
        if (wire && next !== 'destroyed') this.emit({ name: EVENT.NET_STATE_CHANGE, data: { state: wire } });
      },
    });
  }

  get connectionState(): ConnectionState {
    return this.conn.state;
  }

  /** When the next reconnect attempt is due (clock time), while one waits; for "retrying in N s" and tests. */
  get nextRetryAt(): number | null {
    return this.backoff?.retryAt ?? null;
  }

  // -------------------------------------------------------------------------------------------------------
  // The Client API (CL-1), as LocalClient behaves.

  async login(o: { userID: string; userSig?: string }) {
    if (o === null || typeof o !== 'object') throw invalidParameter('options', 'login expects {userID, userSig}');
    this.link = 'up';
    const userSig = o.userSig ?? this.defaultUserSig;
    let r: { repeatLogin: boolean; userID: string; status: UserStatus };
    // The pushes that arrive while the login is asked: in cluster mode its own change may come before its reply.
    const during = new Map<string, number>();
    this.duringLogin = during;
    const sameUser = this.userID === null || this.userID === o.userID;
    try {
      r = (await this.request('login', { userID: o.userID, userSig })) as typeof r;
    } catch (e) {
      this.releaseIfIdle();
      throw e;
    } finally {
      if (this.duringLogin === during) this.duringLogin = null;
    }
    if (!r.repeatLogin) {
      // A fresh login starts from nothing, but what reached this client meanwhile is held (the next resume names
      // it, or the server hands it again: heard twice). Another user's pushes were of another viewer's views.
      this.versions.clear();
      if (sameUser) for (const [u, v] of during) this.versions.set(u, v);
      this.self.start(r.status);
    }
    if (!sameUser) this.cuts.reset(); // another user's session: its cuts were not this one's
    this.userID = r.userID;
    this.userSig = userSig as string;
    this.deviceLoggedIn = true;
    this.conn.authed = true;
    this.resumeWanted = false;
    return { data: { repeatLogin: r.repeatLogin, userID: r.userID } };
  }

  async logout() {
    await this.request('logout');
    this.forgetUser();
    this.releaseIfIdle();
    return { data: {} as Record<string, never> };
  }

  async setSelfStatus(o: { customStatus: string }) {
    const status = (await this.request('setSelfStatus', o)) as UserStatus;
    this.self.take(status);
    return { data: status };
  }

  async getUserStatus(o: { userIDList: string[] }) {
    // CL-2: the caller alone is answered from the client's own state, without a round trip.
    const own = this.selfOnly(o, this.deviceLoggedIn);
    if (own) return own;
    return { data: (await this.request('getUserStatus', o)) as { successUserList: UserStatus[]; failureUserList: Failure[] } };
  }

  async subscribeUserStatus(o: { userIDList: string[]; pushCurrent?: boolean }) {
    return { data: (await this.request('subscribeUserStatus', o)) as { failureUserList: Failure[] } };
  }

  async unsubscribeUserStatus(o?: { userIDList?: string[] }) {
    return { data: (await this.request('unsubscribeUserStatus', o)) as { failureUserList: Failure[] } };
  }

  async setVisibility(visibility: Visibility) {
    const status = (await this.request('setVisibility', { visibility })) as UserStatus;
    this.self.take(status);
    return { data: status };
  }

  /**
   * DEV-1. 'link_closed': the socket closes now (the server hears it at once) and stays closed until
   * reconnect(). 'network_lost': nothing flows either way any more (no heartbeats, no frames read), so the
   * server's heartbeat timeout applies (DEV-2/DEV-3); reconnect() comes back on a new socket.
   */
  disconnect(how: 'link_closed' | 'network_lost' = 'link_closed'): void {
    checkDisconnect(how);
    if (this.conn.state === 'destroyed') return;
    this.backoff?.reset();
    this.resumeWanted = false;
    if (how === 'network_lost') {
      this.link = 'lost';
      this.conn.abandon();
      this.conn.setState('idle');
      return;
    }
    this.link = 'closed';
    // DEV-2: a web device is dropped by a closed link; a native one stays logged in, disconnected (DEV-3).
    if (this.platform === 'web') this.deviceLoggedIn = false;
    // The old socket only carries the goodbye; any later call opens a new one.
    const ws = this.conn.detach();
    this.conn.setState('idle');
    if (ws && ws.readyState === OPEN) {
      this.track(this.conn.send('disconnect', undefined, ws).catch(() => undefined).finally(() => close(ws)));
    } else if (ws) close(ws);
  }

  /** DEV-1 + EXT-2: come back (on a new socket if need be) and hear once each status that moved while away. */
  async reconnect(): Promise<void> {
    if (this.conn.state === 'destroyed') throw new StatusError(ErrorCode.ENGINE_CLOSED, 'the client was destroyed');
    if (!this.userID) throw notLoggedIn();
    this.link = 'up';
    this.backoff?.reset();
    this.resumeWanted = true;
    this.conn.authed = false;
    await this.bringUp();
  }

  background(): void {
    if (this.deviceLoggedIn && this.link !== 'lost') this.track(this.request('background').catch(() => undefined));
  }

  foreground(): void {
    if (this.deviceLoggedIn && this.link !== 'lost') this.track(this.request('foreground').catch(() => undefined));
  }

  async destroy(): Promise<void> {
    if (this.conn.state === 'destroyed') return;
    if (this.conn.isOpen && this.link === 'up') await this.conn.send('bye').catch(() => undefined);
    this.backoff?.reset();
    this.conn.destroy(new StatusError(ErrorCode.ENGINE_CLOSED, 'the client was destroyed'));
  }

  /** Tests: resolves once every call made so far is answered and every push sent before now has arrived. */
  async sync(): Promise<void> {
    await Promise.allSettled([...this.inFlight, ...this.conn.waiting()]);
    if (this.conn.isOpen && this.link === 'up') await this.conn.send('ping').catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------------------
  // The session over the connection.

  private async request(op: Op, params?: unknown): Promise<unknown> {
    if (this.conn.state === 'destroyed') throw new StatusError(ErrorCode.ENGINE_CLOSED, 'the client was destroyed');
    if (this.link === 'lost') throw new StatusError(ErrorCode.NOT_CONNECTED, 'the network is lost: call reconnect() first');
    if (op !== 'login') {
      try {
        await this.bringUp();
      } catch (e) {
        // A resume the server refused for good is already reported (kickedOut); the call goes on unauthenticated.
        if (!(e instanceof StatusError) || !FINAL_RESUME_CODES.has(e.code)) throw e;
      }
    } else await this.conn.connect();
    return this.conn.send(op, params);
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** An open socket that has proved the UserSig (resuming the session when it was dropped). */
  private bringUp(): Promise<void> {
    if (this.bringingUp) return this.bringingUp;
    if (this.conn.isOpen && (this.conn.authed || !this.userID)) return Promise.resolve();
    this.bringingUp = (async () => {
      await this.conn.connect();
      if (this.userID && this.userSig !== null && !this.conn.authed) {
        if (this.resumeWanted) await this.resume();
        else {
          try {
            await this.conn.send('auth', { userID: this.userID, userSig: this.userSig });
            this.conn.authed = true;
          } catch (e) {
            // The server no longer knows this device: the call itself will say 2024.
            if (!(e instanceof StatusError) || e.code === WireCode.CONNECTION_LOST) throw e;
          }
        }
      }
      if (this.link === 'up') {
        this.backoff?.reset();
        this.conn.setState('connected');
      }
    })().finally(() => {
      this.bringingUp = null;
    });
    return this.bringingUp;
  }

  private async resume(): Promise<void> {
    try {
      const r = (await this.conn.send('resume', {
        userID: this.userID,
        userSig: this.userSig,
        lastSeq: this.lastSeq,
        versions: Object.fromEntries(this.versions),
      })) as { status: UserStatus };
      this.conn.authed = true;
      this.resumeWanted = false;
      this.deviceLoggedIn = true;
      if (this.self.userID === null) this.self.start(r.status);
      else this.self.take(r.status);
      this.conn.dropAbandoned();
    } catch (e) {
      if (e instanceof StatusError && FINAL_RESUME_CODES.has(e.code)) {
        // The server will not take this session back (UserSig expired, logged out elsewhere, ...): the
        // app hears it as the Web SDK's kicked-out event and must log in again.
        this.forgetUser();
        this.emit({
          name: EVENT.KICKED_OUT,
          data: { type: (e.code === ErrorCode.USERSIG_EXPIRED ? 'userSigExpired' : 'resumeRefused') as 'multipleDevice', code: e.code, message: e.message },
        });
      }
      throw e;
    }
  }

  private receive(event: ClientEvent): void {
    if (event.name === EVENT.USER_STATUS_UPDATED) {
      if (!Array.isArray(event.data)) return;
      for (const s of event.data) {
        if (!s || typeof s.userID !== 'string') continue;
        this.versions.set(s.userID, s.version);
        this.duringLogin?.set(s.userID, s.version);
      }
    } else if (event.name === EVENT.KICKED_OUT) {
      this.forgetUser();
      this.hear(event);
      this.releaseIfIdle();
      return;
    }
    this.hear(event);
  }

  private emit(event: ClientEvent): void {
    this.events.emit(event);
  }

  /** The current socket went without being asked to: come back by itself, when that makes sense. */
  private dropped(code: number): void {
    const was = this.conn.state;
    if (was === 'destroyed') return;
    if (this.link !== 'up' || (was !== 'connected' && was !== 'reconnecting')) {
      this.conn.setState('idle');
      return;
    }
    // Not asked for: come back by itself, and resume if it was logged in (EXT-2). A server that refuses
    // the protocol is not retried, nor is a socket replaced by a newer one of this device (someone holding
    // this user's UserSig took the device over; fighting back would only bounce it between the two).
    if (code === 4400 || code === 4009 || !this.backoff) {
      this.conn.setState('idle');
      return;
    }
    this.resumeWanted = this.userID !== null;
    // The server cut this client for its request budget (1008): coming straight back would be cut again (the
    // looping SDK of docs/tim-compat.md). Wait longer each time; after too many, stop and say so.
    let atLeastMs = 0;
    if (code === POLICY_CLOSE) {
      const cut = this.cuts.record();
      if (cut.stop) {
        this.conn.setState('idle');
        return this.emit({ name: EVENT.ERROR, data: { code: ErrorCode.RATE_LIMITED, message: cut.message } });
      }
      atLeastMs = cut.delayMs;
    }
    this.conn.setState('reconnecting');
    this.backoff.schedule(() => void this.tryReconnect(), atLeastMs);
  }

  private async tryReconnect(): Promise<void> {
    if (this.conn.state === 'destroyed' || this.link !== 'up') return;
    try {
      await this.bringUp();
    } catch (e) {
      if (e instanceof StatusError && FINAL_RESUME_CODES.has(e.code)) {
        this.conn.setState('connected');
        return;
      }
      if (this.conn.isOpen) return; // a call's bring-up got there
      this.conn.setState('reconnecting');
      this.backoff?.schedule(() => void this.tryReconnect());
    }
  }

  /**
   * With no user logged in there is nothing to keep a socket (and its heartbeat timer) for: it closes, so that
   * a logged-out client does not hold the process (or a browser tab's socket) open. Any later call opens one.
   */
  private releaseIfIdle(): void {
    if (this.userID !== null || this.conn.state === 'destroyed' || !this.conn.hasSocket || this.conn.busy || this.bringingUp) return;
    this.backoff?.reset();
    // Quietly: the app asked for it (logout) or was told why (kickedOut); no netStateChange to add.
    this.conn.release();
  }

  private forgetUser(): void {
    this.self.forget();
    this.userID = null;
    this.userSig = null;
    this.deviceLoggedIn = false;
    this.resumeWanted = false;
    this.lastSeq = 0;
    this.versions.clear();
  }
}
