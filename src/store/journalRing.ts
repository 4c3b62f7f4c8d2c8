// The in-memory journal (EXT-3): a ring of the newest entries kept in columns, numbers in typed arrays and
// strings and commands by reference, so that keeping an entry costs a few slot stores and no object of its own
// (the entry the engine built dies young); entries are made again, equal to what was appended, when read.
import type { Command, JournalEntry, StatusTransition } from '../records';
import type { StatusStepFields } from './types';

/** How many entries the in-memory journal keeps unless told otherwise (the oldest are dropped first). */
export const DEFAULT_JOURNAL_ENTRIES = 100_000;

/** A command entry: r0 its `by`, r1 its command. */
const COMMAND = 0;
/** A userStatus transition, in columns. */
const STATUS = 1;
/** Anything else (a subscriptions transition, or a status one whose numbers do not fit): r0 its userID, r1 the entry itself. */
const OTHER = 2;

const FIRST_CAPACITY = 1024;

const fitsByte = (n: unknown): n is number => typeof n === 'number' && (n & 255) === n;

export class JournalRing {
  private mask = 0;
  /** The slot of the oldest entry. */
  private head = 0;
  private count = 0;
  private kind = new Uint8Array(0);
  private seq = new Float64Array(0);
  private at = new Float64Array(0);
  private cause = new Float64Array(0);
  private version = new Float64Array(0);
  private devices = new Float64Array(0);
  private typeBefore = new Uint8Array(0);
  private typeAfter = new Uint8Array(0);
  /** userID (transitions) or by (commands). */
  private r0: unknown[] = [];
  /** The command, or the whole entry (OTHER); for STATUS the event. */
  private r1: unknown[] = [];
  private reason: unknown[] = [];
  private from: unknown[] = [];
  private to: unknown[] = [];
  private customBefore: unknown[] = [];
  private customAfter: unknown[] = [];

  /**
   * Heard before entries are dropped, with the seq of the newest one to go: the store keeps its replay start
   * ahead of the window with it (compaction, issue 9), while the entries are still there.
   */
  beforeDrop: ((lastDroppedSeq: number) => void) | null = null;

  get size(): number {
    return this.count;
  }

  push(e: JournalEntry): void {
    if (this.count === this.kind.length) this.grow();
    const i = (this.head + this.count) & this.mask;
    this.seq[i] = e.seq;
    this.at[i] = e.at;
    if (e.kind === 'command') {
      this.kind[i] = COMMAND;
      this.r0[i] = e.by;
      this.r1[i] = e.command;
    } else if (e.machine === 'userStatus' && fitsByte(e.before.statusType) && fitsByte(e.after.statusType)) {
      this.kind[i] = STATUS;
      this.cause[i] = e.cause;
      this.r0[i] = e.userID;
      this.r1[i] = e.event;
      this.reason[i] = e.reason;
      this.from[i] = e.from;
      this.to[i] = e.to;
      this.typeBefore[i] = e.before.statusType;
      this.customBefore[i] = e.before.customStatus;
      this.typeAfter[i] = e.after.statusType;
      this.customAfter[i] = e.after.customStatus;
      this.version[i] = e.version;
      this.devices[i] = e.devices;
    } else {
      this.kind[i] = OTHER;
      this.r0[i] = e.userID;
      this.r1[i] = e;
    }
    this.count++;
  }

  /** A command entry by its fields (the same as push of the entry). */
  pushCommand(seq: number, at: number, by: string, command: Command): void {
    if (this.count === this.kind.length) this.grow();
    const i = (this.head + this.count) & this.mask;
    this.seq[i] = seq;
    this.at[i] = at;
    this.kind[i] = COMMAND;
    this.r0[i] = by;
    this.r1[i] = command;
    this.count++;
  }

  /** A userStatus transition by its fields (the same as push of the entry); `s` is not kept. */
  pushStatus(s: StatusStepFields): void {
    if (!fitsByte(s.before.statusType) || !fitsByte(s.after.statusType)) return this.push(statusEntry(s));
    if (this.count === this.kind.length) this.grow();
    const i = (this.head + this.count) & this.mask;
    this.seq[i] = s.seq;
    this.at[i] = s.at;
    this.kind[i] = STATUS;
    this.cause[i] = s.cause;
    this.r0[i] = s.userID;
    this.r1[i] = s.event;
    this.reason[i] = s.reason;
    this.from[i] = s.from;
    this.to[i] = s.to;
    this.typeBefore[i] = s.before.statusType;
    this.customBefore[i] = s.before.customStatus;
    this.typeAfter[i] = s.after.statusType;
    this.customAfter[i] = s.after.customStatus;
    this.version[i] = s.after.version;
    this.devices[i] = s.after.devices.length;
    this.count++;
  }

  /** Forgets the newest entry (a rolled-back append). */
  pop(): void {
    if (this.count > 0) this.count--;
  }

  /** Forgets the oldest entries until at most `keep` are left. */
  trim(keep: number): void {
    const drop = this.count - keep;
    if (drop <= 0) return;
    this.beforeDrop?.(this.seq[(this.head + drop - 1) & this.mask] as number);
    this.head = (this.head + drop) & this.mask;
    this.count = keep;
  }

  /** The newest entry kept (undefined: none). */
  last(): JournalEntry | undefined {
    return this.count > 0 ? this.entry((this.head + this.count - 1) & this.mask) : undefined;
  }

  /** The seq of the oldest entry kept (undefined: none). */
  firstSeq(): number | undefined {
    return this.count > 0 ? this.seq[this.head] : undefined;
  }

  /** Up to `limit` entries from the first whose seq is `fromSeq` or more, oldest first. */
  read(fromSeq: number, limit: number): JournalEntry[] {
    // Seqs only grow along the ring: the first entry to return is found by bisection.
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.seq[(this.head + mid) & this.mask] as number) < fromSeq) lo = mid + 1;
      else hi = mid;
    }
    const end = Math.min(this.count, lo + Math.max(0, limit));
    const out: JournalEntry[] = [];
    for (let k = lo; k < end; k++) out.push(this.entry((this.head + k) & this.mask));
    return out;
  }

  /** The transitions of one user, oldest first. */
  transitionsOf(userID: string): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & this.mask;
      if (this.kind[i] !== COMMAND && this.r0[i] === userID) out.push(this.entry(i));
    }
    return out;
  }

  private entry(i: number): JournalEntry {
    const kind = this.kind[i];
    if (kind === OTHER) return this.r1[i] as JournalEntry;
    if (kind === COMMAND) return { seq: this.seq[i]!, at: this.at[i]!, kind: 'command', by: this.r0[i] as string, command: this.r1[i] as Extract<JournalEntry, { kind: 'command' }>['command'] };
    const e: StatusTransition = {
      seq: this.seq[i]!,
      at: this.at[i]!,
      kind: 'transition',
      cause: this.cause[i]!,
      machine: 'userStatus',
      userID: this.r0[i] as string,
      event: this.r1[i] as string,
      reason: this.reason[i] as StatusTransition['reason'],
      from: this.from[i] as string,
      to: this.to[i] as string,
      before: { statusType: this.typeBefore[i] as StatusTransition['before']['statusType'], customStatus: this.customBefore[i] as string },
      after: { statusType: this.typeAfter[i] as StatusTransition['after']['statusType'], customStatus: this.customAfter[i] as string },
      version: this.version[i]!,
      devices: this.devices[i]!,
    };
    return e;
  }

  /** Doubles the columns (the entries move to slots 0..count-1, oldest first). */
  private grow(): void {
    const cap = Math.max(FIRST_CAPACITY, this.kind.length * 2);
    const order = (n: number) => (this.head + n) & this.mask;
    const typed = <A extends Uint8Array | Float64Array>(old: A, make: (n: number) => A): A => {
      const next = make(cap);
      for (let k = 0; k < this.count; k++) next[k] = old[order(k)] as number;
      return next;
    };
    const refs = (old: unknown[]): unknown[] => {
      const next = new Array<unknown>(cap).fill(undefined);
      for (let k = 0; k < this.count; k++) next[k] = old[order(k)];
      return next;
    };
    const u8 = (n: number) => new Uint8Array(n);
    const f64 = (n: number) => new Float64Array(n);
    this.kind = typed(this.kind, u8);
    this.typeBefore = typed(this.typeBefore, u8);
    this.typeAfter = typed(this.typeAfter, u8);
    this.seq = typed(this.seq, f64);
    this.at = typed(this.at, f64);
    this.cause = typed(this.cause, f64);
    this.version = typed(this.version, f64);
    this.devices = typed(this.devices, f64);
    this.r0 = refs(this.r0);
    this.r1 = refs(this.r1);
    this.reason = refs(this.reason);
    this.from = refs(this.from);
    this.to = refs(this.to);
    this.customBefore = refs(this.customBefore);
    this.customAfter = refs(this.customAfter);
    this.head = 0;
    this.mask = cap - 1;
  }
}

/** The entry that `StatusStepFields` stand for (a store that keeps entries as objects builds it). */
export function statusEntry(s: StatusStepFields): StatusTransition {
  return {
    seq: s.seq,
    at: s.at,
    kind: 'transition',
    cause: s.cause,
    machine: 'userStatus',
    userID: s.userID,
    event: s.event,
    reason: s.reason,
    from: s.from,
    to: s.to,
    before: { statusType: s.before.statusType, customStatus: s.before.customStatus },
    after: { statusType: s.after.statusType, customStatus: s.after.customStatus },
    version: s.after.version,
    devices: s.after.devices.length,
  };
}
