// The SQLite store's journal retention (issue 9): the option, and the passes that bound the journal. A pass
// copies the state into a new replay start (src/store/startTable.ts), switches to it, then deletes what the
// old start needed and the entries retention lets go. It runs in steps of STEP_ROWS rows or more, one after each
// command, so the store keeps serving meanwhile; each step is its own transaction, and a crash at any point
// leaves a start and every entry after it.
import type { AccessContext } from '../../machines/access';
import { invalidParameter } from '../errors';
import type { EngineMemory, Snapshot } from './snapshot';
import type { Copy, ReplayStartTable } from './startTable';

export interface JournalRetention {
  /** Keep at most this many entries (the newest). */
  maxEntries?: number;
  /** Keep no entry older than this, counted back from the newest entry's time (the engine's clock). */
  maxAgeMs?: number;
  /**
   * How far past its bound the journal may grow before a pass runs, in entries (default maxEntries, at least
   * 1,000: the file holds between maxEntries and twice that); by age a pass runs once the oldest entry is a
   * tenth of maxAgeMs past it. A pass copies the whole state, so this spaces them out.
   */
  slackEntries?: number;
}

export interface Retention {
  maxEntries: number;
  maxAgeMs: number;
  slackEntries: number;
  slackMs: number;
}

const KEYS = ['maxEntries', 'maxAgeMs', 'slackEntries'];
/** The largest values accepted: beyond them a number is a mistake (a journal of 2^53 entries is never reached). */
const LIMITS = { maxEntries: 1e12, maxAgeMs: 100 * 365 * 86_400_000, slackEntries: 1e9 } as const;

/** Checks the option (6017 naming the field and its limit); undefined: no retention, the journal is kept whole. */
export function checkRetention(raw: unknown): Retention | undefined {
  if (raw === undefined) return undefined;
  const param = 'journalRetention';
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalidParameter(param, 'expected { maxEntries?, maxAgeMs?, slackEntries? }');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.includes(k)) throw invalidParameter(`${param}.${k}`, `unknown option (known: ${KEYS.join(', ')})`);
  const num = (k: keyof typeof LIMITS, min: number): number | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    const limit = LIMITS[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > limit) {
      throw invalidParameter(`${param}.${k}`, `expected a whole number from ${min} to ${limit}, got ${typeof v === 'number' ? v : typeof v}`, { limit });
    }
    return v;
  };
  const maxEntries = num('maxEntries', 0);
  const maxAgeMs = num('maxAgeMs', 1);
  const slack = num('slackEntries', 1);
  if (maxEntries === undefined && maxAgeMs === undefined) throw invalidParameter(param, 'expected maxEntries or maxAgeMs (or both)');
  return {
    maxEntries: maxEntries ?? Number.MAX_SAFE_INTEGER,
    maxAgeMs: maxAgeMs ?? Number.MAX_SAFE_INTEGER,
    slackEntries: slack ?? Math.max(1000, maxEntries ?? 0),
    slackMs: maxAgeMs === undefined ? 0 : Math.ceil(maxAgeMs / 10),
  };
}

export interface CompactionReport {
  /** The seq of the replay start written. */
  snapshotSeq: number;
  /** The oldest entry kept after the pass. */
  firstSeq: number;
  dropped: number;
  /** The time its steps held the event loop, in all. */
  ms: number;
  /** How many steps it took (one after each command while the store serves; one for compact()) and the longest. */
  steps: number;
  longestStepMs: number;
}

/**
 * Rows a step copies or deletes. At 2,000 a step held the loop 1-5 ms (median) at 100,000 users on a 2-core
 * machine, up to ~20 ms when SQLite's WAL checkpoint fell in it (as it falls in any write); 1,000 halves the
 * median for twice the steps (bench/store/compaction.ts).
 */
export const STEP_ROWS = 1000;
/** A step sized to its pass's slack takes at most this many times STEP_ROWS (~16 ms at 100k users here). */
const MAX_STEP_FACTOR = 16;

interface Pass {
  /** The start's seq; its copy (none: a pass that only deletes what one cut short by a crash left). */
  seq: number;
  copy: Copy | null;
  /** Copying; then deleting the old start's items; then the entries in [dropFrom, cut). */
  phase: 'copy' | 'items' | 'entries';
  /** Rows a step of this pass takes (see begin). */
  rows: number;
  cut: number;
  dropFrom: number;
  dropped: number;
  ms: number;
  steps: number;
  longest: number;
}

/** When a pass is due (counted without SQL after each write), and its steps. */
export class Compactor {
  /** The first entry kept, the oldest and newest entries' times, the replay start's seq. */
  kept = { firstSeq: 1, oldestAt: Infinity, newestAt: -Infinity, startSeq: undefined as number | undefined };
  last: CompactionReport | { error: Error } | null = null;
  stepRows = STEP_ROWS;
  private pass: Pass | null = null;
  /** After a failed pass (a full disk), the next is tried once the journal grew by the slack again. */
  private retryAtSeq = 0;

  constructor(
    private readonly rs: ReplayStartTable,
    private readonly retention: Retention | undefined,
  ) {}

  /** The copy a write must keep the start's rows for (src/store/startTable.ts), while one runs. */
  get copying(): Copy | undefined {
    return this.pass?.phase === 'copy' ? (this.pass.copy ?? undefined) : undefined;
  }
  get running(): boolean {
    return this.pass !== null;
  }

  fromFile(lastSeq: number, startSeq: number | undefined): void {
    const b = this.rs.bounds();
    this.kept = b ? { ...b, startSeq } : { firstSeq: lastSeq + 1, oldestAt: Infinity, newestAt: -Infinity, startSeq };
  }

  /**
   * At open: a pass that a crash or a close cut short may have left the rows of a copy, or of the start it
   * replaced, and with a retention the entries it was deleting. A pass that only deletes them runs in steps
   * (with or without a retention now), rather than waiting for the next whole copy.
   */
  opened(lastSeq: number): void {
    const startSeq = this.kept.startSeq;
    if (startSeq === undefined || !this.rs.hasOtherItems()) return;
    const p = this.newPass(startSeq, null, 'items');
    p.cut = this.retention ? Math.min(this.rs.cut(this.retention, lastSeq, this.kept.newestAt), startSeq + 1) : 0;
    p.dropFrom = this.kept.firstSeq;
    this.pass = p;
  }

  appended(at: number): void {
    if (this.kept.oldestAt === Infinity) this.kept.oldestAt = at;
    if (at > this.kept.newestAt) this.kept.newestAt = at;
  }

  /** Inside a restore's transaction: the state just written is the replay start. */
  restored(s: Snapshot): void {
    this.pass = null;
    this.rs.writeWhole(s.seq, s.at, s.settings, s.engine);
    this.kept = { firstSeq: s.seq + 1, oldestAt: Infinity, newestAt: -Infinity, startSeq: s.seq };
  }

  /** Whether the journal is past its retention by more than the slack (and no pass runs). */
  due(lastSeq: number): boolean {
    const r = this.retention;
    if (!r || this.pass || lastSeq < this.retryAtSeq) return false;
    const count = lastSeq - this.kept.firstSeq + 1;
    return count > r.maxEntries + r.slackEntries || this.kept.newestAt - this.kept.oldestAt > r.maxAgeMs + r.slackMs;
  }

  /**
   * A pass whose start is the state as it stands at `lastSeq` (between commands); a running one is given up.
   * It takes one step per command, so its steps are sized to end within a quarter of the slack's commands
   * (each command appends one entry or more; by age, the entries the slack's time brings at the journal's rate):
   * a pass longer than the slack would start the next at once, for good. So a bound small against the state (the rows a pass copies and deletes) means longer steps.
   * `engine` is read here, inside the failure handling. Throws what stopped it (recorded as for a step).
   */
  begin(lastSeq: number, settings: AccessContext, engine: () => EngineMemory): void {
    this.pass = null;
    try {
      const at = Number.isFinite(this.kept.newestAt) ? this.kept.newestAt : 0;
      const copy = this.rs.begin(lastSeq, at, settings, engine());
      const p = this.newPass(lastSeq, copy, 'copy');
      const slack = this.slackInEntries(lastSeq);
      if (slack !== undefined) {
        const work = 2 * this.rs.rowsOf(copy) + Math.max(0, lastSeq - this.kept.firstSeq + 1 - (this.retention?.maxEntries ?? 0));
        // At most MAX_STEP_FACTOR times the usual step: past that a pass may overrun its slack (a low rate
        // by age, a bound tiny against the state) rather than hold the loop for the whole state at once.
        p.rows = Math.min(this.stepRows * MAX_STEP_FACTOR, Math.max(this.stepRows, Math.ceil(work / Math.max(1, Math.floor(slack / 4)))));
      }
      this.pass = p;
    } catch (e) {
      this.failed(e, lastSeq);
      throw e;
    }
  }

  /**
   * The slack as a number of entries: the count's, and by age the entries the journal takes in its slack of time
   * at the rate it grew over the span it holds, at least a step's rows (at a low rate the estimate would size a
   * pass into one step; there an overrun costs a few entries) (undefined: no retention, or none to measure a rate by yet).
   */
  private slackInEntries(lastSeq: number): number | undefined {
    const r = this.retention;
    if (!r) return undefined;
    const byCount = r.maxEntries < Number.MAX_SAFE_INTEGER ? r.slackEntries : Infinity;
    const span = this.kept.newestAt - this.kept.oldestAt;
    const byAge = r.slackMs > 0 && span > 0 ? Math.max(this.stepRows, ((lastSeq - this.kept.firstSeq + 1) / span) * r.slackMs) : Infinity;
    const slack = Math.min(byCount, byAge);
    return Number.isFinite(slack) ? slack : undefined;
  }

  private newPass(seq: number, copy: Copy | null, phase: Pass['phase']): Pass {
    return { seq, copy, phase, rows: this.stepRows, cut: 0, dropFrom: 0, dropped: 0, ms: 0, steps: 0, longest: 0 };
  }

  private failed(e: unknown, lastSeq: number): void {
    this.pass = null;
    this.last = { error: e instanceof Error ? e : new Error(String(e)) };
    this.retryAtSeq = lastSeq + (this.retention?.slackEntries ?? 0);
  }

  /** Abandons a running pass (the store closes): its rows are deleted after the next pass that completes. */
  abandon(): void {
    this.pass = null;
  }

  /**
   * One step of the running pass, in its own transaction: up to `rows` rows copied or deleted. Returns the
   * pass's report once it is done. A step that throws (a full disk) gives the pass up: the start in use and
   * the journal are as they were before it, and the next pass is tried once the journal grew by the slack.
   */
  step(lastSeq: number, transaction: (fn: () => void) => void, rows?: number): CompactionReport | undefined {
    const p = this.pass;
    if (!p) return undefined;
    const t0 = performance.now();
    let switched = false;
    try {
      transaction(() => {
        let budget = rows ?? p.rows;
        if (p.phase === 'copy' && p.copy) {
          budget -= this.rs.copy(p.copy, budget);
          if (!this.rs.copied(p.copy)) return;
          this.rs.switchTo(p.copy);
          switched = true;
          // Entries after the new start stay whatever the retention says: replay needs them.
          const byRetention = this.retention ? this.rs.cut(this.retention, lastSeq, this.kept.newestAt) : 0;
          p.cut = Math.min(byRetention, p.seq + 1);
          p.dropFrom = this.rs.bounds()?.firstSeq ?? p.cut;
          p.phase = 'items';
        }
        if (p.phase === 'items' && budget > 0) {
          const n = this.rs.dropOldItems(budget);
          budget -= n;
          if (budget > 0) p.phase = 'entries';
        }
        if (p.phase === 'entries' && budget > 0) {
          const to = Math.min(p.cut, p.dropFrom + budget);
          p.dropped += this.rs.dropEntries(p.dropFrom, to);
          p.dropFrom = Math.max(p.dropFrom, to);
        }
      });
    } catch (e) {
      this.failed(e, lastSeq);
      throw e;
    }
    const ms = performance.now() - t0;
    p.ms += ms;
    p.steps++;
    p.longest = Math.max(p.longest, ms);
    if (switched) this.kept.startSeq = p.seq;
    if (p.phase !== 'entries' || p.dropFrom < p.cut) return undefined;
    this.pass = null;
    this.fromFile(lastSeq, p.seq);
    const report = { snapshotSeq: p.seq, firstSeq: this.kept.firstSeq, dropped: p.dropped, ms: p.ms, steps: p.steps, longestStepMs: p.longest };
    this.last = report;
    return report;
  }

  /** A whole pass at once (compact()): the state at `lastSeq` becomes the start. */
  run(lastSeq: number, settings: AccessContext, engine: () => EngineMemory, transaction: (fn: () => void) => void): CompactionReport {
    this.begin(lastSeq, settings, engine);
    for (;;) {
      const report = this.step(lastSeq, transaction, Number.MAX_SAFE_INTEGER);
      if (report) return report;
    }
  }
}
