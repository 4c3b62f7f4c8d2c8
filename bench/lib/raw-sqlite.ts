// Part 5's baseline: the baseline engine (bench/baseline.ts) made durable by hand with better-sqlite3: each
// setSelfStatus and the rows status-engine's SqliteStore would write for it (the command's journal entry, the
// transition's, the status record, as JSON) in one transaction, same schema, WAL mode and synchronous setting.
import Database from 'better-sqlite3';
import { BaselineDriver } from './drivers';
import { OP_SET, userOf, type World } from './world';

/** The baseline engine, made durable by hand: each operation and its rows in one SQLite transaction. */
export class RawSqliteBaseline extends BaselineDriver {
  override readonly name: string;
  private readonly db: Database.Database;
  private readonly txn: (w: World, i: number) => void;
  private seq = 0;

  constructor(file: string, synchronous: 'NORMAL' | 'FULL') {
    super();
    this.name = `raw-sqlite-${synchronous}`;
    const db = (this.db = new Database(file));
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.exec(`
      CREATE TABLE status (user_id TEXT PRIMARY KEY NOT NULL, record TEXT NOT NULL);
      CREATE TABLE journal (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, user_id TEXT, entry TEXT NOT NULL);
      CREATE INDEX journal_by_user ON journal (user_id, seq) WHERE user_id IS NOT NULL;
    `);
    const append = db.prepare<[number, number, string | null, string]>('INSERT INTO journal (seq, at, user_id, entry) VALUES (?, ?, ?, ?)');
    const put = db.prepare<[string, string]>(
      'INSERT INTO status (user_id, record) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET record = excluded.record',
    );
    this.txn = db.transaction((w: World, i: number) => {
      const userID = w.ids[userOf(w, w.dev[i]!)]!;
      const customStatus = w.status[i]!;
      const at = Date.now();
      const cause = ++this.seq;
      append.run(cause, at, null, JSON.stringify({ seq: cause, at, kind: 'command', by: userID, command: { type: 'status.set', userID, customStatus } }));
      const before = this.engine.recordOf(userID)!;
      const b = { statusType: before.statusType, customStatus: before.customStatus };
      super.run(w, i, i + 1);
      const r = this.engine.recordOf(userID)!;
      const context = {
        statusType: r.statusType,
        customStatus: r.customStatus,
        version: r.version,
        reason: 'custom_status_set',
        devices: r.devices.map((_, k) => ({ id: `${userID}-${k}`, platform: 'web', connected: true })),
        visibility: 'everyone',
      };
      put.run(userID, JSON.stringify({ value: 'userStatus.online', context, seq: cause }));
      const seq = ++this.seq;
      append.run(
        seq,
        at,
        userID,
        JSON.stringify({
          seq,
          at,
          kind: 'transition',
          cause,
          machine: 'userStatus',
          userID,
          event: 'STATUS.SET',
          reason: 'custom_status_set',
          from: 'online',
          to: 'online',
          before: b,
          after: { statusType: r.statusType, customStatus: r.customStatus },
          version: r.version,
          devices: r.devices.length,
        }),
      );
    });
  }

  override run(w: World, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      if (w.kind[i] !== OP_SET) throw new Error('the durable baseline runs setSelfStatus only');
      this.txn(w, i);
    }
  }

  override async close(): Promise<void> {
    this.db.close();
  }
}

