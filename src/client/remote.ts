// The remote client: the same Client API and behaviour as the in-process one, over the client protocol
// (docs/protocol.md) to `status-engine serve`. One client is one device, named by a random deviceId that
// outlives its sockets: after a drop (or a server restart) it reconnects by itself with backoff and jitter,
// logs back in with the UserSig it kept, and resumes from the last seq it heard (EXT-2), so that it gets
// each change it missed once, in order. Every timer reads the injected clock. It runs in browsers too
// (socket.ts: the platform's WebSocket and crypto). A client with no user logged in holds no socket.
import type { Platform } from '../../machines/spec';
import { systemClock, type Clock } from '../clock';
import { ErrorCode, StatusError, invalidParameter, notLoggedIn } from '../errors';
import { EVENT, type ClientEvent } from '../events';
import { WireCode } from '../protocol/codes';
import { PROTOCOL_VERSION, type Op, type ServerFrame } from '../protocol/messages';
import type { Failure, UserStatus, Visibility } from '../types';
import { ClientBase, checkDisconnect } from './base';
import { FINAL_RESUME_CODES, fromWire, isFrame, lost, toSocketUrl } from './frames';
import { CONNECTING, OPEN, openSocket, randomHex, type Socket } from './socket';
import type { Client } from './types';

export interface RemoteClientOptions {
  /** 'ws://HOST:PORT' or 'http://HOST:PORT' (the path defaults to /ws). */
  url: string;
  platform?: Platform;
  /** Heartbeats, request timeouts and reconnect backoff read this clock. Default: the real one. */
  clock?: Clock;
  /** A call with no answer after this long rejects with 2801. Default 15,000 (the Web SDK's). */
  requestTimeoutMs?: number;
  /** Reconnect backoff: the first retry is at once, then min x 2^n up to max, each cut by up to `jitter`. `false`: never. */
  reconnect?: false | { minDelayMs?: number; maxDelayMs?: number; jitter?: number };
  /** The jitter's randomness (tests make it fixed). Default Math.random. */
  random?: () => number;
  /** Used by login() when it is given none. */
  userSig?: string;
}

/** What the client's connection is doing (centrifuge-style explicit states). */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'destroyed';

interface Pending {
  resolve(data: unknown): void;
  reject(err: StatusError): void;
  timer: unknown;
  promise: Promise<unknown>;
}


export class RemoteClient extends ClientBase implements Client {
  readonly deviceId = randomHex(16);
  readonly platform: Platform;
  private readonly url: URL;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly backoff: { minDelayMs: number; maxDelayMs: number; jitter: number } | null;
  private readonly random: () => number;
  private readonly defaultUserSig: string | undefined;

  private state: ConnectionState = 'idle';
  private ws: Socket | null = null;
  private connecting: Promise<void> | null = null;
  private bringingUp: Promise<void> | null = null;
  /** The link as the app set it (DEV-1): up, closed on purpose, or lost (network_lost: nothing flows). */
  private link: 'up' | 'closed' | 'lost' = 'up';
  /** Sockets left behind by network_lost: the server replaces them when we resume. */
  private readonly abandoned = new Set<Socket>();
  private heartbeatMs = 10_000;
  private heartbeatTimer: unknown = null;
  private reconnectTimer: unknown = null;
  private retryAt: number | null = null;
  private attempt = 0;

  /** Kept for logging back in by itself after a drop. */
  private userID: string | null = null;
  private userSig: string | null = null;
  /** The device counts as logged in (mirrors the engine: a web device dropped by a closed link does not). */
  private deviceLoggedIn = false;
  /** This socket has proved the UserSig (login, auth or resume). */
  private socketAuthed = false;
  /** The next bring-up resumes the session (after a drop, or reconnect()) rather than only proving the sig. */
  private resumeWanted = false;

  /** EXT-2: the seq up to which this device has heard everything, and the versions it holds. */
  private lastSeq = 0;
  private readonly versions = new Map<string, number>();

  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  /** Fire-and-forget calls (background, foreground, disconnect) that sync() waits for. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: RemoteClientOptions) {
    super();
    this.url = toSocketUrl(options.url);
    this.platform = options.platform ?? 'web';
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.requestTimeoutMs ?? 15_000;
    this.backoff =
      options.reconnect === false
        ? null
        : { minDelayMs: options.reconnect?.minDelayMs ?? 500, maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000, jitter: options.reconnect?.jitter ?? 0.5 };
    this.random = options.random ?? Math.random;
    this.defaultUserSig = options.userSig;
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** When the next reconnect attempt is due (clock time), while one waits; for "retrying in N s" and tests. */
  get nextRetryAt(): number | null {
    return this.retryAt;
  }

  // -------------------------------------------------------------------------------------------------------
  // The Client API (CL-1), as LocalClient behaves.

  async login(o: { userID: string; userSig?: string }) {
    if (o === null || typeof o !== 'object') throw invalidParameter('options', 'login expects {userID, userSig}');
    this.link = 'up';
    const userSig = o.userSig ?? this.defaultUserSig;
    let r: { repeatLogin: boolean; userID: string; status: UserStatus };
    try {
      r = (await this.request('login', { userID: o.userID, userSig })) as typeof r;
    } catch (e) {
      this.releaseIfIdle();
      throw e;
    }
    if (!r.repeatLogin) {
      this.versions.clear();
      this.self.start(r.status);
    }
    this.userID = r.userID;
    this.userSig = userSig as string;
    this.deviceLoggedIn = true;
    this.socketAuthed = true;
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
    if (this.state === 'destroyed') return;
    this.cancelReconnect();
    this.stopHeartbeat();
    this.resumeWanted = false;
    const ws = this.ws;
    if (how === 'network_lost') {
      this.link = 'lost';
      if (ws) {
        this.ws = null;
        this.abandoned.add(ws);
        this.failPending(lost('network lost'));
      }
      this.socketAuthed = false;
      this.setState('idle');
      return;
    }
    this.link = 'closed';
    // DEV-2: a web device is dropped by a closed link; a native one stays logged in, disconnected (DEV-3).
    if (this.platform === 'web') this.deviceLoggedIn = false;
    // The old socket only carries the goodbye; any later call opens a new one.
    this.ws = null;
    this.socketAuthed = false;
    this.setState('idle');
    if (ws && ws.readyState === OPEN) {
      this.track(this.send('disconnect', undefined, ws).catch(() => undefined).finally(() => this.closeSocket(ws)));
    } else if (ws) this.closeSocket(ws);
  }

  /** DEV-1 + EXT-2: come back (on a new socket if need be) and hear once each status that moved while away. */
  async reconnect(): Promise<void> {
    if (this.state === 'destroyed') throw new StatusError(ErrorCode.ENGINE_CLOSED, 'the client was destroyed');
    if (!this.userID) throw notLoggedIn();
    this.link = 'up';
    this.cancelReconnect();
    this.resumeWanted = true;
    this.socketAuthed = false;
    await this.bringUp();
  }

  background(): void {
    if (this.deviceLoggedIn && this.link !== 'lost') this.track(this.request('background').catch(() => undefined));
  }

  foreground(): void {
    if (this.deviceLoggedIn && this.link !== 'lost') this.track(this.request('foreground').catch(() => undefined));
  }

  async destroy(): Promise<void> {
    if (this.state === 'destroyed') return;
    const ws = this.ws;
    if (ws && ws.readyState === OPEN && this.link === 'up') await this.send('bye').catch(() => undefined);
    this.setState('destroyed');
    this.cancelReconnect();
    this.stopHeartbeat();
    this.failPending(new StatusError(ErrorCode.ENGINE_CLOSED, 'the client was destroyed'));
    if (ws) this.closeSocket(ws);
    for (const a of this.abandoned) a.terminate();
    this.abandoned.clear();
    this.ws = null;
  }

  /** Tests: resolves once every call made so far is answered and every push sent before now has arrived. */
  async sync(): Promise<void> {
    await Promise.allSettled([...this.inFlight, ...[...this.pending.values()].map((p) => p.promise)]);
    if (this.ws && this.ws.readyState === OPEN && this.link === 'up') await this.send('ping').catch(() => undefined);
  }

  // -------------------------------------------------------------------------------------------------------
  // Requests.

  private async request(op: Op, params?: unknown): Promise<unknown> {
    if (this.state === 'destroyed') throw new StatusError(ErrorCode.ENGINE_CLOSED, 'the client was destroyed');
    if (this.link === 'lost') throw new StatusError(ErrorCode.NOT_CONNECTED, 'the network is lost: call reconnect() first');
    if (op !== 'login') {
      try {
        await this.bringUp();
      } catch (e) {
        // A resume the server refused for good is already reported (kickedOut); the call goes on unauthenticated.
        if (!(e instanceof StatusError) || !FINAL_RESUME_CODES.has(e.code)) throw e;
      }
    } else await this.connect();
    return this.send(op, params);
  }

  private send(op: Op, params?: unknown, ws = this.ws): Promise<unknown> {
    if (!ws || ws.readyState !== OPEN) return Promise.reject(lost('not connected'));
    const id = ++this.nextId;
    let entry!: Pending;
    const promise = new Promise<unknown>((resolve, reject) => {
      entry = { resolve, reject, timer: null, promise: null as unknown as Promise<unknown> };
    });
    entry.promise = promise;
    entry.timer = this.clock.setTimeout(() => {
      if (!this.pending.delete(id)) return;
      entry.reject(new StatusError(WireCode.REQUEST_TIMEOUT, `no answer to ${op} within ${this.timeoutMs} ms`));
      // A socket that does not answer is as good as gone: a new one will resume.
      if (this.ws === ws) ws.terminate();
    }, op === 'ping' ? this.heartbeatMs : this.timeoutMs);
    this.pending.set(id, entry);
    ws.send(JSON.stringify(params === undefined ? { id, op } : { id, op, params }));
    return promise;
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private failPending(err: StatusError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      this.clock.clearTimeout(p.timer);
      p.reject(err);
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // The connection.

  /** An open socket that has proved the UserSig (resuming the session when it was dropped). */
  private bringUp(): Promise<void> {
    if (this.bringingUp) return this.bringingUp;
    const open = this.ws !== null && this.ws.readyState === OPEN;
    if (open && (this.socketAuthed || !this.userID)) return Promise.resolve();
    this.bringingUp = (async () => {
      await this.connect();
      if (this.userID && this.userSig !== null && !this.socketAuthed) {
        if (this.resumeWanted) await this.resume();
        else {
          try {
            await this.send('auth', { userID: this.userID, userSig: this.userSig });
            this.socketAuthed = true;
          } catch (e) {
            // The server no longer knows this device: the call itself will say 2024.
            if (!(e instanceof StatusError) || e.code === WireCode.CONNECTION_LOST) throw e;
          }
        }
      }
      if (this.link === 'up') {
        this.attempt = 0;
        this.setState('connected');
      }
    })().finally(() => {
      this.bringingUp = null;
    });
    return this.bringingUp;
  }

  private async resume(): Promise<void> {
    try {
      const r = (await this.send('resume', {
        userID: this.userID,
        userSig: this.userSig,
        lastSeq: this.lastSeq,
        versions: Object.fromEntries(this.versions),
      })) as { status: UserStatus };
      this.socketAuthed = true;
      this.resumeWanted = false;
      this.deviceLoggedIn = true;
      if (this.self.userID === null) this.self.start(r.status);
      else this.self.take(r.status);
      for (const a of this.abandoned) a.terminate();
      this.abandoned.clear();
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

  private connect(): Promise<void> {
    if (this.ws && this.ws.readyState === OPEN) return Promise.resolve();
    if (this.connecting) return this.connecting;
    if (this.state === 'idle') this.setState('connecting');
    this.connecting = new Promise<void>((resolve, reject) => {
      const u = new URL(this.url);
      u.searchParams.set('v', String(PROTOCOL_VERSION));
      u.searchParams.set('deviceId', this.deviceId);
      u.searchParams.set('platform', this.platform);
      let hello = false;
      const ws: Socket = openSocket(u, this.timeoutMs, this.clock, {
        message: (data) => {
          // Replies still come in on a socket being closed on purpose; a lost network delivers nothing.
          if (ws !== this.ws && (this.abandoned.has(ws) || this.state === 'destroyed')) return;
          const frame = this.onFrame(data);
          if (frame?.t === 'hello' && !hello) {
            hello = true;
            this.heartbeatMs = frame.heartbeatMs;
            this.startHeartbeat(ws);
            // A reconnect is 'connected' only once it has resumed (bringUp says so).
            if (this.state === 'connecting' || this.state === 'idle') this.setState('connected');
            resolve();
          }
        },
        close: (code, reason) => {
          if (!hello) reject(lost(`closed before hello (${code} ${reason})`));
          this.onClose(ws, code, reason);
        },
        error: (message) => {
          if (!hello) reject(lost(message));
        },
      });
      this.ws = ws;
      this.socketAuthed = false;
    }).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private onFrame(data: string): ServerFrame | null {
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return null; // a server that speaks garbage is not ours to crash on
    }
    if (!isFrame(frame)) return null;
    if (frame.t === 'res') {
      if (typeof frame.seq === 'number' && frame.seq > this.lastSeq) this.lastSeq = frame.seq;
      if (frame.id === null) return frame;
      const p = this.pending.get(frame.id);
      if (!p) return frame;
      this.pending.delete(frame.id);
      this.clock.clearTimeout(p.timer);
      if (frame.ok) p.resolve(frame.data);
      else p.reject(fromWire(frame.error));
    } else if (frame.t === 'push') {
      if (frame.seq > this.lastSeq) this.lastSeq = frame.seq;
      this.receive(frame.event);
    }
    return frame;
  }

  private receive(event: ClientEvent): void {
    if (event.name === EVENT.USER_STATUS_UPDATED) {
      if (!Array.isArray(event.data)) return;
      for (const s of event.data) if (s && typeof s.userID === 'string') this.versions.set(s.userID, s.version);
    }
    else if (event.name === EVENT.KICKED_OUT) {
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

  private onClose(ws: Socket, code: number, reason: string): void {
    this.abandoned.delete(ws);
    if (ws !== this.ws) return;
    this.ws = null;
    this.socketAuthed = false;
    this.stopHeartbeat();
    this.failPending(lost(`closed (${code}${reason ? ` ${reason}` : ''})`));
    const was = this.state;
    if (this.state === 'destroyed' || this.link !== 'up' || (was !== 'connected' && was !== 'reconnecting')) {
      if (this.state !== 'destroyed') this.setState('idle');
      return;
    }
    // Not asked for: come back by itself, and resume if it was logged in (EXT-2). A server that refuses
    // the protocol is not retried, nor is a socket replaced by a newer one of this device (someone holding
    // this user's UserSig took the device over; fighting back would only bounce it between the two).
    if (code === 4400 || code === 4009 || !this.backoff) {
      this.setState('idle');
      return;
    }
    this.resumeWanted = this.userID !== null;
    this.setState('reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.backoff || this.reconnectTimer !== null) return;
    const n = this.attempt++;
    if (n === 0) {
      void this.tryReconnect();
      return;
    }
    const { minDelayMs, maxDelayMs, jitter } = this.backoff;
    const full = Math.min(maxDelayMs, minDelayMs * 2 ** (n - 1));
    const delay = Math.round(full * (1 - jitter * this.random()));
    this.retryAt = this.clock.now() + delay;
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = null;
      this.retryAt = null;
      void this.tryReconnect();
    }, delay);
  }

  private async tryReconnect(): Promise<void> {
    if (this.state === 'destroyed' || this.link !== 'up') return;
    try {
      await this.bringUp();
    } catch (e) {
      if (e instanceof StatusError && FINAL_RESUME_CODES.has(e.code)) {
        this.setState('connected');
        return;
      }
      if (this.ws && this.ws.readyState === OPEN) return; // a call's bring-up got there
      this.setState('reconnecting');
      this.scheduleReconnect();
    }
  }

  private cancelReconnect(): void {
    if (this.reconnectTimer !== null) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.retryAt = null;
    this.attempt = 0;
  }

  private startHeartbeat(ws: Socket): void {
    this.stopHeartbeat();
    this.heartbeatTimer = this.clock.setTimeout(() => {
      this.heartbeatTimer = null;
      if (ws !== this.ws || this.link !== 'up' || ws.readyState !== OPEN) return;
      void this.send('ping').catch(() => undefined);
      this.startHeartbeat(ws);
    }, Math.max(1, Math.floor(this.heartbeatMs / 2)));
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private closeSocket(ws: Socket): void {
    if (ws.readyState === OPEN || ws.readyState === CONNECTING) ws.close(1000, 'client closed');
  }

  /**
   * With no user logged in there is nothing to keep a socket (and its heartbeat timer) for: it closes, so that
   * a logged-out client does not hold the process (or a browser tab's socket) open. Any later call opens one.
   */
  private releaseIfIdle(): void {
    const ws = this.ws;
    if (this.userID !== null || this.state === 'destroyed' || !ws || this.pending.size > 0 || this.bringingUp || this.connecting) return;
    this.ws = null;
    this.socketAuthed = false;
    this.stopHeartbeat();
    this.cancelReconnect();
    // Quietly: the app asked for it (logout) or was told why (kickedOut); no netStateChange to add.
    this.state = 'idle';
    this.closeSocket(ws);
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

  private setState(next: ConnectionState): void {
    if (next === this.state) return;
    const prev = this.state;
    this.state = next;
    const wire = next === 'connected' ? 'connected' : next === 'reconnecting' ? 'reconnecting' : prev === 'connected' || prev === 'reconnecting' ? 'disconnected' : null;
    if (wire && next !== 'destroyed') this.emit({ name: EVENT.NET_STATE_CHANGE, data: { state: wire } });
  }
}
