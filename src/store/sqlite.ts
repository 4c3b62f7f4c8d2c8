// The durable embedded store: MemoryStore's maps stay the engine's read path, and every write also lands in
// one SQLite file (better-sqlite3, synchronous), committed before `transaction()` returns. `serve --data DIR`
// opens `new SqliteStore(path.join(DIR, 'status-engine.db'))`.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { AccessContext } from '../../machines/access';
import type { JournalEntry } from '../records';
import { RECORD_FORMAT, statusFromStored, statusToStored, subsFromStored, subsToStored } from './format';
import { MemoryStore } from './memory';
import { checkRetention, Compactor, type CompactionReport, type JournalRetention } from './retention';
import { ReplayStartTable, type Part } from './startTable';
import { emptyEngineMemory, type Snapshot } from './snapshot';
import { checkOwnership, messageOf, migrate, prepare, SqliteStoreError, translate, type Statements } from './sqliteSchema';
import type { Notice, PendingTimer, StatusRecord, Store, SubscriptionsRecord } from './types';

export type { CompactionReport, JournalRetention } from './retention';
export { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, SqliteStoreError, type SqliteStoreErrorCode } from './sqliteSchema';

export interface SqliteStoreOptions {
  /**
   * When a commit counts as done. The file is always in WAL mode.
   * - 'NORMAL' (default): a commit is written to the WAL (the OS holds it) before transaction() returns, so
   *   it survives the process crashing or being killed (kill -9). A power loss or OS crash may lose the
   *   last commits before the next checkpoint, but never leaves the file inconsistent.
   * - 'FULL': the WAL is also fsync'ed at every commit, so an acknowledged write survives power loss too;
   *   each commit then waits for the disk (see the write rates in the store's report / bench-writes.ts).
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long to wait for a lock held by another process before failing with ERR_STORE_LOCKED. Default 5000. */
  busyTimeoutMs?: number;
  /** The SQLite journal is bounded by `journalRetention` instead: this MemoryStore option does not apply. */
  journalMaxEntries?: never;
  /**
   * Compaction (issue 9): keep only this much of the journal on disk. After a write that takes the journal past
   * its bound (plus its slack), a pass copies the state into a new replay start and deletes the entries before
   * the bound, in steps of 1,000 rows or more, one after each command. Default: none, the whole journal is kept. See
   * src/store/retention.ts.
   */
  journalRetention?: JournalRetention;
}

const MAX_LIMIT = Number.MAX_SAFE_INTEGER;

const addTo = (index: Map<string, Set<string>>, key: string, value: string) => {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(value);
};


/**
 * A MemoryStore whose writes also land in SQLite. Reads never touch the file (except the journal, which
 * lives on disk only), so the engine runs as fast as on MemoryStore. Memory and file move together: a
 * transaction that throws rolls back the SQLite side (savepoints when nested) and, through MemoryStore's undo
 * log, the memory side, so a failed command changes nothing anywhere.
 */
export class SqliteStore extends MemoryStore implements Store {
  override readonly kind: string = 'sqlite';
  readonly file: string;
  private readonly db: Database.Database;
  private readonly q: Statements;
  private readonly txn: (fn: () => unknown) => unknown;
  private closed = false;
  private rs!: ReplayStartTable;
  private compactor!: Compactor;

  constructor(file: string, options: SqliteStoreOptions = {}) {
    super({ journalMaxEntries: 0 });
    const retention = checkRetention(options.journalRetention);
    if (typeof file !== 'string' || file === '') {
      throw new SqliteStoreError('ERR_STORE_USAGE', String(file), 'SqliteStore needs a file path (a non-empty string)');
    }
    this.file = file;
    const synchronous = options.synchronous ?? 'NORMAL';
    if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
      throw new SqliteStoreError('ERR_STORE_USAGE', file, `SqliteStore option synchronous must be 'NORMAL' or 'FULL', got ${JSON.stringify(synchronous)}`);
    }
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new SqliteStoreError('ERR_STORE_USAGE', file, `SqliteStore option busyTimeoutMs must be an integer >= 0, got ${busyTimeoutMs}`);
    }

    let db: Database.Database;
    try {
      db = new Database(file, { timeout: busyTimeoutMs });
    } catch (e) {
      throw new SqliteStoreError('ERR_STORE_OPEN', file, `cannot open the store ${file}: ${messageOf(e)}`, { cause: e });
    }
    try {
      // One process owns the file: a second engine on the same file would serve a diverging copy. The
      // exclusive lock is taken at the first read below and held until close (the OS drops it if we die).
      db.pragma('locking_mode = EXCLUSIVE');
      checkOwnership(db, file);
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new SqliteStoreError('ERR_STORE_OPEN', file, `the store ${file} cannot use WAL mode (got ${String(mode)})`);
      db.pragma(`synchronous = ${synchronous}`);
      // Keep the WAL file from staying at its high-water mark after a burst of writes.
      db.pragma('journal_size_limit = 67108864');
      migrate(db, file);
      this.db = db;
      this.q = prepare(db);
      this.rs = new ReplayStartTable(db);
      this.compactor = new Compactor(this.rs, retention);
      this.txn = db.transaction((fn: () => unknown) => fn());
      this.load();
    } catch (e) {
      db.close();
      throw translate(e, file);
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Loading: the whole state except the journal comes into the maps once, at open.

  private load(): void {
    const parse = <T>(text: string, table: string, key: string): T => {
      try {
        return JSON.parse(text) as T;
      } catch (e) {
        throw new SqliteStoreError('ERR_STORE_CORRUPT', this.file, `the store ${this.file} is corrupt: ${table} '${key}' is not valid JSON`, { cause: e });
      }
    };
    const rows = (sql: string) => this.db.prepare<[], [string, string]>(sql).raw().iterate();
    this.db.transaction(() => {
      for (const id of this.db.prepare<[], string>('SELECT id FROM users ORDER BY rowid').pluck().iterate()) this.users.add(id);
      for (const [id, text] of rows('SELECT user_id, record FROM status ORDER BY rowid')) {
        this.status.set(id, this.decode(() => statusFromStored(parse(text, 'status', id)), 'status', id));
      }
      for (const [id, text] of rows('SELECT user_id, record FROM subscriptions ORDER BY rowid')) {
        const record = this.decode(() => subsFromStored(parse(text, 'subscriptions', id)), 'subscriptions', id);
        this.subs.set(id, record);
        // NTF-2 (b): the reverse index is derived data, rebuilt from the lists rather than stored twice.
        for (const target of record.context.list) addTo(this.subscribers, target, id);
      }
      for (const [id, friend] of rows('SELECT user_id, friend_id FROM friends ORDER BY rowid')) {
        addTo(this.friends, id, friend);
        addTo(this.followers, friend, id);
      }
      const settings = this.db.prepare<[], string>('SELECT value FROM settings WHERE id = 1').pluck().get();
      if (settings !== undefined) this.settings = parse<AccessContext>(settings, 'settings', '1');
      for (const [id, text] of rows('SELECT user_id, notice FROM notices ORDER BY rowid')) {
        this.notices.set(id, parse<Notice>(text, 'notices', id));
      }
      for (const [key, text] of rows('SELECT key, timer FROM timers ORDER BY rowid')) {
        const { format, ...timer } = parse<PendingTimer & { format?: number }>(text, 'timers', key);
        if (format !== RECORD_FORMAT) throw new SqliteStoreError('ERR_STORE_CORRUPT', this.file, `the store ${this.file} is corrupt: timer '${key}' has format ${String(format)}`);
        this.pending.set(key, timer);
      }
      // A compacted journal may have no entry left after its replay start: the seq is the start's then.
      const startSeq = this.rs.seq();
      this.seq = Math.max(this.q.lastSeq.get() ?? 0, startSeq ?? 0);
      this.compactor.fromFile(this.seq, startSeq);
      this.compactor.opened(this.seq);
    })();
  }

  private decode<T>(read: () => T, table: string, key: string): T {
    try {
      return read();
    } catch (e) {
      if (e instanceof SqliteStoreError) throw e;
      throw new SqliteStoreError('ERR_STORE_CORRUPT', this.file, `the store ${this.file} is corrupt: ${table} '${key}': ${messageOf(e)}`, { cause: e });
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Transactions. Every write below runs its SQL first and then MemoryStore's write, which logs its own undo:
  // a failing statement leaves memory untouched, and a throw anywhere in `fn` unwinds both sides.

  override transaction<T>(fn: () => T): T {
    this.live();
    // Outside in: MemoryStore's log around better-sqlite3's transaction (a savepoint when nested). On a throw
    // SQLite has rolled back by the time the log reverts memory to the same point.
    const result = super.transaction(() => this.txn(fn) as T);
    if (this.txDepth === 0) this.afterCommand();
    return result;
  }

  /**
   * Between commands, where the state (and the engine's memory) stands at the last seq as a replay start
   * must: a retention pass begins when due, and a running one takes one step (src/store/retention.ts).
   */
  private afterCommand(): void {
    const c = this.compactor;
    // Never throws: the command has landed; a pass that fails is tried again later (lastCompaction holds why).
    try {
      if (!c.running) {
        if (!c.due(this.seq) || !this.settings) return;
        c.begin(this.seq, this.settings, this.memoryOfEngine);
      }
      c.step(this.seq, (fn) => this.txn(fn));
    } catch {
      // Recorded by the compactor.
    }
  }

  private readonly memoryOfEngine = () => this.engineMemory?.() ?? emptyEngineMemory();

  /** A write to `part`'s row keyed `key` (`existed`: the row is there), through the replay start's copy on write. */
  private change<A extends unknown[]>(part: Part, key: string[], existed: boolean, stmt: Database.Statement<A>, ...args: A): void {
    this.rs.write(this.compactor.copying, part, key, existed, stmt, ...args);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Compaction (issue 9): src/store/retention.ts.

  /**
   * One whole pass now, between commands: the state as it stands becomes the replay start, and the entries
   * before the retention's bound are deleted (a pass running in steps is given up for it). Without
   * `journalRetention` it keeps every entry and only writes the replay start.
   */
  compact(): CompactionReport {
    this.live();
    if (this.txDepth > 0) throw new SqliteStoreError('ERR_STORE_USAGE', this.file, `compact() runs between transactions (store ${this.file})`);
    const settings = this.settings;
    if (!settings) throw new SqliteStoreError('ERR_STORE_USAGE', this.file, `the store ${this.file} has no settings yet: open an engine on it first`);
    return this.compactor.run(this.seq, settings, this.memoryOfEngine, (fn) => this.txn(fn));
  }
  /** A consistent copy to `to` while serving: SQLite's online backup on this connection (no other may read the locked file). */
  backup(to: string): Promise<unknown> {
    this.live();
    return this.db.backup(to);
  }
  /** The database file and its write-ahead log, in bytes (for /metrics: the journal grows the file unless retention is set). */
  fileBytes(): number {
    let bytes = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        bytes += fs.statSync(f).size;
      } catch {
        // No WAL file between checkpoints, or the file is gone: nothing to count.
      }
    }
    return bytes;
  }
  /** The last compaction pass: what it kept and dropped and how long it took, or the error that stopped it. */
  get lastCompaction(): CompactionReport | { error: Error } | null {
    return this.compactor.last;
  }

  override replayStart(): Snapshot | undefined {
    this.live();
    try {
      return this.rs.read();
    } catch (e) {
      throw new SqliteStoreError('ERR_STORE_CORRUPT', this.file, `the store ${this.file} is corrupt: its replay start cannot be read: ${messageOf(e)}`, { cause: e });
    }
  }
  override replayStartSeq(): number | undefined {
    this.live();
    return this.compactor.kept.startSeq;
  }
  /** Inside restore's transaction: the state just written is the replay start. */
  protected override keepStart(snapshot: Snapshot): void {
    this.compactor.restored(snapshot);
  }

  /** Every write runs in a transaction (its own if the caller has none), so that memory and file agree. */
  private write<T>(op: () => T): T {
    return this.txDepth > 0 ? (this.live(), op()) : this.transaction(op);
  }

  private live(): void {
    if (this.closed) throw new SqliteStoreError('ERR_STORE_CLOSED', this.file, `the store ${this.file} is closed`);
  }

  override close(): void {
    if (this.closed) return;
    if (this.txDepth > 0) throw new SqliteStoreError('ERR_STORE_USAGE', this.file, `cannot close the store ${this.file} inside a transaction`);
    this.closed = true;
    this.compactor.abandon();
    this.db.close();
    this.users.clear();
    this.status.clear();
    this.subs.clear();
    this.subscribers.clear();
    this.friends.clear();
    this.followers.clear();
    this.notices.clear();
    this.pending.clear();
    this.settings = undefined;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Users.

  override hasUser(userID: string): boolean {
    this.live();
    return this.users.has(userID);
  }
  override userIDs(): Iterable<string> {
    this.live();
    return this.users;
  }
  override addUsers(userIDs: readonly string[]): string[] {
    return this.write(() => {
      // A duplicate in the list meets INSERT OR IGNORE; MemoryStore returns each new user once.
      for (const id of userIDs) if (!this.users.has(id)) this.change('user', [id], false, this.q.addUser, id);
      return super.addUsers(userIDs);
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Status and subscription records.

  override getStatus(userID: string): StatusRecord | undefined {
    this.live();
    return this.status.get(userID);
  }
  override putStatus(userID: string, record: StatusRecord): void {
    this.write(() => {
      this.change('status', [userID], this.status.has(userID), this.q.putStatus, userID, JSON.stringify(statusToStored(record)));
      super.putStatus(userID, record);
    });
  }

  override getSubscriptions(userID: string): SubscriptionsRecord | undefined {
    this.live();
    return this.subs.get(userID);
  }
  override putSubscriptions(userID: string, record: SubscriptionsRecord, delta: { added: string[]; removed: string[] }): void {
    this.write(() => {
      // Mirrors MemoryStore: an empty list in the resting state is no record at all.
      const existed = this.subs.has(userID);
      if (record.context.list.length === 0 && record.value === 'subscriptions.kept') {
        if (existed) this.change('subscriptions', [userID], true, this.q.deleteSubs, userID);
      } else this.change('subscriptions', [userID], existed, this.q.putSubs, userID, JSON.stringify(subsToStored(record)));
      super.putSubscriptions(userID, record, delta);
    });
  }
  override subscribersOf(userID: string): ReadonlySet<string> | undefined {
    this.live();
    return this.subscribers.get(userID);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Friends: both directions in memory, one row per edge on disk.

  override friendsOf(userID: string): ReadonlySet<string> | undefined {
    this.live();
    return this.friends.get(userID);
  }
  override followersOf(userID: string): ReadonlySet<string> | undefined {
    this.live();
    return this.followers.get(userID);
  }
  override addFriends(userID: string, friendIDs: readonly string[]): void {
    this.write(() => {
      const mine = this.friends.get(userID);
      for (const f of friendIDs) if (!mine?.has(f)) this.change('friend', [userID, f], false, this.q.addFriend, userID, f);
      super.addFriends(userID, friendIDs);
    });
  }
  override removeFriends(userID: string, friendIDs: readonly string[]): void {
    this.write(() => {
      const mine = this.friends.get(userID);
      for (const f of friendIDs) if (mine?.has(f)) this.change('friend', [userID, f], true, this.q.removeFriend, userID, f);
      super.removeFriends(userID, friendIDs);
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Settings, notices, timers.

  override getSettings(): AccessContext | undefined {
    this.live();
    return this.settings;
  }
  override putSettings(settings: AccessContext): void {
    this.write(() => {
      this.q.putSettings.run(JSON.stringify(settings));
      super.putSettings(settings);
    });
  }

  override getNotice(userID: string): Notice | undefined {
    this.live();
    return this.notices.get(userID);
  }
  override putNotice(userID: string, notice: Notice | undefined): void {
    this.write(() => {
      const existed = this.notices.has(userID);
      if (notice) this.change('notice', [userID], existed, this.q.putNotice, userID, JSON.stringify(notice));
      else if (existed) this.change('notice', [userID], true, this.q.deleteNotice, userID);
      super.putNotice(userID, notice);
    });
  }

  override putTimer(timer: PendingTimer): void {
    this.write(() => {
      this.change('timer', [timer.key], this.pending.has(timer.key), this.q.putTimer, timer.key, JSON.stringify({ ...timer, format: RECORD_FORMAT }));
      super.putTimer(timer);
    });
  }
  override deleteTimer(key: string): void {
    this.write(() => {
      if (!this.pending.has(key)) return;
      this.change('timer', [key], true, this.q.deleteTimer, key);
      super.deleteTimer(key);
    });
  }
  override timers(): Iterable<PendingTimer> {
    this.live();
    return this.pending.values();
  }

  // ---------------------------------------------------------------------------------------------------------
  // The journal (EXT-3): on disk only; memory keeps just the last seq.

  override append(entry: JournalEntry): void {
    this.write(() => {
      if (!Number.isSafeInteger(entry.seq) || entry.seq <= this.seq) {
        // Seqs only grow: a smaller one means two writers or an engine bug, and would break resume (EXT-2).
        throw new SqliteStoreError('ERR_STORE_USAGE', this.file, `journal seq ${entry.seq} must be an integer after the last seq ${this.seq} (store ${this.file})`);
      }
      this.q.append.run(entry.seq, entry.at, entry.kind === 'transition' ? entry.userID : null, JSON.stringify(entry));
      this.compactor.appended(entry.at);
      // With journalMaxEntries 0, MemoryStore keeps only the seq (and logs its undo).
      super.append(entry);
    });
  }
  override lastSeq(): number {
    this.live();
    return this.seq;
  }
  override firstSeq(): number {
    this.live();
    return this.q.firstSeq.get() ?? this.seq + 1;
  }
  override readJournal(fromSeq: number, limit: number): JournalEntry[] {
    this.live();
    const n = limit === Infinity ? MAX_LIMIT : Number.isFinite(limit) ? Math.min(Math.floor(limit), MAX_LIMIT) : 0;
    if (n <= 0) return [];
    const from = Number.isFinite(fromSeq) ? Math.floor(fromSeq) : fromSeq === -Infinity ? 0 : MAX_LIMIT;
    return this.q.readJournal.all(from, n).map((text) => JSON.parse(text) as JournalEntry);
  }
  override journalOf(userID: string): JournalEntry[] {
    this.live();
    return this.q.journalOf.all(userID).map((text) => JSON.parse(text) as JournalEntry);
  }
}

