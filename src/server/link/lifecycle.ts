// One socket's life, the same for the client protocol (hub.ts) and the Web SDK (timGateway.ts): the login
// deadline, quiet detection, the send budgets and slow-consumer cut, bind/replace and shutdown. The
// front-ends keep only their protocol mapping; every callback they hand in runs guarded, so neither a bad
// frame nor a refusing store escapes into a socket or timer callback.
import type WebSocket from 'ws';
import type { Clock } from '../../clock';
import { DEFAULTS } from '../defaults';
import { closeReason } from './bounds';
import { DueHeap, type Due } from './dueHeap';
import { Framed, heardClose, heardError, heardMessage, linkOf, setLink, tcpOf, type Corkable } from './socket';
import { OutboundBudget, type Buffered } from './budget';
import { Retrier, type RetryLogger } from './retry';

export interface LinkLogger extends RetryLogger {
  debug(obj: unknown, msg?: string): void;
}

/** The per-socket cap on unsent bytes: a client that stops reading is cut once this much waits for it. */
export const DEFAULT_MAX_BUFFERED_BYTES = DEFAULTS.maxBufferedBytes;

export interface LinkGroupOptions {
  clock: Clock;
  log: LinkLogger;
  /** Shared by the hub and the gateway (one process, one memory): default a group of its own. */
  budget?: OutboundBudget;
  /** Work owed to the engine (closed or silent links), retried until the store takes it. */
  retry?: Retrier;
  /** A socket with more unsent bytes than this is cut at once (terminated: its buffers go with it). */
  maxBufferedBytes?: number;
  /** No frame for this long and the front-end hears `onQuiet` (it makes the device link silent). 0: never. */
  quietMs: number;
  /** A socket that holds no logged-in device this long after it opened (or after it logged out) is closed. */
  loginDeadlineMs: number;
  /** Close codes; a slow consumer gets none (it is terminated: it would not read a close frame). */
  codes: { loginDeadline: number; replaced: number; shutdown: number };
}

/** What a front-end does with its socket; each runs inside a guard that logs what it throws. */
export interface LinkHooks {
  onFrame(data: Buffer, isBinary: boolean): void;
  /** The socket has been quiet for quietMs. If it throws (the store), it is retried while still quiet. */
  onQuiet?(): void;
  /** Whether the socket holds a logged-in device now (the login deadline spares it). */
  isAuthenticated(): boolean;
  /** The socket is gone (after any close or cut), exactly once. */
  onClose(code: number): void;
}

const OPEN = 1;
const CLOSED = 3;

/**
 * A socket holds at most this much of a turn's frames before writing them (a turn's push frames are a few
 * hundred bytes; one large frame is written at once). The cap on a reader's backlog is measured without
 * them, so a fast reader sent much in one turn is not taken for a slow one.
 */
export const HOLD_MAX_BYTES = 16 * 1024;

/** Process-wide, so that links of the hub and of the gateway never share a key in the shared retrier. */
let nextLinkId = 1;

/** The sockets of one front-end, with the settings they share. */
export class LinkGroup {
  readonly links = new Set<SocketLink>();
  readonly budget: OutboundBudget;
  readonly retry: Retrier;
  readonly maxBufferedBytes: number;
  closing = false;
  /** Links whose socket is corked for this turn's frames, uncorked together when the turn's work is done. */
  private readonly corked: SocketLink[] = [];
  private corkedCount = 0;
  /** Each link's next check (quiet, login deadline), on one clock timer for the group. */
  readonly due: DueHeap<SocketLink>;

  constructor(readonly o: LinkGroupOptions) {
    this.budget = o.budget ?? new OutboundBudget();
    this.retry = o.retry ?? new Retrier({ clock: o.clock, log: o.log });
    this.maxBufferedBytes = o.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.due = new DueHeap<SocketLink>(o.clock, (link) => link.fire());
  }

  open(ws: WebSocket, remote: string, hooks: LinkHooks): SocketLink {
    const link = new SocketLink(this, nextLinkId++, ws, remote, hooks);
    this.links.add(link);
    return link;
  }

  get size(): number {
    return this.links.size;
  }

  /**
   * Closes every socket (code `shutdown`) and waits for each, up to `graceMs` of real time (a shutdown must
   * end even on a simulated clock that stands still), then terminates what is left.
   */
  async shutdown(graceMs = 1000): Promise<void> {
    this.closing = true;
    await Promise.all([...this.links].map((l) => l.shutdown(graceMs)));
  }

  /**
   * A link corked its socket in this turn: at the turn's end (a microtask, after the frame or timer that
   * caused the sends, never a delay) every corked socket is uncorked, so that each writes its turn's frames,
   * in order, in one system call rather than one per frame.
   */
  hold(link: SocketLink): void {
    if (this.corkedCount === 0) queueMicrotask(this.flush);
    // The list keeps its length between turns (slots are overwritten, then cleared): no array grown again each turn.
    this.corked[this.corkedCount++] = link;
  }

  private readonly flush = (): void => {
    const list = this.corked;
    // A link held meanwhile (an uncork's callbacks may send) is appended, and flushed in this loop too.
    for (let i = 0; i < this.corkedCount; i++) {
      const link = list[i]!;
      list[i] = undefined as unknown as SocketLink;
      // One socket's failure must not leave the others corked.
      try {
        link.uncork();
      } catch (err) {
        this.o.log.error({ err }, "writing a turn's frames failed");
      }
    }
    this.corkedCount = 0;
  };

  /** Runs a front-end callback; what it throws is logged, never left to reach the socket or the timer. */
  guard(what: string, fn: () => void, extra?: Record<string, unknown>): void {
    try {
      fn();
    } catch (err) {
      this.o.log.error({ err, ...extra }, `${what} failed`);
    }
  }
}

export class SocketLink implements Buffered, Due {
  /** Set once the socket is closing or closed: nothing more is sent, no timer acts. */
  closing = false;
  private lastHeard: number;
  private quietReported = false;
  /**
   * The link's place in its group's heap of checks (./dueHeap.ts), for whichever comes first of its quiet
   * check and its login deadline; moved only when it falls due (or, after a quiet spell, when the socket
   * speaks again): a frame costs a clock read.
   */
  dueAt = Infinity;
  dueOrder = 0;
  dueSlot = -1;
  /** When the login deadline is checked next (Infinity: never). */
  private deadlineAt = Infinity;
  /** Who waits for the close (shutdown), made only when someone does. */
  private closedWaiters: Array<() => void> | null = null;
  private closedDone = false;
  /** The TCP socket, while corked for this turn's frames (LinkGroup.hold), and its backlog when corked. */
  private corkedOn: Corkable | null = null;
  private heldFrom = 0;

  constructor(
    /** @internal */ readonly group: LinkGroup,
    readonly id: number,
    readonly ws: WebSocket,
    readonly remote: string,
    private readonly hooks: LinkHooks,
  ) {
    const { clock, loginDeadlineMs } = group.o;
    this.lastHeard = clock.now();
    if (loginDeadlineMs > 0) this.deadlineAt = this.lastHeard + loginDeadlineMs;
    setLink(ws, this);
    ws.on('message', heardMessage);
    ws.on('close', heardClose);
    ws.on('error', heardError);
    this.schedule();
  }

  /** The key of this socket's owed engine work in the retrier. */
  key(what: string): string {
    return `link:${this.id}:${what}`;
  }

  // -------------------------------------------------------------------------------------------------------
  // Uplink.

  /** @internal (the socket's shared listener) */
  onMessage(raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.closing || this.group.closing) return;
    this.lastHeard = this.group.o.clock.now();
    if (this.quietReported) {
      // It spoke after a quiet spell: no longer quiet, whatever was owed; the quiet check starts again.
      this.quietReported = false;
      this.group.retry.cancel(this.key('quiet'));
      this.schedule();
    }
    // The per-connection request budget (src/server/requestBudget.ts) belongs here, before the front-end
    // reads the frame: an over-budget frame is answered by the front-end's protocol or dropped.
    const data = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    try {
      this.hooks.onFrame(data, isBinary);
    } catch (err) {
      this.group.o.log.error({ err, remote: this.remote }, 'frame handling failed');
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Timers, on the injected clock.

  /** When the socket counts as quiet, unless it speaks first (Infinity: not watched, or already reported). */
  private quietAt(): number {
    const { quietMs } = this.group.o;
    return quietMs <= 0 || !this.hooks.onQuiet || this.quietReported ? Infinity : this.lastHeard + quietMs;
  }

  /** Sets the next check at the earlier of the quiet check and the login deadline, unless one comes by then already. */
  private schedule(): void {
    if (this.closing) return;
    const due = Math.min(this.quietAt(), this.deadlineAt);
    if (due === Infinity || (this.dueSlot >= 0 && this.dueAt <= due)) return; // early enough: it looks again then
    this.group.due.set(this, due);
  }

  /** @internal (the group's heap: this link's check fell due) */
  fire(): void {
    if (this.closing) return;
    const { clock, loginDeadlineMs, quietMs, codes } = this.group.o;
    const now = clock.now();
    if (now >= this.deadlineAt) {
      let authenticated = false;
      this.group.guard('login deadline', () => (authenticated = this.hooks.isAuthenticated()));
      // Checked again a deadline later: a socket that logs out must log in again within one more.
      if (!authenticated) return this.close(codes.loginDeadline, 'no login in time');
      this.deadlineAt = now + loginDeadlineMs;
    }
    if (!this.group.closing && this.quietAt() !== Infinity && now - this.lastHeard >= quietMs) {
      this.quietReported = true;
      const heardAt = this.lastHeard;
      this.group.retry.run(this.key('quiet'), 'silent link', () => {
        if (this.closing || this.lastHeard !== heardAt) return;
        this.hooks.onQuiet!();
      });
    }
    this.schedule();
  }

  private clearTimers(): void {
    this.group.due.remove(this);
    if (this.quietReported) this.group.retry.cancel(this.key('quiet'));
  }

  // -------------------------------------------------------------------------------------------------------
  // Downlink, within the budgets.

  buffered(): number {
    return this.closing ? 0 : this.ws.bufferedAmount;
  }

  /**
   * Sends a frame, or one built by `build` (its encoding may throw: logged, nothing sent); a frame encoded
   * once for many sockets comes as it is. A socket past its own cap, or one the global budget picks, is cut
   * instead. False when nothing was sent.
   */
  send(build: string | Buffer | Framed | (() => string | Buffer), binary: boolean): boolean {
    if (this.closing || this.ws.readyState !== OPEN) return false;
    const max = this.group.maxBufferedBytes;
    // The reader's backlog: what was unsent when this turn began (the frames this turn holds are not its).
    const backlog = this.corkedOn ? this.heldFrom : this.ws.bufferedAmount;
    if (backlog > max) {
      this.cut(`too slow: over the limit maxBufferedBytes = ${max} unsent`);
      return false;
    }
    let data: string | Buffer | Framed;
    if (typeof build !== 'function') data = build;
    else {
      try {
        data = build();
      } catch (err) {
        this.group.o.log.error({ err, remote: this.remote }, 'a reply could not be encoded: dropped');
        return false;
      }
    }
    if (this.corkedOn === null) {
      const tcp = tcpOf(this.ws);
      if (tcp) {
        tcp.cork();
        this.corkedOn = tcp;
        this.heldFrom = backlog;
        this.group.hold(this);
      }
    }
    // Corked, the frame waits in the socket's own queue (bufferedAmount counts it, and so does the global
    // budget). A turn holds at most HOLD_MAX_BYTES a socket: past it, what it holds is written now.
    // A payload made once (one change's push to all its recipients) is handed to ws as it is: ws frames it
    // without copying it (a header of its own), and the cork above makes header and payload one write.
    if (data instanceof Framed) this.ws.send(data.payload, { binary: data.binary });
    else this.ws.send(data, { binary });
    if (this.corkedOn && this.ws.bufferedAmount - this.heldFrom >= HOLD_MAX_BYTES) this.uncork();
    this.group.budget.note(this, this.ws.bufferedAmount);
    return true;
  }

  /**
   * The turn is over: the socket writes what it holds (a socket cut or terminated meanwhile drops it), and
   * the global budget learns what is left unsent.
   */
  uncork(): void {
    const tcp = this.corkedOn;
    if (tcp === null) return;
    this.corkedOn = null;
    tcp.uncork();
    if (!this.closing) this.group.budget.note(this, this.ws.bufferedAmount);
  }

  // -------------------------------------------------------------------------------------------------------
  // Endings.

  /** A polite close (the client sees `code`); the front-end hears onClose when it is done. */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.clearTimers();
    this.group.budget.forget(this);
    try {
      this.ws.close(code, closeReason(reason));
    } catch {
      this.ws.terminate();
    }
  }

  /** The device moved to a newer socket of the same client. */
  replaced(reason = 'replaced by a newer connection of this device'): void {
    this.close(this.group.o.codes.replaced, reason);
  }

  /**
   * Ends a client too slow to keep: terminated, not closed, so that its unread buffers are freed now rather
   * than after a close handshake it would never read (ws waits 30 s for it). It reconnects and resumes.
   */
  cut(why: string): void {
    if (this.closing) return;
    this.group.o.log.warn({ remote: this.remote, buffered: this.ws.bufferedAmount, why }, 'client too slow: socket cut');
    this.closing = true;
    this.clearTimers();
    this.group.budget.forget(this);
    this.ws.terminate();
  }

  shutdown(graceMs: number): Promise<void> {
    if (this.ws.readyState === CLOSED || this.closedDone) return Promise.resolve();
    const closed = new Promise<void>((resolve) => (this.closedWaiters ??= []).push(resolve));
    const t = setTimeout(() => this.ws.terminate(), graceMs);
    t.unref();
    void closed.then(() => clearTimeout(t));
    if (this.ws.readyState === OPEN) this.ws.close(this.group.o.codes.shutdown, 'server shutting down');
    else if (this.closing) this.ws.terminate();
    this.closing = true;
    this.clearTimers();
    return closed;
  }

  /** @internal (the socket's shared listener) */
  onClosed(code: number): void {
    if (this.closedDone) return;
    this.closedDone = true;
    this.closing = true;
    this.clearTimers();
    const waiters = this.closedWaiters;
    this.closedWaiters = null;
    if (waiters) for (const w of waiters) w();
    this.group.budget.forget(this);
    this.group.links.delete(this);
    this.group.guard('socket close', () => this.hooks.onClose(code), { remote: this.remote });
  }

  /** Whether the front-end holds a logged-in device (or a relay) on this socket now. */
  loggedIn(): boolean {
    if (this.closing) return false;
    let yes = false;
    this.group.guard('login check', () => (yes = this.hooks.isAuthenticated()), { remote: this.remote });
    return yes;
  }
}

/** Whether the socket `ws` holds a logged-in device (or a relay) now; false for one no front-end took. */
export function socketAuthenticated(ws: WebSocket): boolean {
  return linkOf(ws)?.loggedIn() ?? false;
}
