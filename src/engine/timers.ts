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

export class DurableTimers {
  private readonly pending = new Map<string, PendingTimer>();
  private readonly handles = new Map<string, unknown>();
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

  all(): Iterable<PendingTimer> {
    return this.pending.values();
  }

  /** Schedules or cancels one machine instance's delayed events, inside the running command (undone with it). */
  apply(machine: PendingTimer['machine'], owner: string, ops: readonly TimerRequest[], deviceId?: string): void {
    if (ops.length === 0) return;
    for (const op of ops) {
      const key = timerKey(machine, owner, op.delay, deviceId);
      const old = this.pending.get(key);
      this.tx.onUndo(() => {
        this.disarm(key);
        if (old) this.arm(old);
      });
      this.disarm(key);
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
    this.disarm(key);
    this.store.deleteTimer(key);
    return t;
  }

  /** Arms every stored timer on the clock (at start, and after a replay). */
  rearm(): void {
    for (const t of [...this.store.timers()]) this.arm(t);
  }

  arm(t: PendingTimer): void {
    this.disarm(t.key);
    this.pending.set(t.key, t);
    if (this.replaying) return;
    const handle = this.clock.setTimeout(() => {
      this.handles.delete(t.key);
      if (this.closed || !this.pending.has(t.key)) return;
      try {
        this.fire(t.key);
      } catch {
        // The store refused it (a full disk): the command changed nothing and re-armed its timer a second
        // later (take's undo), so it is tried again rather than lost or crashing the process.
      }
    }, Math.max(0, t.due - this.clock.now()));
    this.handles.set(t.key, handle);
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

  private disarm(key: string): void {
    this.pending.delete(key);
    const h = this.handles.get(key);
    if (h !== undefined) {
      this.clock.clearTimeout(h);
      this.handles.delete(key);
    }
  }

  close(): void {
    this.closed = true;
    for (const h of this.handles.values()) this.clock.clearTimeout(h);
    for (const h of this.volatile.values()) this.clock.clearTimeout(h);
    this.handles.clear();
    this.volatile.clear();
  }
}
