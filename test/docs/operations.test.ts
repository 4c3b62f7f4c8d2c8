// docs/operations.md's procedures run as written against a real `status-engine serve --data DIR`: the online
// backup block (its paths, port and command pointed at the test's), taken while the server serves and writes,
// gives a whole copy of what was acknowledged; the restore steps (stop, put the copy in place, start) bring
// that state back, and what changed after the backup is gone, as the doc says.
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, sig, startServerProcess, type ServerProcess } from '../server/proc';

const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const APP = '1400000000';

describe('docs/operations.md, Backups', () => {
  let dir: string;
  let data: string;
  let server: ServerProcess | undefined;
  let key: string;
  const rest = (command: string, body: unknown) =>
    server!.rest(command, body, { sdkappid: APP, usersig: sig('administrator', { key, sdkAppId: Number(APP) }) });
  const start = async () => {
    server = await startServerProcess(['--data', data, '--sdkappid', APP], { keyFromData: true });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'se-ops-doc-'));
    data = join(dir, 'var/lib/status-engine');
    mkdirSync(join(dir, 'bin'));
    // `status-engine` on the PATH is this tree's command line.
    const bin = join(dir, 'bin/status-engine');
    writeFileSync(bin, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --import ${TSX} ${JSON.stringify(join(ROOT, 'src/cli.ts'))} "$@"\n`);
    chmodSync(bin, 0o755);
    await start();
    key = readFileSync(join(data, 'secret.key'), 'utf8').trim();
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the backup block, run while the server serves, copies every acknowledged change; the restore steps bring it back', async () => {
    expect((await rest('im_open_login_svc/multiaccount_import', { Accounts: ['alice', 'bob'] })).ActionStatus).toBe('OK');
    expect((await rest('sns/friend_add', { From_Account: 'bob', AddFriendItem: [{ To_Account: 'alice' }] })).ActionStatus).toBe('OK');
    expect((await rest('im_open_status/config', { Switches: { UserStatus: 'on' } })).ActionStatus).toBe('OK');

    const block = /## Backups[\s\S]*?```sh\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeTruthy();
    const script = block!
      .replaceAll(/(^|\s)\/backups/gm, `$1${join(dir, 'backups')}`)
      .replaceAll('/var/lib/status-engine', data)
      .replaceAll('127.0.0.1:8080', `127.0.0.1:${server!.port}`);
    // Writes keep coming while the copy is made (the server keeps serving).
    let writing = true;
    const writes = (async () => {
      for (let i = 0; writing; i++) await rest('im_open_login_svc/account_import', { UserID: `during-${i}` });
    })();
    const r = await new Promise<{ code: number; out: string; err: string }>((ok) =>
      execFile('bash', ['-c', `set -eo pipefail\n${script}`], { env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` }, encoding: 'utf8', timeout: 30_000 }, (e, out, err) =>
        ok({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
      ),
    );
    writing = false;
    await writes;
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const reply = JSON.parse(r.out.trim().split('\n').find((l) => l.startsWith('{'))!) as Record<string, any>;
    expect(reply).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0, File: expect.stringMatching(/\/backups\/status-engine-\d{8}T\d{9}Z\.db$/), Bytes: expect.any(Number), Seq: expect.any(Number) });

    // The block moved the copy (and the key) off the data directory, as its comments say.
    const copies = readdirSync(join(dir, 'backups')).filter((f) => f.endsWith('.db'));
    expect(copies).toHaveLength(1);
    expect(readdirSync(join(data, 'backups'))).toEqual([]);
    const copy = join(dir, 'backups', copies[0]!);
    expect(statSync(copy).size).toBe(reply.Bytes);
    expect(statSync(copy).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'backups/secret.key'), 'utf8').trim()).toBe(key);
    const db = new Database(copy, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const users = db.prepare<[], string>('SELECT id FROM users').pluck().all();
      expect(users).toEqual(expect.arrayContaining(['alice', 'bob']));
    } finally {
      db.close();
    }

    // After the backup: a change that the restore must take away.
    expect((await rest('im_open_login_svc/account_import', { UserID: 'late' })).ActionStatus).toBe('OK');

    // Restore: stop the server, remove -wal/-shm, put the copy in place as status-engine.db (and the key), start.
    expect(await server!.stop()).toBe(0);
    server = undefined;
    for (const f of ['status-engine.db-wal', 'status-engine.db-shm']) rmSync(join(data, f), { force: true });
    copyFileSync(copy, join(data, 'status-engine.db'));
    copyFileSync(join(dir, 'backups/secret.key'), join(data, 'secret.key'));
    chmodSync(join(data, 'secret.key'), 0o600);
    await start();
    const q = await rest('openim/query_online_status', { To_Account: ['alice', 'bob', 'late'] });
    expect(q.QueryResult.map((x: { To_Account: string }) => x.To_Account)).toEqual(['alice', 'bob']);
    expect(q.ErrorList).toEqual([expect.objectContaining({ To_Account: 'late', ErrorCode: 70107 })]);
    const friends = await rest('sns/friend_add', { From_Account: 'bob', AddFriendItem: [{ To_Account: 'alice' }] });
    expect(friends.ActionStatus).toBe('OK');
    expect((await rest('im_open_status/config', {})).Switches).toEqual({ UserStatus: 'on', FriendStatusNotify: 'off' });
    expect(existsSync(join(data, 'status-engine.db'))).toBe(true);
  }, 90_000);

  it('with --store memory the call is refused with 60009, saying why, and writes nothing', async () => {
    const mem = await startServerProcess(['--store', 'memory', '--data', join(dir, 'mem')]);
    try {
      const r = await mem.rest('im_open_status/backup', {});
      expect(r).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 60009, ErrorInfo: expect.stringContaining('--store memory') });
      expect(existsSync(join(dir, 'mem'))).toBe(false);
    } finally {
      await mem.stop();
    }
  }, 30_000);
});
