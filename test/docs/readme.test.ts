// The README's examples run as written (against this source tree) and print what their comments say, and
// exit by themselves: the embedded one; and, against a real `status-engine serve`, the shell one (usersig,
// curl) and the remote-client one, run from another folder that has the package's `status-engine` command
// (a shim onto src/cli.ts) and tells usersig where the key is, as the README says.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/index';

const root = resolve(__dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const TSX = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
const INDEX = JSON.stringify(join(root, 'src/index.ts'));

describe('README', () => {
  it('the "Embedded in 20 lines" example runs and bob hears alice', () => {
    const code = /## Embedded in 20 lines\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeTruthy();
    const dir = mkdtempSync(join(tmpdir(), 'se-readme-'));
    try {
      const file = join(dir, 'example.mts');
      writeFileSync(file, code!.replace("from 'status-engine'", `from ${INDEX}`));
      const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 20_000 });
      expect(out).toMatch(/bob hears[\s\S]*userID: 'alice'[\s\S]*customStatus: 'in a meeting'[\s\S]*reason: 'custom_status_set'/);
      expect(out).toMatch(/statusType: 3/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('README, against a real server', () => {
  let dir: string;
  let data: string;
  let server: ChildProcess;
  let port: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'se-readme-server-'));
    data = join(dir, 'data');
    // The server as `npm start` runs it (serve --data DIR), its key made in DIR on first start.
    server = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--data', data, '--port', '0', '--log-level', 'warn'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    server.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    port = await new Promise<string>((ok, fail) => {
      let out = '';
      const t = setTimeout(() => fail(new Error(`no listening line: ${err}`)), 20_000);
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          clearTimeout(t);
          ok(m[1]!);
        }
      });
    });
    // Another folder, where `npx status-engine` is the package's command (here a shim onto this tree).
    const app = join(dir, 'app');
    mkdirSync(join(app, 'node_modules/.bin'), { recursive: true });
    writeFileSync(join(app, 'package.json'), '{"name": "readme-app", "private": true, "type": "module"}');
    const bin = join(app, 'node_modules/.bin/status-engine');
    writeFileSync(bin, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --import ${TSX} ${JSON.stringify(join(root, 'src/cli.ts'))} "$@"\n`);
    chmodSync(bin, 0o755);
    env = { ...process.env, STATUS_ENGINE_DATA: data };
  }, 40_000);

  afterAll(() => {
    server?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The example's text, with only the port (the server listens on a free one) pointed at the test's server. */
  const onPort = (text: string) => text.replaceAll('127.0.0.1:8080', `127.0.0.1:${port}`);
  const run = (file: string, args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((ok) => {
      execFile(file, args, { cwd: join(dir, 'app'), env, encoding: 'utf8', timeout: 30_000 }, (e, out, err) => ok({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }));
    });

  it('the shell example: usersig mints the admin UserSig, and each curl call answers as its comment says', async () => {
    const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const mint = blocks.find((b) => b.includes('ADMIN=$(npx status-engine usersig administrator)'));
    const calls = blocks.find((b) => b.includes('curl -s -X POST'));
    expect(mint && calls).toBeTruthy();
    const script = `set -e\n${onPort(mint!)}\n${onPort(calls!).replaceAll(/^(curl .*)$/gm, '$1; echo')}`;
    const r = await run('bash', ['-c', script]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^eJ/); // `usersig alice` prints a UserSig (zlib, base64)
    const replies = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(replies).toHaveLength(4);
    expect(JSON.stringify(replies[0])).toBe('{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","FailAccounts":[]}');
    for (const reply of replies) expect(reply).toMatchObject({ ActionStatus: 'OK' });
    expect(replies[3]).toMatchObject({ QueryResult: [{ To_Account: 'alice', Status: 'Offline' }] });
  }, 40_000);

  // docs/server.md's quick start has its own copy of the example: both must run as written.
  it.each([
    ['README.md', readme],
    ['docs/server.md', readFileSync(join(root, 'docs/server.md'), 'utf8')],
  ])('%s: the "Two clients exchanging status" example runs from another folder, prints what bob hears, and exits by itself', async (_doc, text) => {
    const code = /\*\*Two clients exchanging status\*\*[\s\S]*?```js\n([\s\S]*?)```/.exec(text)?.[1];
    expect(code).toBeTruthy();
    // The state the example finds: alice without a custom status (a previous run's outlives her logout, CS-7).
    const sigOf = async (id: string) => (await run(join(dir, 'app/node_modules/.bin/status-engine'), ['usersig', id])).out.trim();
    const reset = createClient({ url: `ws://127.0.0.1:${port}`, reconnect: false });
    await reset.login({ userID: 'alice', userSig: await sigOf('alice') });
    await reset.setSelfStatus({ customStatus: '' });
    await reset.logout();
    await reset.destroy();
    const file = join(dir, 'app', 'two-clients.mts');
    writeFileSync(file, onPort(code!).replace("from 'status-engine'", `from ${INDEX}`));
    const t0 = Date.now();
    const r = await run(process.execPath, ['--import', TSX, file]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/bob hears[\s\S]*userID: 'alice'[\s\S]*statusType: 1[\s\S]*customStatus: 'in a meeting'/);
    expect(r.out).toMatch(/bob hears[\s\S]*userID: 'alice'[\s\S]*statusType: 3/);
    // It ended by itself (the timeout above would have killed it): nothing held the event loop.
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 40_000);
});
