// SqliteStore: the store contract (with reopen), and what only a file-backed store has: closing, refusing
// files that are not its own, schema versions, settings of durability, and memory/file agreement on failure.
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { TYPES } from '../../machines/spec';
import { SCHEMA_VERSION, SqliteStore, SqliteStoreError } from '../../src/store/sqlite';
import { commandEntry, dump, fill, statusRecord, storeContract } from './contract';
import { tempDir } from './tmp';

storeContract('SqliteStore', () => {
  const tmp = tempDir();
  const file = tmp.file();
  return { store: new SqliteStore(file), reopen: () => new SqliteStore(file), cleanup: tmp.remove };
});

storeContract('SqliteStore (synchronous FULL)', () => {
  const tmp = tempDir();
  const file = tmp.file();
  return {
    store: new SqliteStore(file, { synchronous: 'FULL' }),
    reopen: () => new SqliteStore(file, { synchronous: 'FULL' }),
    cleanup: tmp.remove,
  };
});

describe('SqliteStore', () => {
  const dirs: Array<{ remove: () => void }> = [];
  const stores: SqliteStore[] = [];
  const fresh = () => {
    const tmp = tempDir();
    dirs.push(tmp);
    return tmp;
  };
  const open = (file: string, options?: ConstructorParameters<typeof SqliteStore>[1]) => {
    const s = new SqliteStore(file, options);
    stores.push(s);
    return s;
  };
  /** The error a call throws, so tests can look at code, file and message. */
  const errorOf = (fn: () => unknown): SqliteStoreError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(SqliteStoreError);
      return e as SqliteStoreError;
    }
    throw new Error('expected a throw');
  };
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const d of dirs.splice(0)) d.remove();
  });

  it('creates the file with the current schema version, in WAL mode', () => {
    const file = fresh().file();
    open(file).close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('a closed store refuses every use with ERR_STORE_CLOSED naming the file; closing twice is harmless', () => {
    const file = fresh().file();
    const s = open(file);
    fill(s);
    s.close();
    s.close();
    for (const use of [
      () => s.hasUser('alice'),
      () => s.getStatus('alice'),
      () => s.subscribersOf('bob'),
      () => s.putStatus('alice', statusRecord(TYPES.USER_STATUS_ONLINE)),
      () => s.append(commandEntry(4, 'alice')),
      () => s.readJournal(1, 10),
      () => s.transaction(() => 1),
    ]) {
      const e = errorOf(use);
      expect(e.code).toBe('ERR_STORE_CLOSED');
      expect(e.message).toContain(file);
    }
  });

  it('a second store on a file already open is refused (ERR_STORE_LOCKED), and the first goes on', () => {
    const file = fresh().file();
    const first = open(file);
    first.addUsers(['a']);
    const e = errorOf(() => new SqliteStore(file, { busyTimeoutMs: 10 }));
    expect(e.code).toBe('ERR_STORE_LOCKED');
    expect(e.message).toContain(file);
    first.addUsers(['b']);
    first.close();
    expect([...open(file).userIDs()]).toEqual(['a', 'b']);
  });

  it('a file that is not a database: ERR_STORE_NOT_A_DATABASE naming it, and the file is left as it was', () => {
    const file = fresh().file('notes.txt');
    const text = 'these are my notes, not a database\n'.repeat(200);
    fs.writeFileSync(file, text);
    for (let i = 0; i < 2; i++) {
      const e = errorOf(() => new SqliteStore(file));
      expect(e.code).toBe('ERR_STORE_NOT_A_DATABASE');
      expect(e.message).toContain(file);
    }
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  it('another program’s SQLite database: ERR_STORE_FOREIGN, nothing written into it', () => {
    const file = fresh().file('other.db');
    const db = new Database(file);
    db.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts (name) VALUES ('x')");
    db.close();
    const bytes = fs.readFileSync(file);
    const e = errorOf(() => new SqliteStore(file));
    expect(e.code).toBe('ERR_STORE_FOREIGN');
    expect(e.message).toContain(file);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });

  it('a store written by a newer schema: ERR_STORE_TOO_NEW', () => {
    const file = fresh().file();
    open(file).close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const e = errorOf(() => new SqliteStore(file));
    expect(e.code).toBe('ERR_STORE_TOO_NEW');
    expect(e.message).toContain(`schema version ${SCHEMA_VERSION + 1}`);
  });

  it('an empty file (or an empty SQLite database) becomes a fresh store', () => {
    const file = fresh().file();
    fs.writeFileSync(file, '');
    const s = open(file);
    s.addUsers(['a']);
    s.close();
    expect([...open(file).userIDs()]).toEqual(['a']);
  });

  it('a damaged store: ERR_STORE_CORRUPT naming the file, every time it is opened', () => {
    const file = fresh().file();
    const s = open(file);
    s.addUsers(Array.from({ length: 2000 }, (_, i) => `user-${i}`));
    s.close();
    // Overwrite every page after the first (the schema) with garbage: the tables cannot be read back.
    const buf = fs.readFileSync(file);
    const pageSize = buf.readUInt16BE(16);
    expect(buf.length).toBeGreaterThan(pageSize * 3);
    buf.fill(0xa5, pageSize);
    fs.writeFileSync(file, buf);
    for (let i = 0; i < 2; i++) {
      const e = errorOf(() => new SqliteStore(file));
      expect(e.code).toBe('ERR_STORE_CORRUPT');
      expect(e.message).toContain(file);
    }
  });

  it('a record that is not JSON: ERR_STORE_CORRUPT names the table and the key', () => {
    const file = fresh().file();
    open(file).close();
    const db = new Database(file);
    db.prepare('INSERT INTO status (user_id, record) VALUES (?, ?)').run('alice', '{not json');
    db.close();
    const e = errorOf(() => new SqliteStore(file));
    expect(e.code).toBe('ERR_STORE_CORRUPT');
    expect(e.message).toContain("status 'alice'");
  });

  it('bad options and a bad path are refused with ERR_STORE_USAGE / ERR_STORE_OPEN', () => {
    const tmp = fresh();
    expect(errorOf(() => new SqliteStore(tmp.file(), { synchronous: 'OFF' as never })).code).toBe('ERR_STORE_USAGE');
    expect(errorOf(() => new SqliteStore('')).code).toBe('ERR_STORE_USAGE');
    const e = errorOf(() => new SqliteStore(`${tmp.dir}/no/such/dir/x.db`));
    expect(e.code).toBe('ERR_STORE_OPEN');
    expect(e.message).toContain('no/such/dir');
  });

  it('EXT-3 the journal keeps every entry on disk: nothing is trimmed, and seqs only grow', () => {
    const file = fresh().file();
    const s = open(file);
    s.transaction(() => {
      for (let seq = 1; seq <= 3000; seq++) s.append(commandEntry(seq, `u${seq % 7}`));
    });
    expect(s.firstSeq()).toBe(1);
    expect(s.readJournal(2999, 10).map((e) => e.seq)).toEqual([2999, 3000]);
    const e = errorOf(() => s.append(commandEntry(3000, 'u')));
    expect(e.code).toBe('ERR_STORE_USAGE');
    expect(s.lastSeq()).toBe(3000);
  });

  it('a failing SQL statement inside a transaction rolls back the file and the memory writes made before it', () => {
    const file = fresh().file();
    const s = open(file);
    fill(s);
    const before = dump(s);
    // The last statement cannot bind its value (an object where a userID goes), after three writes that did land.
    expect(() =>
      s.transaction(() => {
        s.addUsers(['zoe']);
        s.putStatus('zoe', statusRecord(TYPES.USER_STATUS_ONLINE, 'z', 4));
        s.append(commandEntry(4, 'zoe'));
        s.addUsers([{ not: 'a string' } as never]);
      }),
    ).toThrow(/parameter/);
    expect(dump(s)).toEqual(before);
    s.close();
    expect(dump(open(file))).toEqual(before);
  });

  it('a transaction whose function returns a promise is refused and leaves nothing behind', () => {
    const file = fresh().file();
    const s = open(file);
    expect(() =>
      s.transaction(() => {
        s.addUsers(['a']);
        return Promise.resolve(1);
      }),
    ).toThrow(/promise/);
    expect(s.hasUser('a')).toBe(false);
  });
});
