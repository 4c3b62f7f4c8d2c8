// The SQLite store's journal retention (issue 9): the option, and the replay start kept in the file (tables
// replay_start and replay_start_rows, schema 3). A compaction pass copies the state tables into the replay
// start and deletes the entries retention lets go, in one SQLite transaction, so a crash leaves either the
// old start and the whole journal, or the new start and the kept entries.
import type Database from 'better-sqlite3';
import type { AccessContext } from '../../machines/access';
import { invalidParameter } from '../errors';
import type { Notice, PendingTimer } from '../records';
import { RECORD_FORMAT } from './format';
import { readSnapshot, SNAPSHOT_FORMAT, SNAPSHOT_KIND, type EngineMemory, type Snapshot, type StoredRecord } from './snapshot';

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

interface Head {
  kind: typeof SNAPSHOT_KIND;
  format: number;
  seq: number;
  at: number;
  settings: AccessContext;
  engine: EngineMemory;
}

/** The replay start in the file. Its writes run inside the caller's transaction. */
export class ReplayStartTable {
  private readonly q;

  constructor(private readonly db: Database.Database) {
    const copy = (part: string, key: string, value: string, table: string) =>
      db.prepare(`INSERT INTO replay_start_rows (part, key, value) SELECT '${part}', ${key}, ${value} FROM ${table} ORDER BY rowid`);
    this.q = {
      seq: db.prepare<[], number>('SELECT seq FROM replay_start WHERE id = 1').pluck(),
      head: db.prepare<[], string>('SELECT head FROM replay_start WHERE id = 1').pluck(),
      putHead: db.prepare<[number, string]>('INSERT INTO replay_start (id, seq, head) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, head = excluded.head'),
      rows: db.prepare<[], [string, string, string]>('SELECT part, key, value FROM replay_start_rows ORDER BY rowid').raw(),
      clear: db.prepare('DELETE FROM replay_start_rows'),
      copies: [
        copy('user', 'id', "''", 'users'),
        copy('status', 'user_id', 'record', 'status'),
        copy('subscriptions', 'user_id', 'record', 'subscriptions'),
        copy('friend', 'user_id', 'friend_id', 'friends'),
        copy('notice', 'user_id', 'notice', 'notices'),
        copy('timer', 'key', 'timer', 'timers'),
      ],
      drop: db.prepare<[number]>('DELETE FROM journal WHERE seq < ?'),
      firstAtOrAfter: db.prepare<[number], number | null>('SELECT MIN(seq) FROM journal WHERE at >= ?').pluck(),
      oldest: db.prepare<[], { seq: number; at: number }>('SELECT seq, at FROM journal ORDER BY seq LIMIT 1'),
      newestAt: db.prepare<[], number | null>('SELECT at FROM journal ORDER BY seq DESC LIMIT 1').pluck(),
    };
  }

  seq(): number | undefined {
    return this.q.seq.get();
  }

  /** The oldest entry kept, and the newest one's time (undefined: the journal is empty). */
  bounds(): { firstSeq: number; oldestAt: number; newestAt: number } | undefined {
    const o = this.q.oldest.get();
    return o ? { firstSeq: o.seq, oldestAt: o.at, newestAt: this.q.newestAt.get() ?? o.at } : undefined;
  }

  /** The state tables as they stand (at `seq`, between commands) become the replay start. */
  write(seq: number, at: number, settings: AccessContext, engine: EngineMemory): void {
    this.q.clear.run();
    for (const c of this.q.copies) c.run();
    const head: Head = { kind: SNAPSHOT_KIND, format: SNAPSHOT_FORMAT, seq, at, settings, engine };
    this.q.putHead.run(seq, JSON.stringify(head));
  }

  /** The first seq retention keeps when the last is `lastSeq` and the newest entry's time `newestAt`. */
  cut(r: Retention, lastSeq: number, newestAt: number): number {
    const byCount = lastSeq - r.maxEntries + 1;
    const byAge = r.maxAgeMs >= Number.MAX_SAFE_INTEGER ? 0 : (this.q.firstAtOrAfter.get(newestAt - r.maxAgeMs) ?? lastSeq + 1);
    return Math.max(byCount, byAge);
  }

  /** Deletes the entries before `cut`; returns how many went. */
  dropBefore(cut: number): number {
    return this.q.drop.run(cut).changes;
  }

  /** The replay start as a snapshot (undefined: none was written). Throws on content this build cannot read. */
  read(): Snapshot | undefined {
    const text = this.q.head.get();
    if (text === undefined) return undefined;
    const head = JSON.parse(text) as Head;
    const s = { ...head, users: [] as string[], status: [] as Array<[string, StoredRecord]>, subscriptions: [] as Array<[string, StoredRecord]>, friends: [] as Array<[string, string[]]>, notices: [] as Array<[string, Notice]>, timers: [] as PendingTimer[] };
    const friends = new Map<string, string[]>();
    for (const [part, key, value] of this.q.rows.iterate()) {
      if (part === 'user') s.users.push(key);
      else if (part === 'status') s.status.push([key, JSON.parse(value)]);
      else if (part === 'subscriptions') s.subscriptions.push([key, JSON.parse(value)]);
      else if (part === 'friend') {
        const list = friends.get(key);
        if (list) list.push(value);
        else friends.set(key, [value]);
      } else if (part === 'notice') s.notices.push([key, JSON.parse(value)]);
      else if (part === 'timer') {
        const { format, ...timer } = JSON.parse(value) as PendingTimer & { format?: number };
        if (format !== RECORD_FORMAT) throw new Error(`replay start timer '${key}' has format ${String(format)}`);
        s.timers.push(timer);
      } else throw new Error(`replay start row of unknown part '${part}'`);
    }
    s.friends = [...friends];
    return readSnapshot(s);
  }
}

export interface CompactionReport {
  /** The seq of the replay start written. */
  snapshotSeq: number;
  /** The oldest entry kept after the pass. */
  firstSeq: number;
  dropped: number;
  ms: number;
}

/** When a pass is due (counted without SQL after each write), and the pass itself. */
export class Compactor {
  /** The first entry kept, the oldest and newest entries' times, the replay start's seq. */
  kept = { firstSeq: 1, oldestAt: Infinity, newestAt: -Infinity, startSeq: undefined as number | undefined };
  last: CompactionReport | { error: Error } | null = null;
  private running = false;
  /** After a failed pass (a full disk), the next is tried once the journal grew by the slack again. */
  private retryAtSeq = 0;

  constructor(
    private readonly rs: ReplayStartTable,
    private readonly retention: Retention | undefined,
  ) {}

  fromFile(lastSeq: number, startSeq: number | undefined): void {
    const b = this.rs.bounds();
    this.kept = b ? { ...b, startSeq } : { firstSeq: lastSeq + 1, oldestAt: Infinity, newestAt: -Infinity, startSeq };
  }

  appended(at: number): void {
    if (this.kept.oldestAt === Infinity) this.kept.oldestAt = at;
    if (at > this.kept.newestAt) this.kept.newestAt = at;
  }

  /** Inside a restore's transaction: the state just written is the replay start. */
  restored(s: Snapshot): void {
    this.rs.write(s.seq, s.at, s.settings, s.engine);
    this.kept = { firstSeq: s.seq + 1, oldestAt: Infinity, newestAt: -Infinity, startSeq: s.seq };
  }

  /** Whether the journal is past its retention by more than the slack. */
  due(lastSeq: number): boolean {
    const r = this.retention;
    if (!r || this.running || lastSeq < this.retryAtSeq) return false;
    const count = lastSeq - this.kept.firstSeq + 1;
    return count > r.maxEntries + r.slackEntries || this.kept.newestAt - this.kept.oldestAt > r.maxAgeMs + r.slackMs;
  }

  run(lastSeq: number, settings: AccessContext, engine: EngineMemory, transaction: (fn: () => void) => void): CompactionReport {
    const t0 = performance.now();
    this.running = true;
    try {
      let dropped = 0;
      const newestAt = this.kept.newestAt;
      transaction(() => {
        this.rs.write(lastSeq, Number.isFinite(newestAt) ? newestAt : 0, settings, engine);
        if (this.retention) dropped = this.rs.dropBefore(this.rs.cut(this.retention, lastSeq, newestAt));
      });
      this.fromFile(lastSeq, lastSeq);
      const report = { snapshotSeq: lastSeq, firstSeq: this.kept.firstSeq, dropped, ms: performance.now() - t0 };
      this.last = report;
      return report;
    } catch (e) {
      this.last = { error: e as Error };
      this.retryAtSeq = lastSeq + (this.retention?.slackEntries ?? 0);
      throw e;
    } finally {
      this.running = false;
    }
  }
}
