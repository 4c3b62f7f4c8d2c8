// The one timer mechanism of the engine: durable, through the store, armed on the injected clock, keyed by
// machine, owner (and device) and the machine's delay name. A timer's firing is a command (`timer.fire`),
// journaled and replayed like any other; a firing the store refuses is tried again a second later.
import type { Clock } from '../clock';
import { timerKey, type PendingTimer } from '../records';
import type { Store } from '../store/types';
import type { Transaction } from './transaction';

export interface TimerRequest {
  op: 'schedule' | 'cancel';
  delay: string;
  state: string;
  delayMs?: number;
}

/** The timers due at one instant: one clock timeout for all of them, fired in the order they were armed. */
interface Due {
  handle: unknown;
  timers: Set<PendingTimer>;
}

/** A machine's timers by delay, then owner (then device, for a link): the names the caller holds, no key made. */
type ByOwner = Map<string, PendingTimer | Map<string, PendingTimer>>;

export class DurableTimers {
  private readonly pending = new Map<string, PendingTimer>();
  private readonly index = new Map<PendingTimer['machine'], Map<string, ByOwner>>();
  /**
   * Armed timers by due time. Timers armed within the same millisecond share one clock timeout (a logout
   * arms its clearing timers, so a busy engine arms hundreds a second, most of them later cancelled).
   */
  private readonly dues = new Map<number, Due>();
  private readonly volatile = new Map<string, unknown>();
  /** Set while replaying: timers are recorded but never armed on the clock. */
  replaying = false;
  closed = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly tx: Transaction,
    /** Runs the `timer.fire` command of a due timer. */
    private readonly fire: (key: string) => void,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  get(key: string): PendingTimer | undefined {
    return this.pending.get(key);
  }

  /** The pending timer of one machine instance and delay, found by its names (no key is made). */
  find(machine: PendingTimer['machine'], owner: string, delay: string, deviceId?: string): PendingTimer | undefined {
    const t = this.index.get(machine)?.get(delay)?.get(owner);
    if (t === undefined || deviceId === undefined) return t instanceof Map ? undefined : t;
    return t instanceof Map ? t.get(deviceId) : undefined;
  }

  all(): Iterable<PendingTimer> {
    return this.pending.values();
  }

  /** Schedules or cancels one machine instance's delayed events, inside the running command (undone with it). */
  apply(machine: PendingTimer['machine'], owner: string, ops: readonly TimerRequest[], deviceId?: string): void {
    if (ops.length === 0) return;
    for (const op of ops) {
      const old = this.find(machine, owner, op.delay, deviceId);
      // Nothing to cancel: nothing changes (and nothing to undo).
      if (op.op === 'cancel' && old === undefined) continue;
      const key = old !== undefined ? old.key : timerKey(machine, owner, op.delay, deviceId);
      this.tx.onUndo(() => {
        this.disarmKey(key);
        if (old) this.arm(old);
      });
      if (old !== undefined) this.disarm(old);
      if (op.op === 'schedule') {
        const t: PendingTimer = { key, due: this.clock.now() + (op.delayMs ?? 0), machine, owner, delay: op.delay, state: op.state };
        if (deviceId !== undefined) t.deviceId = deviceId;
        this.store.putTimer(t);
        this.arm(t);
      } else {
        this.store.deleteTimer(key);
      }
    }
  }

  /** Takes a due timer out (its firing command is running); if that command fails, it is tried a second later. */
  take(key: string): PendingTimer | undefined {
    const t = this.pending.get(key);
    if (!t) return undefined;
    this.tx.onUndo(() => this.arm({ ...t, due: Math.max(t.due, this.clock.now() + 1000) }));
    this.disarm(t);
    this.store.deleteTimer(key);
    return t;
  }

  /** Arms every stored timer on the clock (at start, and after a replay). */
  rearm(): void {
    for (const t of [...this.store.timers()]) this.arm(t);
  }

  arm(t: PendingTimer): void {
    this.disarmKey(t.key);
    this.pending.set(t.key, t);
    this.indexed(t.machine, t.delay, true).set(t.owner, t.deviceId === undefined ? t : this.devicesOf(t).set(t.deviceId, t));
    if (this.replaying) return;
    let due = this.dues.get(t.due);
    if (due === undefined) {
      const at = t.due;
      const d: Due = { handle: undefined, timers: new Set() };
      d.handle = this.clock.setTimeout(() => this.wake(at, d), Math.max(0, at - this.clock.now()));
      this.dues.set(at, (due = d));
    }
    due.timers.add(t);
  }

  /** The clock timeout of one due time: its timers fire in the order they were armed, each still pending. */
  private wake(at: number, d: Due): void {
    // Timers armed from here on (by the firings) get a timeout of their own, as they did before they shared one.
    if (this.dues.get(at) === d) this.dues.delete(at);
    if (this.closed) return;
    for (const t of d.timers) {
      if (this.pending.get(t.key) !== t) continue;
      try {
        this.fire(t.key);
      } catch {
        // The store refused it (a full disk): the command changed nothing and re-armed its timer a second
        // later (take's undo), so it is tried again rather than lost or crashing the process.
      }
    }
  }

  /**
   * A wait that the store need not keep, on the same clock and keys: a flap's grace (EXT-7), and the heartbeat
   * timeout of a device found connected at start (whose record already says so, so a restart finds it again).
   * Its firing runs `fire`, whose own command is journaled; a firing the store refuses is given up silently.
   */
  armVolatile(key: string, ms: number, fire: () => void): void {
    this.cancelVolatile(key);
    const handle = this.clock.setTimeout(() => {
      if (this.volatile.get(key) !== handle || this.closed) return;
      this.volatile.delete(key);
      try {
        fire();
      } catch {
        // The store refused the command: whoever armed the wait re-arms it in the command's undo.
      }
    }, ms);
    this.volatile.set(key, handle);
  }

  cancelVolatile(key: string): void {
    const h = this.volatile.get(key);
    if (h === undefined) return;
    this.clock.clearTimeout(h);
    this.volatile.delete(key);
  }

  hasVolatile(key: string): boolean {
    return this.volatile.has(key);
  }

  private disarmKey(key: string): void {
    const t = this.pending.get(key);
    if (t !== undefined) this.disarm(t);
  }

  private disarm(t: PendingTimer): void {
    this.pending.delete(t.key);
    const byOwner = this.indexed(t.machine, t.delay, false);
    if (t.deviceId === undefined) {
      if (byOwner?.get(t.owner) === t) byOwner.delete(t.owner);
    } else {
      const devices = byOwner?.get(t.owner);
      if (devices instanceof Map && devices.get(t.deviceId) === t) {
        devices.delete(t.deviceId);
        if (devices.size === 0) byOwner!.delete(t.owner);
      }
    }
    const due = this.dues.get(t.due);
    if (due !== undefined && due.timers.delete(t) && due.timers.size === 0) {
      this.clock.clearTimeout(due.handle);
      this.dues.delete(t.due);
    }
  }

  private indexed(machine: PendingTimer['machine'], delay: string, make: true): ByOwner;
  private indexed(machine: PendingTimer['machine'], delay: string, make: false): ByOwner | undefined;
  private indexed(machine: PendingTimer['machine'], delay: string, make: boolean): ByOwner | undefined {
    let byDelay = this.index.get(machine);
    if (byDelay === undefined) {
      if (!make) return undefined;
      this.index.set(machine, (byDelay = new Map()));
    }
    let byOwner = byDelay.get(delay);
    if (byOwner === undefined && make) byDelay.set(delay, (byOwner = new Map()));
    return byOwner;
  }

  private devicesOf(t: PendingTimer): Map<string, PendingTimer> {
    const byOwner = this.indexed(t.machine, t.delay, true);
    const held = byOwner.get(t.owner);
    return held instanceof Map ? held : new Map();
  }

  close(): void {
    this.closed = true;
    for (const d of this.dues.values()) this.clock.clearTimeout(d.handle);
    for (const h of this.volatile.values()) this.clock.clearTimeout(h);
    this.dues.clear();
    this.volatile.clear();
  }
}
