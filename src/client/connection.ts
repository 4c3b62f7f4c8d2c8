// The remote client's link to the server: one socket at a time to one of its URLs (after a failure, the next
// one), the hello and the heartbeats, requests matched to their replies with a timeout, and only the frames
// it trusts. It decides nothing about the session: pushes, drops and state changes go to its owner (remote.ts).
import type { Platform } from '../../machines/spec';
import type { Clock } from '../clock';
import { StatusError } from '../errors';
import type { ClientEvent } from '../events';
import { WireCode } from '../protocol/codes';
import { PROTOCOL_VERSION, type Op, type ServerFrame } from '../protocol/messages';
import { fromWire, isFrame, lost } from './frames';
import { CONNECTING, OPEN, openSocket, type Socket } from './socket';

/** How long a new socket waits for the close event of one the server is closing, before ending it here. */
const CLOSING_WAIT_MS = 1000;

/** What the client's connection is doing (centrifuge-style explicit states). */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'destroyed';

/** What the connection tells the session that owns it. */
export interface ConnectionOwner {
  /** The app's link is up (DEV-1): heartbeats flow only then. */
  linkUp(): boolean;
  /** A frame carried this seq (EXT-2: everything up to it was heard). */
  heard(seq: number): void;
  push(event: ClientEvent): void;
  /** The current socket closed without this side asking (a drop, a refusal, a server gone). */
  dropped(code: number): void;
  changed(next: ConnectionState, prev: ConnectionState): void;
}

interface Pending {
  resolve(data: unknown): void;
  reject(err: StatusError): void;
  timer: unknown;
  promise: Promise<unknown>;
}

export class Connection {
  private current: ConnectionState = 'idle';
  private ws: Socket | null = null;
  private connecting: Promise<void> | null = null;
  /** Which of the URLs the next socket goes to. */
  private at = 0;
  /** Sockets left behind by network_lost: the server replaces them when the session resumes. */
  private readonly abandoned = new Set<Socket>();
  private heartbeatMs = 10_000;
  private heartbeatTimer: unknown = null;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  /** Counts the sockets let go on purpose: a connect under way stops trying further URLs when one is. */
  private letGo = 0;
  /** This socket has proved the UserSig (login, auth or resume). */
  authed = false;
  /** Each socket's close event, as a promise (see closed()). */
  private readonly gone = new WeakMap<Socket, Promise<void>>();

  constructor(
    private readonly urls: readonly URL[],
    private readonly device: { deviceId: string; platform: Platform },
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly owner: ConnectionOwner,
  ) {}

  get state(): ConnectionState {
    return this.current;
  }

  setState(next: ConnectionState): void {
    if (next === this.current) return;
    const prev = this.current;
    this.current = next;
    this.owner.changed(next, prev);
  }

  get isOpen(): boolean {
    return this.ws !== null && this.ws.readyState === OPEN;
  }

  get hasSocket(): boolean {
    return this.ws !== null;
  }

  /** Calls waiting for their answer, or a socket on its way up: not a moment to close. */
  get busy(): boolean {
    return this.pending.size > 0 || this.connecting !== null;
  }

  /** What sync() waits for. */
  waiting(): Promise<unknown>[] {
    return [...this.pending.values()].map((p) => p.promise);
  }

  /** An open socket that has said hello: the current one, or one to each URL in turn until one answers. */
  connect(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    if (this.connecting) return this.connecting;
    const letGo = this.letGo;
    const gone = this.closingNow();
    const after = () => {
      // Let go of on purpose (disconnect, destroy) while it waited: no socket goes up.
      if (this.letGo !== letGo || this.current === 'destroyed') throw lost('let go while the previous socket closed');
      return this.tryEach(letGo);
    };
    this.connecting = (gone ? this.closed(gone).then(after) : this.tryEach(letGo)).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /** The close event of the current socket if the server is closing it (its close frame is in, the event not yet). */
  private closingNow(): { ws: Socket; gone: Promise<void> } | null {
    const ws = this.ws;
    const gone = ws && ws.readyState !== OPEN && ws.readyState !== CONNECTING ? this.gone.get(ws) : undefined;
    return ws && gone ? { ws, gone } : null;
  }

  /**
   * The current socket is on its way out without this side asking (the server's close frame is in, its close
   * event not yet): that event comes first, so that the session hears the drop and its code before a new socket
   * goes up (else it would only prove its UserSig there, not resume: a dropped device's calls answered 2024).
   * Bounded: a closing handshake that does not finish is ended here.
   */
  private async closed({ ws, gone }: { ws: Socket; gone: Promise<void> }): Promise<void> {
    if (await this.within(gone, CLOSING_WAIT_MS)) return;
    ws.terminate();
    if (await this.within(gone, CLOSING_WAIT_MS)) return;
    // A platform socket, whose terminate() is only another close(): taken as dropped here, its late event ignored.
    this.onClose(ws, 1006, 'the closing handshake did not finish', () => undefined);
  }

  private within(p: Promise<void>, ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(false), ms);
      void p.then(() => {
        this.clock.clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private async tryEach(letGo: number): Promise<void> {
    for (let tried = 1; ; tried++) {
      try {
        return await this.open();
      } catch (e) {
        if (tried >= this.urls.length || this.letGo !== letGo || this.current === 'destroyed') throw e;
      }
    }
  }

  private open(): Promise<void> {
    if (this.current === 'idle') this.setState('connecting');
    const at = this.at;
    // A socket that fails moves the next one on to the next URL (once, however many ways it says so).
    const failed = () => {
      if (this.at === at) this.at = (at + 1) % this.urls.length;
    };
    return new Promise<void>((resolve, reject) => {
      const u = new URL(this.urls[at]!);
      u.searchParams.set('v', String(PROTOCOL_VERSION));
      u.searchParams.set('deviceId', this.device.deviceId);
      u.searchParams.set('platform', this.device.platform);
      let hello = false;
      let gone!: () => void;
      const closed = new Promise<void>((r) => (gone = r));
      const ws: Socket = openSocket(u, this.timeoutMs, this.clock, {
        message: (data) => {
          // Replies still come in on a socket being closed on purpose; a lost network delivers nothing.
          if (ws !== this.ws && (this.abandoned.has(ws) || this.current === 'destroyed')) return;
          const frame = this.onFrame(data);
          if (frame?.t === 'hello' && !hello) {
            hello = true;
            this.heartbeatMs = frame.heartbeatMs;
            this.startHeartbeat(ws);
            // A reconnect is 'connected' only once it has resumed (the session says so).
            if (this.current === 'connecting' || this.current === 'idle') this.setState('connected');
            resolve();
          }
        },
        close: (code, reason) => {
          if (!hello) reject(lost(`closed before hello (${code} ${reason})`));
          this.onClose(ws, code, reason, failed);
          gone();
        },
        error: (message) => {
          if (!hello) {
            failed();
            reject(lost(message));
          }
        },
      });
      this.ws = ws;
      this.gone.set(ws, closed);
      this.authed = false;
    });
  }

  send(op: Op, params?: unknown, ws = this.ws): Promise<unknown> {
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

  failPending(err: StatusError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      this.clock.clearTimeout(p.timer);
      p.reject(err);
    }
  }

  /** The socket is no longer this connection's (closed on purpose): returned for a goodbye, or null. */
  detach(): Socket | null {
    this.letGo++;
    return this.forget();
  }

  private forget(): Socket | null {
    const ws = this.ws;
    this.ws = null;
    this.authed = false;
    this.stopHeartbeat();
    return ws;
  }

  /** network_lost: the socket is left as it is, nothing is read from it; calls on it fail now. */
  abandon(): void {
    const ws = this.detach();
    if (ws) {
      this.abandoned.add(ws);
      this.failPending(lost('network lost'));
    }
  }

  /** The session was taken back: the server has replaced the sockets left behind. */
  dropAbandoned(): void {
    for (const a of this.abandoned) a.terminate();
    this.abandoned.clear();
  }

  /** Nothing left to keep a socket for: it closes, quietly (the app asked, or was told why). */
  release(): void {
    const ws = this.detach();
    this.current = 'idle';
    if (ws) close(ws);
  }

  /** For good: every call fails with `err`, every socket goes. */
  destroy(err: StatusError): void {
    this.setState('destroyed');
    const ws = this.detach();
    this.failPending(err);
    if (ws) close(ws);
    this.dropAbandoned();
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
      if (typeof frame.seq === 'number') this.owner.heard(frame.seq);
      if (frame.id === null) return frame;
      const p = this.pending.get(frame.id);
      if (!p) return frame;
      this.pending.delete(frame.id);
      this.clock.clearTimeout(p.timer);
      if (frame.ok) p.resolve(frame.data);
      else p.reject(fromWire(frame.error));
    } else if (frame.t === 'push') {
      this.owner.heard(frame.seq);
      this.owner.push(frame.event);
    }
    return frame;
  }

  private onClose(ws: Socket, code: number, reason: string, failed: () => void): void {
    this.abandoned.delete(ws);
    if (ws !== this.ws) return;
    failed();
    this.forget();
    this.failPending(lost(`closed (${code}${reason ? ` ${reason}` : ''})`));
    this.owner.dropped(code);
  }

  private startHeartbeat(ws: Socket): void {
    this.stopHeartbeat();
    this.heartbeatTimer = this.clock.setTimeout(() => {
      this.heartbeatTimer = null;
      if (ws !== this.ws || !this.owner.linkUp() || ws.readyState !== OPEN) return;
      void this.send('ping').catch(() => undefined);
      this.startHeartbeat(ws);
    }, Math.max(1, Math.floor(this.heartbeatMs / 2)));
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.clock.clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}

/** The closing handshake, if the socket is not already closing. */
export function close(ws: Socket): void {
  if (ws.readyState === OPEN || ws.readyState === CONNECTING) ws.close(1000, 'client closed');
}
