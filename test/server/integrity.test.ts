// Issue 9 #6 and item 5: the store's health at open and on request (src/store/integrity.ts). Corruption in
// pages the store never reads at open (the timers index) is caught by quick_check and refuses the start;
// a 0-byte file is corrupt unless --init; a WAL left by a crash is reported, and so is a corrupt tail that
// SQLite discards; a read-only data directory is named as such; `status-engine check` runs integrity_check.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { RECORD_FORMAT } from '../../src/store/format';
import { SqliteStore } from '../../src/store/sqlite';
import { checkCommand, checkStoreAtOpen, inspectWal, StoreIntegrityError } from '../../src/store/integrity';
import { ROOT, startServerProcess } from './proc';
import { tryMountTmpfs } from './wire';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'se-integrity-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  const d = path.join(tmp, `d${++n}`);
  mkdirSync(d);
  return d;
};
const quietLog = () => {
  const lines: string[] = [];
  return { lines, log: { warn: (_: unknown, m?: string) => void lines.push(m ?? ''), info: (_: unknown, m?: string) => void lines.push(m ?? '') } };
};
const refusal = (fn: () => void): StoreIntegrityError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof StoreIntegrityError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
};

/** A status-engine store whose timers index spans several pages, closed cleanly (no WAL left). */
function storeWithTimers(dir: string): string {
  const file = path.join(dir, 'status-engine.db');
  new SqliteStore(file).close();
  const db = new Database(file);
  const put = db.prepare('INSERT INTO timers (key, timer) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) {
      const timer = { key: `k${i}`, due: i, machine: 'userStatus', owner: `user${i}`, delay: 'customStatusClearAfterLogout', state: 'unlogined.clearPending' };
      put.run(`userStatus:user${i}:clearPending`, JSON.stringify({ format: RECORD_FORMAT, ...timer }));
    }
  })();
  db.close();
  return file;
}

/** Breaks the root page of the timers table's index: a page no read at open touches. */
function corruptTimersIndex(file: string): void {
  const db = new Database(file, { readonly: true });
  const root = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_timers_1'").pluck().get() as number;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.close();
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.from([0x07, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0, 8, (root - 1) * pageSize);
  closeSync(fd);
}

describe('at open (serve)', () => {
  it('corruption in the timers index: the store itself opens (the old blind spot), quick_check refuses the start with a clear message', () => {
    const file = storeWithTimers(freshDir());
    corruptTimersIndex(file);
    new SqliteStore(file).close(); // what `serve` used to do: open fine, then fail every login with 70500
    const e = refusal(() => checkStoreAtOpen(file, quietLog()));
    expect(e.code).toBe('ERR_STORE_CORRUPT');
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/quick_check/);
    expect(e.message).toMatch(/restore a backup/);
  });

  it('a sound store passes; a missing one is fine (the store creates it)', () => {
    const dir = freshDir();
    expect(() => checkStoreAtOpen(path.join(dir, 'status-engine.db'), quietLog())).not.toThrow();
    const file = storeWithTimers(dir);
    const q = quietLog();
    checkStoreAtOpen(file, q);
    expect(q.lines).toEqual([]);
  });

  it('a 0-byte database file is refused as corrupt unless --init, which starts empty', () => {
    const file = path.join(freshDir(), 'status-engine.db');
    writeFileSync(file, '');
    const e = refusal(() => checkStoreAtOpen(file, quietLog()));
    expect(e.code).toBe('ERR_STORE_EMPTY');
    expect(e.message).toMatch(/0-byte.*--init/);
    const q = quietLog();
    checkStoreAtOpen(file, { ...q, init: true });
    expect(q.lines[0]).toMatch(/--init/);
    const store = new SqliteStore(file);
    expect(store.userCount()).toBe(0);
    store.close();
  });

  it('a WAL left by a crash is reported at open; a corrupt tail (an acknowledged commit SQLite would drop silently) is named', () => {
    const src = freshDir();
    const file = path.join(src, 'status-engine.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (v TEXT)');
    for (let i = 0; i < 5; i++) db.prepare('INSERT INTO t (v) VALUES (?)').run(`commit ${i}`);
    // A crash: the files as they are on disk while the process still has them open.
    const crashed = freshDir();
    const copy = path.join(crashed, 'status-engine.db');
    copyFileSync(file, copy);
    copyFileSync(`${file}-wal`, `${copy}-wal`);
    db.close();
    const wal = inspectWal(`${copy}-wal`)!;
    expect(wal.committedFrames).toBeGreaterThanOrEqual(6);
    expect(wal.corruptFrames).toBe(0);
    // Flip a byte in the last frame's page: the last commit fails its checksum.
    const bytes = readFileSync(`${copy}-wal`);
    bytes[bytes.length - 100]! ^= 0xff;
    writeFileSync(`${copy}-wal`, bytes);
    const torn = inspectWal(`${copy}-wal`)!;
    expect(torn.committedFrames).toBe(wal.committedFrames - 1);
    expect(torn.corruptFrames).toBe(1);
    expect(torn.lostCommits).toBe(1);
    const q = quietLog();
    checkStoreAtOpen(copy, q);
    expect(q.lines[0]).toMatch(/did not close the store; SQLite recovers its write-ahead log/);
    expect(q.lines[1]).toMatch(/corrupt tail: 1 frame\(s\) \(1 commit\(s\)\).*lost/);
    const rows = new Database(copy, { readonly: true }).prepare('SELECT COUNT(*) FROM t').pluck().get();
    expect(rows).toBe(4); // the fifth commit was the corrupt frame: gone, as the warning said
  });
});

describe('status-engine check', () => {
  it('integrity_check: 0 and "ok" for a sound store, with --backup a sound copy; 1 and what is wrong for a corrupt one', async () => {
    const dir = freshDir();
    storeWithTimers(dir);
    const out: string[] = [];
    const err: string[] = [];
    const backup = path.join(tmp, 'backup.db');
    expect(await checkCommand(dir, { backup, out: (s) => void out.push(s), err: (s) => void err.push(s) })).toBe(0);
    expect(out[0]).toMatch(/^ok: .*passed PRAGMA integrity_check/);
    expect(existsSync(backup) && statSync(backup).size).toBeGreaterThan(0);
    expect(new Database(backup, { readonly: true }).prepare('SELECT COUNT(*) FROM timers').pluck().get()).toBe(2000);
    corruptTimersIndex(path.join(dir, 'status-engine.db'));
    expect(await checkCommand(dir, { out: (s) => void out.push(s), err: (s) => void err.push(s) })).toBe(1);
    expect(err.join('')).toMatch(/^corrupt: .*integrity_check/);
  });

  it('on a store a server holds: 2 (could not check), naming the running server and the online backup call, and no --backup file', async () => {
    const dir = freshDir();
    const held = new SqliteStore(path.join(dir, 'status-engine.db'));
    try {
      held.putSettings({ edition: 'ultimate', switches: { userStatus: true, friendStatusNotify: true }, limits: {} } as never);
      const out: string[] = [];
      const err: string[] = [];
      const backup = path.join(tmp, 'held-backup.db');
      expect(await checkCommand(dir, { backup, out: (s) => void out.push(s), err: (s) => void err.push(s) })).toBe(2);
      expect(err.join('')).toMatch(/^cannot check: .*a running server holds it.*POST \/v4\/im_open_status\/backup/);
      expect(existsSync(backup)).toBe(false);
    } finally {
      held.close();
    }
  });

  it('the real executable: `check` exits 1 on a corrupt store, and `serve` refuses to start on it and on a 0-byte file', async () => {
    const dir = freshDir();
    corruptTimersIndex(storeWithTimers(dir));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'check', '--data', dir], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/corrupt: /);
    await expect(startServerProcess(['--data', dir])).rejects.toThrow(/exited with 1 before listening[\s\S]*is corrupt \(PRAGMA quick_check/);
    const empty = freshDir();
    writeFileSync(path.join(empty, 'status-engine.db'), '');
    await expect(startServerProcess(['--data', empty])).rejects.toThrow(/0-byte file[\s\S]*--init/);
    const s = await startServerProcess(['--data', empty, '--init']);
    expect((await s.health()).status).toBe('ok');
    expect(await s.stop()).toBe(0);
  }, 30_000);
});

describe('a read-only data directory (a tmpfs remounted read-only)', () => {
  it('is named as such, not reported as "disk I/O error"', (ctx) => {
    const tmpfs = tryMountTmpfs(4);
    if (tmpfs.dir === null) {
      console.warn(`integrity.test.ts: the read-only directory case is skipped: ${tmpfs.why}`);
      return ctx.skip();
    }
    try {
      const file = path.join(tmpfs.dir, 'status-engine.db');
      new SqliteStore(file).close();
      execFileSync('mount', ['-o', 'remount,ro', tmpfs.dir]);
      const e = refusal(() => checkStoreAtOpen(file, quietLog()));
      expect(e.code).toBe('ERR_STORE_READONLY');
      expect(e.message).toContain(`the data directory ${tmpfs.dir} is read-only`);
    } finally {
      tmpfs.unmount();
    }
  });
});
