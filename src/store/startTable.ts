// The SQLite store's replay start in the file (schema 4: tables replay_start and replay_start_items), and the
// copy of the state tables into a new one a few rows at a time while the store keeps serving. Retention
// (src/store/retention.ts) decides when a pass runs and what it deletes; this file keeps the start right.
//
// A new start is written as a new generation of items beside the current one; the head row names the
// generation that counts, so switching to the new start is one row's update and a crash before it leaves the
// old start whole. While a copy runs, a write to a state row the copy has not reached first keeps the row's
// value at the start's seq in the new generation (copy on write); the copy then skips that row.
import type Database from 'better-sqlite3';
import type { AccessContext } from '../../machines/access';
import type { Notice, PendingTimer } from '../records';
import { RECORD_FORMAT } from './format';
import { readSnapshot, SNAPSHOT_FORMAT, SNAPSHOT_KIND, type EngineMemory, type Snapshot, type StoredRecord } from './snapshot';

/** A state table's part of the start: its rows copied as (key, value), in rowid order. */
export type Part = 'user' | 'status' | 'subscriptions' | 'friend' | 'notice' | 'timer';
const PARTS: ReadonlyArray<{ part: Part; table: string; key: string; value: string; where: string }> = [
  { part: 'user', table: 'users', key: 'id', value: "''", where: 'id = ?' },
  { part: 'status', table: 'status', key: 'user_id', value: 'record', where: 'user_id = ?' },
  { part: 'subscriptions', table: 'subscriptions', key: 'user_id', value: 'record', where: 'user_id = ?' },
  { part: 'friend', table: 'friends', key: 'user_id', value: 'friend_id', where: 'user_id = ? AND friend_id = ?' },
  { part: 'notice', table: 'notices', key: 'user_id', value: 'notice', where: 'user_id = ?' },
  { part: 'timer', table: 'timers', key: 'key', value: 'timer', where: 'key = ?' },
];

interface Head {
  kind: typeof SNAPSHOT_KIND;
  format: number;
  seq: number;
  at: number;
  settings: AccessContext;
  engine: EngineMemory;
}

/** A copy in progress: the start's seq and what it holds besides the tables, and how far each table is copied. */
export interface Copy {
  gen: number;
  seq: number;
  /** The head's JSON, taken when the copy began (settings and the engine's memory at `seq`). */
  head: string;
  /** Per part: rows with rowid in (done, max] are still to copy; max is the table's last rowid at `seq`. */
  done: number[];
  max: number[];
  /** The part being copied (PARTS.length: all copied). */
  at: number;
}

/** The replay start in the file. Every write runs inside the caller's transaction. */
export class ReplayStartTable {
  private readonly q;

  constructor(db: Database.Database) {
    const items = 'INSERT OR IGNORE INTO replay_start_items (gen, part, ord, key, value)';
    this.q = {
      head: db.prepare<[], { seq: number; gen: number; head: string }>('SELECT seq, gen, head FROM replay_start WHERE id = 1'),
      putHead: db.prepare<[number, number, string]>(
        'INSERT INTO replay_start (id, seq, gen, head) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, gen = excluded.gen, head = excluded.head',
      ),
      maxGen: db.prepare<[], number | null>('SELECT MAX(gen) FROM replay_start_items').pluck(),
      rows: db.prepare<[number], [string, string | null, string | null]>('SELECT part, key, value FROM replay_start_items WHERE gen = ? ORDER BY part, ord').raw(),
      // Below the current generation (a replaced start) and above it (a copy cut short), each by its key's range.
      dropBelow: db.prepare<[number, number]>(
        'DELETE FROM replay_start_items WHERE (gen, part, ord) IN (SELECT gen, part, ord FROM replay_start_items WHERE gen < ? LIMIT ?)',
      ),
      dropAbove: db.prepare<[number, number]>(
        'DELETE FROM replay_start_items WHERE (gen, part, ord) IN (SELECT gen, part, ord FROM replay_start_items WHERE gen > ? LIMIT ?)',
      ),
      other: db.prepare<[number, number], number>('SELECT 1 FROM replay_start_items WHERE gen < ? OR gen > ? LIMIT 1').pluck(),
      parts: PARTS.map((p) => ({
        maxRowid: db.prepare<[], number | null>(`SELECT MAX(rowid) FROM ${p.table}`).pluck(),
        // The rowid `n` rows past `done` (null: fewer are left): one step's end.
        stepEnd: db.prepare<[number, number], number | null>(`SELECT rowid FROM ${p.table} WHERE rowid > ? ORDER BY rowid LIMIT 1 OFFSET ?`).pluck(),
        copy: db.prepare<[number, number, number]>(`${items} SELECT ?, '${p.part}', rowid, ${p.key}, ${p.value} FROM ${p.table} WHERE rowid > ? AND rowid <= ? ORDER BY rowid`),
        keep: db.prepare(`${items} SELECT ?, '${p.part}', rowid, ${p.key}, ${p.value} FROM ${p.table} WHERE ${p.where} AND rowid > ? AND rowid <= ?`),
      })),
      // A NULL key: this rowid holds no row of the start (see absent()).
      absent: db.prepare<[number, string, number]>(`${items} VALUES (?, ?, ?, NULL, NULL)`),
      drop: db.prepare<[number, number]>('DELETE FROM journal WHERE seq >= ? AND seq < ?'),
      atFrom: db.prepare<[number], { seq: number; at: number }>('SELECT seq, at FROM journal WHERE seq >= ? ORDER BY seq LIMIT 1'),
      oldest: db.prepare<[], { seq: number; at: number }>('SELECT seq, at FROM journal ORDER BY seq LIMIT 1'),
      newestAt: db.prepare<[], number | null>('SELECT at FROM journal ORDER BY seq DESC LIMIT 1').pluck(),
    };
  }

  seq(): number | undefined {
    return this.q.head.get()?.seq;
  }

  /** The oldest entry kept, and the newest one's time (undefined: none). */
  bounds(): { firstSeq: number; oldestAt: number; newestAt: number } | undefined {
    const o = this.q.oldest.get();
    return o ? { firstSeq: o.seq, oldestAt: o.at, newestAt: this.q.newestAt.get() ?? o.at } : undefined;
  }

  /** Begins a new start at `seq` (the state tables as they stand, between commands): nothing is copied yet. */
  begin(seq: number, at: number, settings: AccessContext, engine: EngineMemory): Copy {
    const head: Head = { kind: SNAPSHOT_KIND, format: SNAPSHOT_FORMAT, seq, at, settings, engine };
    // Above every generation in the file, a copy abandoned by a crash or a failure included.
    const gen = Math.max(this.q.maxGen.get() ?? 0, this.q.head.get()?.gen ?? 0) + 1;
    return { gen, seq, head: JSON.stringify(head), done: PARTS.map(() => 0), max: PARTS.map((_, i) => this.q.parts[i]!.maxRowid.get() ?? 0), at: 0 };
  }

  /** Copies up to `rows` more rows (in rowid order, part after part); returns how many it looked at. */
  copy(c: Copy, rows: number): number {
    let n = 0;
    while (c.at < PARTS.length && n < rows) {
      const i = c.at;
      const q = this.q.parts[i]!;
      // The rows looked at, not those written: rows a write kept already are skipped, but read.
      const far = q.stepEnd.get(c.done[i]!, rows - n - 1);
      const end = Math.min(far ?? c.max[i]!, c.max[i]!);
      const wrote = Number(q.copy.run(c.gen, c.done[i]!, end).changes);
      n = far != null && far <= c.max[i]! ? rows : n + wrote + 1;
      c.done[i] = end;
      if (end >= c.max[i]!) c.at++;
    }
    return n;
  }

  copied(c: Copy): boolean {
    return c.at >= PARTS.length;
  }

  /** The rows a copy looks at, at most (the tables' last rowids at its seq). */
  rowsOf(c: Copy): number {
    return c.max.reduce((a, b) => a + b, 0);
  }

  /** Whether rows of another generation than the start's are in the file (what a pass cut short left). */
  hasOtherItems(): boolean {
    const gen = this.q.head.get()?.gen;
    return gen !== undefined && this.q.other.get(gen, gen) !== undefined;
  }

  /**
   * A write to `part`'s row keyed `key` (`existed`: the row is there). While a copy runs (`c`), what the new
   * start needs of the row is kept first, and a row inserted under a reused rowid is marked absent after.
   */
  write<A extends unknown[]>(c: Copy | undefined, part: Part, key: readonly string[], existed: boolean, stmt: Database.Statement<A>, ...args: A): void {
    if (!c) {
      stmt.run(...args);
      return;
    }
    if (existed) this.keep(c, part, key);
    const info = stmt.run(...args);
    if (!existed && info.changes > 0) this.inserted(c, part, info.lastInsertRowid);
  }

  /**
   * Before a write changes or deletes the row of `part` keyed `key`: the row's value at the start is kept
   * unless the copy has it already. `key` is the row's key columns, in the table's order.
   */
  keep(c: Copy, part: Part, key: readonly string[]): void {
    const i = PART_INDEX[part];
    if (c.done[i]! < c.max[i]!) this.q.parts[i]!.keep.run(c.gen, ...key, c.done[i]!, c.max[i]!);
  }

  /**
   * After a write inserted a row of `part` at `rowid`. SQLite gives a new row the highest rowid plus one, so
   * once the highest rows are deleted it hands out a rowid at or below the start's last one again; such a
   * row, in a stretch not copied yet, would be copied as if it had been there: its rowid is marked absent.
   */
  inserted(c: Copy, part: Part, rowid: number | bigint): void {
    const i = PART_INDEX[part];
    const r = Number(rowid);
    if (r > c.done[i]! && r <= c.max[i]!) this.q.absent.run(c.gen, part, r);
  }

  /** The copy becomes the replay start (one row: the head names its generation). */
  switchTo(c: Copy): void {
    if (c.at < PARTS.length) throw new Error(`the replay start at seq ${c.seq} is not copied yet`);
    this.q.putHead.run(c.seq, c.gen, c.head);
  }

  /** Deletes up to `rows` items of generations other than the current one; returns how many went. */
  dropOldItems(rows: number): number {
    const gen = this.q.head.get()?.gen;
    if (gen === undefined) return 0;
    const below = Number(this.q.dropBelow.run(gen, rows).changes);
    return below < rows ? below + Number(this.q.dropAbove.run(gen, rows - below).changes) : below;
  }

  /** The whole state at once (a restore), inside its transaction. */
  writeWhole(seq: number, at: number, settings: AccessContext, engine: EngineMemory): void {
    const c = this.begin(seq, at, settings, engine);
    this.copy(c, Number.MAX_SAFE_INTEGER);
    this.switchTo(c);
    while (this.dropOldItems(100_000) > 0);
  }

  /** The first seq retention keeps when the last is `lastSeq` and the newest entry's time `newestAt`. */
  cut(r: { maxEntries: number; maxAgeMs: number }, lastSeq: number, newestAt: number): number {
    const byCount = lastSeq - r.maxEntries + 1;
    const byAge = r.maxAgeMs >= Number.MAX_SAFE_INTEGER ? 0 : this.firstAtOrAfter(newestAt - r.maxAgeMs, lastSeq);
    return Math.max(byCount, byAge);
  }

  /**
   * The first seq whose entry is at `at` or later (lastSeq + 1: none), by halving over seqs (the entries' times
   * grow with their seqs: the engine's clock): a few lookups by key, where a search by time read every entry
   * older than it (`at` has no index, which would cost every append).
   */
  private firstAtOrAfter(at: number, lastSeq: number): number {
    let lo = this.q.oldest.get()?.seq;
    if (lo === undefined) return lastSeq + 1;
    let hi = lastSeq + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = this.q.atFrom.get(mid);
      if (e === undefined) hi = mid;
      else if (e.at >= at) hi = mid; // no entry in [mid, e.seq): cutting at mid is cutting at e.seq
      else lo = e.seq + 1;
    }
    return lo;
  }

  /** Deletes the entries with seq in [from, to); returns how many went. */
  dropEntries(from: number, to: number): number {
    return to > from ? Number(this.q.drop.run(from, to).changes) : 0;
  }

  /** The replay start as a snapshot (undefined: none was written). Throws on content this build cannot read. */
  read(): Snapshot | undefined {
    const h = this.q.head.get();
    if (h === undefined) return undefined;
    const head = JSON.parse(h.head) as Head;
    const s = { ...head, users: [] as string[], status: [] as Array<[string, StoredRecord]>, subscriptions: [] as Array<[string, StoredRecord]>, friends: [] as Array<[string, string[]]>, notices: [] as Array<[string, Notice]>, timers: [] as PendingTimer[] };
    const friends = new Map<string, string[]>();
    for (const [part, key, value] of this.q.rows.iterate(h.gen)) {
      if (key === null || value === null) continue; // a rowid marked absent
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

const PART_INDEX = Object.fromEntries(PARTS.map((p, i) => [p.part, i])) as Record<Part, number>;
