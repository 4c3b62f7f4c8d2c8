// The store file's health, checked where the server opens it (`serve`) and on request (`status-engine
// check`): a read-only data directory, a 0-byte database, a WAL left by a crash (and a corrupt tail SQLite
// will discard), and corruption anywhere in the file (quick_check at open, integrity_check on request).
import { accessSync, constants, existsSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type IntegrityErrorCode =
  /** The data directory or the database file cannot be written. */
  | 'ERR_STORE_READONLY'
  /** The database file has 0 bytes (its content was lost); `--init` starts afresh. */
  | 'ERR_STORE_EMPTY'
  /** SQLite's check found damage. */
  | 'ERR_STORE_CORRUPT'
  /** Not an SQLite file at all. */
  | 'ERR_STORE_NOT_A_DATABASE';

export class StoreIntegrityError extends Error {
  constructor(
    readonly code: IntegrityErrorCode,
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'StoreIntegrityError';
  }
}

export interface IntegrityLogger {
  warn(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
}

/** What a WAL file holds: frames SQLite will replay at open, and frames of this WAL it will throw away. */
export interface WalReport {
  bytes: number;
  /** Frames up to the last valid commit: replayed. */
  committedFrames: number;
  /** Frames written in this WAL generation after the last valid commit whose checksum fails. */
  corruptFrames: number;
  /** Of those, commit frames: transactions that were acknowledged and that SQLite will silently drop. */
  lostCommits: number;
}

/**
 * Reads a WAL the way SQLite recovers it (https://www.sqlite.org/fileformat.html#the_write_ahead_log):
 * cumulative checksums from the header on; the first frame whose salt or checksum fails ends it. Null when
 * there is no WAL or it is empty (a clean close leaves none).
 */
export function inspectWal(walFile: string): WalReport | null {
  if (!existsSync(walFile)) return null;
  const buf = readFileSync(walFile);
  if (buf.length < 32) return null;
  const magic = buf.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return { bytes: buf.length, committedFrames: 0, corruptFrames: 0, lostCommits: 0 };
  const bigEndian = magic === 0x377f0683;
  const word = (at: number) => (bigEndian ? buf.readUInt32BE(at) : buf.readUInt32LE(at));
  const pageSize = buf.readUInt32BE(8);
  const salt1 = buf.readUInt32BE(16);
  const salt2 = buf.readUInt32BE(20);
  let s0 = 0;
  let s1 = 0;
  const sum = (from: number, to: number) => {
    for (let i = from; i < to; i += 8) {
      s0 = (s0 + word(i) + s1) >>> 0;
      s1 = (s1 + word(i + 4) + s0) >>> 0;
    }
  };
  sum(0, 24);
  if (s0 !== buf.readUInt32BE(24) || s1 !== buf.readUInt32BE(28)) return { bytes: buf.length, committedFrames: 0, corruptFrames: 0, lostCommits: 0 };
  const frameBytes = 24 + pageSize;
  let committed = 0;
  let frame = 0;
  let at = 32;
  for (; at + frameBytes <= buf.length; at += frameBytes, frame++) {
    if (buf.readUInt32BE(at + 8) !== salt1 || buf.readUInt32BE(at + 12) !== salt2) break;
    sum(at, at + 8);
    sum(at + 24, at + frameBytes);
    if (s0 !== buf.readUInt32BE(at + 16) || s1 !== buf.readUInt32BE(at + 20)) break;
    if (buf.readUInt32BE(at + 4) !== 0) committed = frame + 1;
  }
  // Past the break: frames that carry this generation's salts were written by this WAL's writer, so a
  // checksum failure among them is damage, not leftovers of an older generation.
  let corrupt = 0;
  let lost = 0;
  for (let p = at; p + frameBytes <= buf.length; p += frameBytes) {
    if (buf.readUInt32BE(p + 8) !== salt1 || buf.readUInt32BE(p + 12) !== salt2) continue;
    corrupt++;
    if (buf.readUInt32BE(p + 4) !== 0) lost++;
  }
  return { bytes: buf.length, committedFrames: committed, corruptFrames: corrupt, lostCommits: lost };
}

const isReadOnlyError = (e: unknown): boolean => {
  const code = (e as { code?: string } | null)?.code ?? '';
  return code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code.startsWith('SQLITE_READONLY');
};

/**
 * Before the store opens: refuses a read-only directory or file and a 0-byte file (unless `init`, which
 * removes it so that a fresh store is made), warns about a WAL to recover (and a corrupt tail), then runs
 * `PRAGMA quick_check`, refusing to start on corruption. A missing file is fine: the store creates it.
 */
export function checkStoreAtOpen(file: string, o: { init?: boolean; log: IntegrityLogger }): void {
  const dir = path.dirname(file);
  try {
    accessSync(dir, constants.W_OK);
    if (existsSync(file)) accessSync(file, constants.W_OK);
  } catch (e) {
    if (isReadOnlyError(e)) {
      throw new StoreIntegrityError('ERR_STORE_READONLY', file, `the data directory ${dir} is read-only (${(e as Error).message}): the store needs to write there`);
    }
    throw e;
  }
  if (!existsSync(file)) return;
  if (statSync(file).size === 0) {
    if (!o.init) {
      throw new StoreIntegrityError(
        'ERR_STORE_EMPTY',
        file,
        `the store ${file} is a 0-byte file: its content is lost (restore a backup), or start empty with --init`,
      );
    }
    o.log.warn({ file }, 'store: a 0-byte database file; --init: starting with an empty store');
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) unlinkSync(f);
    return;
  }
  const wal = inspectWal(`${file}-wal`);
  if (wal) {
    o.log.warn({ file, walBytes: wal.bytes, frames: wal.committedFrames }, 'store: the last process did not close the store; SQLite recovers its write-ahead log now');
    if (wal.corruptFrames > 0) {
      o.log.warn(
        { file, corruptFrames: wal.corruptFrames, lostCommits: wal.lostCommits },
        `store: the write-ahead log has a corrupt tail: ${wal.corruptFrames} frame(s) (${wal.lostCommits} commit(s)) after the last valid commit are discarded; changes in them are lost`,
      );
    }
  }
  const problems = runPragma(file, 'quick_check');
  if (problems.length > 0) {
    throw new StoreIntegrityError('ERR_STORE_CORRUPT', file, `the store ${file} is corrupt (PRAGMA quick_check: ${problems.slice(0, 3).join('; ')}); restore a backup, see docs/server.md`);
  }
}

/** `PRAGMA integrity_check` (or quick_check): the problems found, [] when the file is sound. */
export function runPragma(file: string, pragma: 'quick_check' | 'integrity_check'): string[] {
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: true });
  } catch (e) {
    if (isReadOnlyError(e)) throw new StoreIntegrityError('ERR_STORE_READONLY', file, `the store ${file} cannot be opened for writing: ${(e as Error).message}`);
    throw e;
  }
  try {
    const rows = db.pragma(pragma, { simple: false }) as Array<Record<string, string>>;
    const lines = rows.map((r) => String(Object.values(r)[0]));
    return lines.length === 1 && lines[0] === 'ok' ? [] : lines;
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (code === 'SQLITE_NOTADB') throw new StoreIntegrityError('ERR_STORE_NOT_A_DATABASE', file, `the store ${file} is not an SQLite database`);
    if (code.startsWith('SQLITE_CORRUPT')) return [(e as Error).message];
    if (isReadOnlyError(e)) throw new StoreIntegrityError('ERR_STORE_READONLY', file, `the store ${file} cannot be written: ${(e as Error).message}`);
    throw e;
  } finally {
    db.close();
  }
}

/**
 * `status-engine check --data DIR [--backup FILE]`, with the server stopped (it holds the file exclusively):
 * the full integrity check, then (when asked and sound) a consistent copy through SQLite's backup API. Returns the exit code: 0 sound, 1 damaged, 2 could not check (e.g. a server holds the file).
 */
export async function checkCommand(dir: string, o: { backup?: string; out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  const file = path.resolve(dir, 'status-engine.db');
  if (!existsSync(file)) {
    o.err(`status-engine check: no store at ${file}\n`);
    return 2;
  }
  if (statSync(file).size === 0) {
    o.err(`corrupt: ${file} is a 0-byte file (its content is lost)\n`);
    return 1;
  }
  let problems: string[];
  try {
    problems = runPragma(file, 'integrity_check');
  } catch (e) {
    const damaged = e instanceof StoreIntegrityError && (e.code === 'ERR_STORE_CORRUPT' || e.code === 'ERR_STORE_NOT_A_DATABASE');
    // A running server holds the file's lock (one process owns a store): stop it first, or back up through it.
    const held = (e as { code?: string }).code === 'SQLITE_BUSY';
    const why = held ? `${file} is locked: a running server holds it; stop it to check it, or make a backup while it serves with POST /v4/im_open_status/backup (docs/operations.md)` : (e as Error).message;
    o.err(`${damaged ? 'corrupt' : 'cannot check'}: ${why}\n`);
    return damaged ? 1 : 2;
  }
  if (problems.length > 0) {
    o.err(`corrupt: ${file} failed PRAGMA integrity_check:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    return 1;
  }
  o.out(`ok: ${file} passed PRAGMA integrity_check\n`);
  if (o.backup) {
    const db = new Database(file, { fileMustExist: true, readonly: true });
    try {
      await db.backup(o.backup);
    } finally {
      db.close();
    }
    o.out(`backup: ${path.resolve(o.backup)}\n`);
  }
  return 0;
}
