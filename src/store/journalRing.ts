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
/**
 * The commands most calls make, given by their fields (pushCommand), kept in columns, not as the object:
 * the ring holds 100,000 entries, so an object it kept would outlive every scavenge. r0 `by`, r1 the userID,
 * `to` the deviceId; `customAfter` the custom status (SET) or `from` the platform (LOGIN).
 */
const SET = 3;
const LOGIN = 4;
const LOGOUT = 5;
/** Whether a kind is a command (its r0 is `by`, not a userID). */
const isCommand = (kind: number): boolean => kind === COMMAND || kind >= SET;

const SET_KEYS = ['type', 'userID', 'customStatus', 'deviceId'];
const LOGIN_KEYS = ['type', 'userID', 'deviceId', 'platform'];
const LOGOUT_KEYS = ['type', 'userID', 'deviceId'];
/** Whether `c` has exactly these keys in this order (JSON of the entry made again is then the same). */
function keysAre(c: object, keys: readonly string[]): boolean {
  let j = 0;
  for (const k in c) if (k !== keys[j++]) return false;
  return j === keys.length;
}
/** The kind a command is kept as: columns if its fields are exactly those the columns make again, in order. */
function commandKind(c: Command): number {
  if (c.type === 'status.set') return typeof c.deviceId === 'string' && keysAre(c, SET_KEYS) ? SET : COMMAND;
  if (c.type === 'device.login') return keysAre(c, LOGIN_KEYS) ? LOGIN : COMMAND;
  if (c.type === 'device.logout') return keysAre(c, LOGOUT_KEYS) ? LOGOUT : COMMAND;
  return COMMAND;
}

/**
 * Entries are kept in blocks of this many: a full ring takes a new block (or its one spare) and never copies
 * what it holds, so keeping the newest 100,000 costs no pause as the journal fills (a ring that doubled its
 * columns copied up to 65,536 entries at once: 20-25 ms in one turn, which every caller then waited for).
 */
const BLOCK_SHIFT = 10;
const BLOCK = 1 << BLOCK_SHIFT;
const IN_BLOCK = BLOCK - 1;

const fitsByte = (n: unknown): n is number => typeof n === 'number' && (n & 255) === n;

const refs = (): unknown[] => new Array<unknown>(BLOCK).fill(undefined);

/** One block of entries, in columns: numbers in typed arrays, strings and commands by reference. */
class Block {
  readonly kind = new Uint8Array(BLOCK);
  readonly seq = new Float64Array(BLOCK);
  readonly at = new Float64Array(BLOCK);
  readonly cause = new Float64Array(BLOCK);
  readonly version = new Float64Array(BLOCK);
  readonly devices = new Float64Array(BLOCK);
  readonly typeBefore = new Uint8Array(BLOCK);
  readonly typeAfter = new Uint8Array(BLOCK);
  /** userID (transitions) or by (commands). */
  readonly r0 = refs();
  /** The command, or the whole entry (OTHER); for STATUS the event. */
  readonly r1 = refs();
  readonly reason = refs();
  readonly from = refs();
  readonly to = refs();
  readonly customBefore = refs();
  readonly customAfter = refs();

  /** Lets go of what the slots hold (a block kept as the spare must not keep old commands alive). */
  clear(): void {
    this.r0.fill(undefined);
    this.r1.fill(undefined);
    this.reason.fill(undefined);
    this.from.fill(undefined);
    this.to.fill(undefined);
    this.customBefore.fill(undefined);
    this.customAfter.fill(undefined);
  }
}

/** The fields a userStatus transition shares with the step it was made from (an entry or StatusStepFields). */
interface StatusFields {
  cause: number;
  userID: string;
  event: string;
  reason: unknown;
  from: string;
  to: string;
  before: { statusType: number; customStatus: string };
  after: { statusType: number; customStatus: string };
}

/** A userStatus transition into slot `i` of `b` (its seq and at written by the caller). */
function writeStatus(b: Block, i: number, t: StatusFields, version: number, devices: number): void {
  b.kind[i] = STATUS;
  b.cause[i] = t.cause;
  b.r0[i] = t.userID;
  b.r1[i] = t.event;
  b.reason[i] = t.reason;
  b.from[i] = t.from;
  b.to[i] = t.to;
  b.typeBefore[i] = t.before.statusType;
  b.customBefore[i] = t.before.customStatus;
  b.typeAfter[i] = t.after.statusType;
  b.customAfter[i] = t.after.customStatus;
  b.version[i] = version;
  b.devices[i] = devices;
}

export class JournalRing {
  /** The blocks in order; the oldest entry is at `start` of the first. */
  private readonly blocks: Block[] = [];
  /** A block the head let go of, kept for the tail's next one (so a steady ring allocates nothing). */
  private spare: Block | null = null;
  /** The oldest entry's slot in the first block. */
  private start = 0;
  private count = 0;

  /**
   * Heard before entries are dropped, with the seq of the newest one to go: the store keeps its replay start
   * ahead of the window with it (compaction, issue 9), while the entries are still there.
   */
  beforeDrop: ((lastDroppedSeq: number) => void) | null = null;

  get size(): number {
    return this.count;
  }

  /** The block of the k-th entry from the oldest (its slot there is `(start + k) & IN_BLOCK`). */
  private blockOf(k: number): Block {
    return this.blocks[(this.start + k) >>> BLOCK_SHIFT]!;
  }

  /** The block the next entry goes to, taking a new one when the last is full. */
  private tail(): Block {
    const b = (this.start + this.count) >>> BLOCK_SHIFT;
    if (b < this.blocks.length) return this.blocks[b]!;
    const next = this.spare ?? new Block();
    this.spare = null;
    this.blocks.push(next);
    return next;
  }

  push(e: JournalEntry): void {
    const b = this.tail();
    const i = (this.start + this.count) & IN_BLOCK;
    b.seq[i] = e.seq;
    b.at[i] = e.at;
    if (e.kind === 'command') {
      b.kind[i] = COMMAND;
      b.r0[i] = e.by;
      b.r1[i] = e.command;
    } else if (e.machine === 'userStatus' && fitsByte(e.before.statusType) && fitsByte(e.after.statusType)) {
      writeStatus(b, i, e, e.version, e.devices);
    } else {
      b.kind[i] = OTHER;
      b.r0[i] = e.userID;
      b.r1[i] = e;
    }
    this.count++;
  }

  /** A command entry by its fields (the same as push of the entry). */
  pushCommand(seq: number, at: number, by: string, command: Command): void {
    const b = this.tail();
    const i = (this.start + this.count) & IN_BLOCK;
    b.seq[i] = seq;
    b.at[i] = at;
    b.r0[i] = by;
    const kind = commandKind(command);
    b.kind[i] = kind;
    if (kind === COMMAND) b.r1[i] = command;
    else {
      const c = command as Extract<Command, { type: 'status.set' | 'device.login' | 'device.logout' }>;
      b.r1[i] = c.userID;
      b.to[i] = c.deviceId;
      if (c.type === 'status.set') b.customAfter[i] = c.customStatus;
      else if (c.type === 'device.login') b.from[i] = c.platform;
    }
    this.count++;
  }

  /** A userStatus transition by its fields (the same as push of the entry); `s` is not kept. */
  pushStatus(s: StatusStepFields): void {
    if (!fitsByte(s.before.statusType) || !fitsByte(s.after.statusType)) return this.push(statusEntry(s));
    const b = this.tail();
    const i = (this.start + this.count) & IN_BLOCK;
    b.seq[i] = s.seq;
    b.at[i] = s.at;
    writeStatus(b, i, s, s.after.version, s.after.devices.length);
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
    this.beforeDrop?.(this.seqAt(drop - 1));
    this.start += drop;
    this.count = keep;
    // Whole blocks the head has passed go; the last of them stays as the spare, emptied.
    while (this.start >= BLOCK) {
      const gone = this.blocks.shift()!;
      this.start -= BLOCK;
      if (this.spare === null) {
        gone.clear();
        this.spare = gone;
      }
    }
  }

  /** The newest entry kept (undefined: none). */
  last(): JournalEntry | undefined {
    return this.count > 0 ? this.entry(this.count - 1) : undefined;
  }

  /** The seq of the oldest entry kept (undefined: none). */
  firstSeq(): number | undefined {
    return this.count > 0 ? this.seqAt(0) : undefined;
  }

  /** Up to `limit` entries from the first whose seq is `fromSeq` or more, oldest first. */
  read(fromSeq: number, limit: number): JournalEntry[] {
    // Seqs only grow along the ring: the first entry to return is found by bisection.
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqAt(mid) < fromSeq) lo = mid + 1;
      else hi = mid;
    }
    const end = Math.min(this.count, lo + Math.max(0, limit));
    const out: JournalEntry[] = [];
    for (let k = lo; k < end; k++) out.push(this.entry(k));
    return out;
  }

  /** The transitions of one user, oldest first. */
  transitionsOf(userID: string): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (let k = 0; k < this.count; k++) {
      const b = this.blockOf(k);
      const i = (this.start + k) & IN_BLOCK;
      if (!isCommand(b.kind[i]!) && b.r0[i] === userID) out.push(this.entry(k));
    }
    return out;
  }

  private seqAt(k: number): number {
    return this.blockOf(k).seq[(this.start + k) & IN_BLOCK]!;
  }

  /** The k-th entry from the oldest, made again. */
  private entry(k: number): JournalEntry {
    const b = this.blockOf(k);
    const i = (this.start + k) & IN_BLOCK;
    const kind = b.kind[i];
    if (kind === OTHER) return b.r1[i] as JournalEntry;
    if (kind === COMMAND) return { seq: b.seq[i]!, at: b.at[i]!, kind: 'command', by: b.r0[i] as string, command: b.r1[i] as Extract<JournalEntry, { kind: 'command' }>['command'] };
    if (kind !== STATUS) return { seq: b.seq[i]!, at: b.at[i]!, kind: 'command', by: b.r0[i] as string, command: commandAt(b, i, kind as number) };
    const e: StatusTransition = {
      seq: b.seq[i]!,
      at: b.at[i]!,
      kind: 'transition',
      cause: b.cause[i]!,
      machine: 'userStatus',
      userID: b.r0[i] as string,
      event: b.r1[i] as string,
      reason: b.reason[i] as StatusTransition['reason'],
      from: b.from[i] as string,
      to: b.to[i] as string,
      before: { statusType: b.typeBefore[i] as StatusTransition['before']['statusType'], customStatus: b.customBefore[i] as string },
      after: { statusType: b.typeAfter[i] as StatusTransition['after']['statusType'], customStatus: b.customAfter[i] as string },
      version: b.version[i]!,
      devices: b.devices[i]!,
    };
    return e;
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

/** A command kept in columns (SET, LOGIN, LOGOUT), made again with its fields in the order the engine gives them. */
function commandAt(b: Block, i: number, kind: number): Command {
  const userID = b.r1[i] as string;
  const deviceId = b.to[i] as string;
  if (kind === SET) return { type: 'status.set', userID, customStatus: b.customAfter[i] as string, deviceId };
  if (kind === LOGIN) return { type: 'device.login', userID, deviceId, platform: b.from[i] as Extract<Command, { type: 'device.login' }>['platform'] };
  return { type: 'device.logout', userID, deviceId };
}
