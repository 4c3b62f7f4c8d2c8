// docs/tim-compat.md, "Pointing an app at status-engine": its shell lines, run in order as a newcomer would
// (in one shell: exports, then `serve`, then `usersig`), give a server and a UserSig that logs in to it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/index';
import { ROOT } from '../server/proc';

const doc = readFileSync(join(ROOT, 'docs/tim-compat.md'), 'utf8');
const SECRET = 'tim-compat-doc-secret-0123456789';
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

/** Shell words of one line, with $SECRET expanded, double quotes removed and a trailing # comment dropped. */
const words = (line: string): string[] =>
  [...line.replace(/\s+#.*$/, '').matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] ?? m[2]!).replaceAll('$SECRET', SECRET));

describe('docs/tim-compat.md, Pointing an app at status-engine', () => {
  let dir: string | undefined;
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the shell lines start a server and mint a UserSig that logs in to it', async () => {
    const block = /## Pointing an app at status-engine\s+```sh\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeTruthy();
    dir = mkdtempSync(join(tmpdir(), 'se-tim-doc-'));
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('STATUS_ENGINE_')) delete env[k];
    // `status-engine` is this tree's command line, run from another folder.
    const cli = (args: string[]) => [process.execPath, ['--import', TSX, join(ROOT, 'src/cli.ts'), ...args]] as const;
    let url = '';
    let userSig = '';
    let usersigArgs: string[] = [];
    for (const line of block!.split('\n').filter((l) => l.trim() !== '')) {
      const w = words(line);
      if (w[0] === 'export') {
        for (const pair of w.slice(1)) env[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
      } else if (w[0] === 'status-engine' && w[1] === 'serve') {
        // The doc's port, made free for the test.
        const args = w.slice(1).map((a, i, all) => (all[i - 1] === '--port' ? '0' : a));
        const [cmd, argv] = cli([...args, '--log-level', 'warn']);
        const proc = spawn(cmd, argv, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
        server = proc;
        let err = '';
        proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        url = await new Promise<string>((ok, fail) => {
          let out = '';
          proc.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /listening on (http:\/\/\S+)/.exec(out);
            if (m) ok(m[1]!);
          });
          proc.once('exit', (code) => fail(new Error(`serve exited ${code}: ${err}`)));
        });
      } else if (w[0] === 'status-engine' && w[1] === 'usersig') {
        usersigArgs = w.slice(1);
        const [cmd, argv] = cli(usersigArgs);
        const r = await new Promise<{ code: number; out: string; err: string }>((ok) =>
          execFile(cmd, argv, { cwd: dir, env, encoding: 'utf8', timeout: 20_000 }, (e, out, err) => ok({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err })),
        );
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
        userSig = r.out.trim();
      } else {
        throw new Error(`a line the test does not know how to run: ${line}`);
      }
    }
    expect(url).toMatch(/^http:/);
    expect(usersigArgs[1]).toBe('alice');

    // alice registered (as the page's next paragraph says: the admin REST API), then logged in with the UserSig.
    const [cmd, argv] = cli(['usersig', 'administrator', ...usersigArgs.slice(2)]);
    const admin = await new Promise<string>((ok) => execFile(cmd, argv, { cwd: dir, env, encoding: 'utf8' }, (_e, out) => ok(out.trim())));
    const sdkAppId = env.STATUS_ENGINE_SDKAPPID ?? /--sdkappid (\d+)/.exec(block!)?.[1] ?? '1400000000';
    const q = new URLSearchParams({ sdkappid: sdkAppId, identifier: 'administrator', usersig: admin, random: '1', contenttype: 'json' });
    const reg = (await (await fetch(`${url}/v4/im_open_login_svc/account_import?${q}`, { method: 'POST', body: '{"UserID":"alice"}' })).json()) as Record<string, unknown>;
    expect(reg).toMatchObject({ ActionStatus: 'OK' });
    const alice = createClient({ url, reconnect: false });
    try {
      await expect(alice.login({ userID: 'alice', userSig })).resolves.toBeDefined();
      await alice.logout();
    } finally {
      await alice.destroy();
    }
  }, 60_000);
});
