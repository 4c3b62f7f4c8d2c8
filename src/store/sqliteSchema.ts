// The SQLite store's file: its errors, its identity (application_id), its schema versions and their
// migrations (PRAGMA user_version), and the statements over its tables. Kept apart from src/store/sqlite.ts,
// the store itself.
import type Database from 'better-sqlite3';
import { RECORD_FORMAT, statusFromV1, subsFromV1, timerKeyFromV1, timerNamesFromV1 } from './format';

export type SqliteStoreErrorCode =
  /** The store was closed; the engine using it must not go on. */
  | 'ERR_STORE_CLOSED'
  /** The path cannot be opened (missing directory, no permission). */
  | 'ERR_STORE_OPEN'
  /** The file is not an SQLite database at all. */
  | 'ERR_STORE_NOT_A_DATABASE'
  /** An SQLite database of some other program. */
  | 'ERR_STORE_FOREIGN'
  /** Written by a newer status-engine whose schema this build does not know. */
  | 'ERR_STORE_TOO_NEW'
  /** A status-engine database whose content cannot be read back. */
  | 'ERR_STORE_CORRUPT'
  /** Another process has the file open (two engines on one file would diverge). */
  | 'ERR_STORE_LOCKED'
  /** A misuse of the store's own API (bad option, close inside a transaction, journal out of order). */
  | 'ERR_STORE_USAGE';

/** Every error of this store names the file, so an operator knows which data directory is at fault. */
export class SqliteStoreError extends Error {
  constructor(
    readonly code: SqliteStoreErrorCode,
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SqliteStoreError';
  }
}

/** 'SENG': marks a file as ours, so a foreign SQLite file is refused instead of being written into. */
export const APPLICATION_ID = 0x53454e47;

/**
 * Forward migrations: entry i takes the schema from version i to i + 1 (PRAGMA user_version). Append only;
 * never edit a released entry, since files in the field were made by it.
 */
export const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  (db) =>
    db.exec(`
      -- Rowid tables with ORDER BY rowid on load, so that reloaded Maps and Sets iterate in the order the
      -- engine filled them (timers due at the same instant fire in the same order after a restart).
      CREATE TABLE users (id TEXT PRIMARY KEY NOT NULL);
      CREATE TABLE status (user_id TEXT PRIMARY KEY NOT NULL, record TEXT NOT NULL);
      CREATE TABLE subscriptions (user_id TEXT PRIMARY KEY NOT NULL, record TEXT NOT NULL);
      -- One row per edge: friend_id is in user_id's list. The reverse direction is rebuilt on load.
      CREATE TABLE friends (user_id TEXT NOT NULL, friend_id TEXT NOT NULL, PRIMARY KEY (user_id, friend_id));
      CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);
      CREATE TABLE notices (user_id TEXT PRIMARY KEY NOT NULL, notice TEXT NOT NULL);
      CREATE TABLE timers (key TEXT PRIMARY KEY NOT NULL, timer TEXT NOT NULL);
      -- EXT-3: append-only and unbounded; user_id is set on transitions only (what journalOf reads).
      CREATE TABLE journal (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, user_id TEXT, entry TEXT NOT NULL);
      CREATE INDEX journal_by_user ON journal (user_id, seq) WHERE user_id IS NOT NULL;
    `),
  // Records and timers in format 2 (src/store/format.ts): by state value and delay name, not generated ids.
  (db) => toFormat2(db),
  // Compaction (issue 9): the replay start of a bounded journal (src/store/retention.ts). One head row (its
  // seq; its time, settings and the engine's memory as JSON) and its records, copied from the tables above in
  // their rowid order: part 'user' | 'status' | 'subscriptions' | 'friend' | 'notice' | 'timer'.
  (db) =>
    db.exec(`
      CREATE TABLE replay_start (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, head TEXT NOT NULL);
      CREATE TABLE replay_start_rows (part TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL);
    `),
  // A retention pass copies the state a few rows at a time while the store serves (src/store/startTable.ts):
  // the start's records by generation, the head naming the one that counts; ord is the record's rowid in
  // its own table (their order on load). A NULL key marks a rowid that holds no record of that start.
  (db) =>
    db.exec(`
      CREATE TABLE replay_start_items (
        gen INTEGER NOT NULL, part TEXT NOT NULL, ord INTEGER NOT NULL, key TEXT, value TEXT,
        PRIMARY KEY (gen, part, ord)
      ) WITHOUT ROWID;
      INSERT INTO replay_start_items (gen, part, ord, key, value) SELECT 0, part, rowid, key, value FROM replay_start_rows;
      DROP TABLE replay_start_rows;
      ALTER TABLE replay_start ADD COLUMN gen INTEGER NOT NULL DEFAULT 0;
    `),
];

/** Schema 1 -> 2: every record, timer and journaled timer key rewritten from the runner's ids to names. */
function toFormat2(db: Database.Database): void {
  const rows = (sql: string) => db.prepare<[], [string, string]>(sql).raw().all();
  const putStatus = db.prepare<[string, string]>('UPDATE status SET record = ? WHERE user_id = ?');
  for (const [id, text] of rows('SELECT user_id, record FROM status')) putStatus.run(JSON.stringify(statusFromV1(JSON.parse(text))), id);
  const putSubs = db.prepare<[string, string]>('UPDATE subscriptions SET record = ? WHERE user_id = ?');
  for (const [id, text] of rows('SELECT user_id, record FROM subscriptions')) putSubs.run(JSON.stringify(subsFromV1(JSON.parse(text))), id);
  const timers = rows('SELECT key, timer FROM timers ORDER BY rowid');
  db.exec('DELETE FROM timers');
  const putTimer = db.prepare<[string, string]>('INSERT INTO timers (key, timer) VALUES (?, ?)');
  for (const [key, text] of timers) {
    const t = JSON.parse(text) as { due: number; machine: string; owner: string; deviceId?: string; event: { type: string } };
    const names = timerNamesFromV1(t.machine, t.event.type);
    const next = { key: timerKeyFromV1(key), due: t.due, machine: t.machine, owner: t.owner, ...(t.deviceId === undefined ? {} : { deviceId: t.deviceId }), ...names, format: RECORD_FORMAT };
    putTimer.run(next.key, JSON.stringify(next));
  }
  // EXT-3: replaying an old journal fires its timers by today's keys.
  const putEntry = db.prepare<[string, number]>('UPDATE journal SET entry = ? WHERE seq = ?');
  for (const [seq, text] of db.prepare<[], [number, string]>(`SELECT seq, entry FROM journal WHERE entry LIKE '%"timer.fire"%'`).raw().all()) {
    const e = JSON.parse(text) as { kind: string; command?: { type: string; key: string } };
    if (e.kind !== 'command' || e.command?.type !== 'timer.fire') continue;
    e.command.key = timerKeyFromV1(e.command.key);
    putEntry.run(JSON.stringify(e), seq);
  }
}
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Refuses a file that is not ours before anything is written to it. */
export function checkOwnership(db: Database.Database, file: string): void {
  const appId = db.pragma('application_id', { simple: true }) as number;
  if (appId === APPLICATION_ID) return;
  const objects = db.prepare<[], number>("SELECT COUNT(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").pluck().get() ?? 0;
  const version = db.pragma('user_version', { simple: true }) as number;
  if (appId !== 0 || objects > 0 || version !== 0) {
    throw new SqliteStoreError(
      'ERR_STORE_FOREIGN',
      file,
      `${file} is an SQLite database of another program (application_id ${appId}, ${objects} tables/indexes): status-engine will not write into it`,
    );
  }
}

export function migrate(db: Database.Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new SqliteStoreError(
      'ERR_STORE_TOO_NEW',
      file,
      `the store ${file} has schema version ${version}; this status-engine knows versions up to ${SCHEMA_VERSION}: upgrade status-engine`,
    );
  }
  for (let v = version; v < SCHEMA_VERSION; v++) {
    const step = MIGRATIONS[v] as (db: Database.Database) => void;
    db.transaction(() => {
      step(db);
      if (v === 0) db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

const sqliteCode = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined;
export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** SQLite's own errors say what went wrong but not where: add the file and a code an operator can act on. */
export function translate(e: unknown, file: string): Error {
  if (e instanceof SqliteStoreError) return e;
  const code = sqliteCode(e) ?? '';
  const cause = { cause: e };
  if (code === 'SQLITE_NOTADB') {
    return new SqliteStoreError('ERR_STORE_NOT_A_DATABASE', file, `${file} is not a status-engine store (not an SQLite database): ${messageOf(e)}`, cause);
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new SqliteStoreError('ERR_STORE_CORRUPT', file, `the store ${file} is corrupt: ${messageOf(e)}; restore it from a backup`, cause);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new SqliteStoreError('ERR_STORE_LOCKED', file, `the store ${file} is in use by another process (is another status-engine running on it?)`, cause);
  }
  return new SqliteStoreError('ERR_STORE_OPEN', file, `cannot open the store ${file}: ${messageOf(e)}`, cause);
}

type S<P extends unknown[] = [], R = unknown> = Database.Statement<P, R>;
/** The SQLite store's statements over the tables above (src/store/sqlite.ts), named for declaration output. */
export interface Statements {
  addUser: S<[string]>;
  putStatus: S<[string, string]>;
  putSubs: S<[string, string]>;
  deleteSubs: S<[string]>;
  addFriend: S<[string, string]>;
  removeFriend: S<[string, string]>;
  putSettings: S<[string]>;
  putNotice: S<[string, string]>;
  deleteNotice: S<[string]>;
  putTimer: S<[string, string]>;
  deleteTimer: S<[string]>;
  append: S<[number, number, string | null, string]>;
  firstSeq: S<[], number | null>;
  lastSeq: S<[], number | null>;
  readJournal: S<[number, number], string>;
  journalOf: S<[string], string>;
}

export function prepare(db: Database.Database): Statements {
  return {
    addUser: db.prepare<[string]>('INSERT OR IGNORE INTO users (id) VALUES (?)'),
    putStatus: db.prepare<[string, string]>(
      'INSERT INTO status (user_id, record) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET record = excluded.record',
    ),
    putSubs: db.prepare<[string, string]>(
      'INSERT INTO subscriptions (user_id, record) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET record = excluded.record',
    ),
    deleteSubs: db.prepare<[string]>('DELETE FROM subscriptions WHERE user_id = ?'),
    addFriend: db.prepare<[string, string]>('INSERT OR IGNORE INTO friends (user_id, friend_id) VALUES (?, ?)'),
    removeFriend: db.prepare<[string, string]>('DELETE FROM friends WHERE user_id = ? AND friend_id = ?'),
    putSettings: db.prepare<[string]>(
      'INSERT INTO settings (id, value) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value',
    ),
    putNotice: db.prepare<[string, string]>(
      'INSERT INTO notices (user_id, notice) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET notice = excluded.notice',
    ),
    deleteNotice: db.prepare<[string]>('DELETE FROM notices WHERE user_id = ?'),
    putTimer: db.prepare<[string, string]>(
      'INSERT INTO timers (key, timer) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET timer = excluded.timer',
    ),
    deleteTimer: db.prepare<[string]>('DELETE FROM timers WHERE key = ?'),
    append: db.prepare<[number, number, string | null, string]>('INSERT INTO journal (seq, at, user_id, entry) VALUES (?, ?, ?, ?)'),
    firstSeq: db.prepare<[], number | null>('SELECT MIN(seq) FROM journal').pluck(),
    lastSeq: db.prepare<[], number | null>('SELECT MAX(seq) FROM journal').pluck(),
    readJournal: db.prepare<[number, number], string>('SELECT entry FROM journal WHERE seq >= ? ORDER BY seq LIMIT ?').pluck(),
    journalOf: db.prepare<[string], string>('SELECT entry FROM journal WHERE user_id = ? ORDER BY seq').pluck(),
  };
}
