// The online backup's retention (docs/operations.md, Backups): `{"Keep": n}` deletes all but the newest n
// copies in <data>/backups after the copy is whole, and only the files the call names; a bad Keep is refused
// with the parameter and its limit, and writes nothing.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKUP_KEEP_MAX, copiesBeyond } from '../../src/server/restBackup';
import { SqliteStore } from '../../src/store/sqlite';
import { startInProcess, type TestServer } from './wire';

describe('copiesBeyond', () => {
  it('orders copies by their time stamp, then by the suffix of a second copy in the same millisecond, and leaves other files alone', () => {
    const names = [
      'status-engine-20261202T030000000Z-1.db', // the second copy of that millisecond: newer than the one without suffix
      'status-engine-20261202T030000000Z.db',
      'status-engine-20261201T230000123Z.db',
      'status-engine-20261202T030000000Z-10.db',
      'status-engine-20261202T030000000Z-2.db',
      'status-engine-20261202T040000000Z.db.partial', // a copy being written
      'status-engine.db', // not a copy this call names
      'notes.txt',
    ];
    expect(copiesBeyond(names, 2)).toEqual(['status-engine-20261201T230000123Z.db', 'status-engine-20261202T030000000Z.db', 'status-engine-20261202T030000000Z-1.db']);
    expect(copiesBeyond(names, 5)).toEqual([]);
    expect(copiesBeyond(names, 1)).toHaveLength(4);
  });

  it('never gives the copy just made, which counts as one kept, even when the clock stepped back since older copies were named', () => {
    const future = 'status-engine-20300101T000000000Z.db'; // written while the clock was years ahead
    const own = 'status-engine-20261202T030000000Z.db';
    expect(copiesBeyond([future, own], 1, own)).toEqual([future]);
    expect(copiesBeyond([future, own], 2, own)).toEqual([]);
    expect(copiesBeyond(['status-engine-20261201T000000000Z.db', future, own], 2, own)).toEqual(['status-engine-20261201T000000000Z.db']);
  });
});

describe('POST im_open_status/backup with Keep', () => {
  let s: TestServer | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the newest Keep copies, this one included, deletes the older ones and nothing else, and says which', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'se-backup-keep-'));
    s = await startInProcess({ store: new SqliteStore(path.join(dir, 'status-engine.db')) });
    const backups = path.join(dir, 'backups');
    mkdirSync(backups);
    writeFileSync(path.join(backups, 'keep-me.txt'), 'an operator\'s file');
    expect((await s.rest('im_open_login_svc/account_import', { UserID: 'alice' })).ActionStatus).toBe('OK');

    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await s.rest('im_open_status/backup', {});
      expect(r).toMatchObject({ ActionStatus: 'OK', File: expect.any(String) });
      expect(r.Removed).toBeUndefined(); // without Keep nothing is deleted
      files.push(path.basename(r.File));
    }
    const kept = await s.rest('im_open_status/backup', { Keep: 2 });
    expect(kept).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });
    expect(kept.Removed).toEqual(files.slice(0, 2));
    expect(readdirSync(backups).sort()).toEqual([files[2]!, path.basename(kept.File), 'keep-me.txt'].sort());
    // What is kept is a whole copy of the store (read from a copy of it: opening it would add its -shm here).
    const check = path.join(dir, 'check.db');
    copyFileSync(kept.File, check);
    const db = new Database(check, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();

    const one = await s.rest('im_open_status/backup', { Keep: 1 });
    expect(one.Removed).toEqual([files[2], path.basename(kept.File)]);
    expect(readdirSync(backups).sort()).toEqual([path.basename(one.File), 'keep-me.txt'].sort());
  });

  it('two calls at once run one after the other: each keeps its own copy, the later one the only one left with Keep 1', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'se-backup-keep-'));
    s = await startInProcess({ store: new SqliteStore(path.join(dir, 'status-engine.db')) });
    const rs = await Promise.all([1, 2, 3].map(() => s!.rest('im_open_status/backup', { Keep: 1 })));
    for (const r of rs) {
      expect(r.ActionStatus).toBe('OK');
      expect(r.Removed).not.toContain(path.basename(r.File));
    }
    const left = readdirSync(path.join(dir, 'backups'));
    expect(left).toHaveLength(1);
    // The one left is a copy one of the calls made, and every other call's copy is in some call's Removed.
    const files = rs.map((r) => path.basename(r.File));
    expect(files).toContain(left[0]);
    expect(rs.flatMap((r) => r.Removed).sort()).toEqual(files.filter((f) => f !== left[0]).sort());
  });

  it('a copy is never written over one already there, as a clock that stepped back would name it', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'se-backup-keep-'));
    s = await startInProcess({ store: new SqliteStore(path.join(dir, 'status-engine.db')) });
    const first = await s.rest('im_open_status/backup', {});
    // The names of the next milliseconds taken already (what a clock set back would give the next calls).
    const at = Date.parse(path.basename(first.File).replace(/^status-engine-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z.*$/, '$1-$2-$3T$4:$5:$6.$7Z'));
    const taken = Array.from({ length: 5000 }, (_, i) => `status-engine-${new Date(at + 1 + i).toISOString().replace(/[-:.]/g, '')}.db`);
    for (const name of taken) writeFileSync(path.join(dir, 'backups', name), 'older copy');
    const second = await s.rest('im_open_status/backup', {});
    expect(second.ActionStatus).toBe('OK');
    // Its millisecond's name was taken: it got a suffix instead (the old call renamed over the file there).
    expect(taken).not.toContain(path.basename(second.File));
    for (const name of taken) expect(readFileSync(path.join(dir, 'backups', name), 'utf8')).toBe('older copy');
    expect(readFileSync(second.File).subarray(0, 15).toString()).toBe('SQLite format 3');
  });

  it('a Keep that is not an integer from 1 to the limit is refused with the parameter and the limit, and no copy is made', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'se-backup-keep-'));
    s = await startInProcess({ store: new SqliteStore(path.join(dir, 'status-engine.db')) });
    for (const Keep of [0, BACKUP_KEEP_MAX + 1, 2.5, 1e308, '2', null]) {
      const r = await s.rest('im_open_status/backup', { Keep });
      expect(r.ActionStatus).toBe('FAIL');
      expect(r.ErrorInfo).toMatch(new RegExp(`^invalid Keep: expected an integer from 1 to ${BACKUP_KEEP_MAX}`));
    }
    expect(readdirSync(dir)).not.toContain('backups');
  });
});
