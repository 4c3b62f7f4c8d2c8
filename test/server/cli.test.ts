// The command line of API.md: --help, clear refusals of bad flags, the secret key made on first start and
// read by `usersig`, exactly one `listening on` line, a clean exit on SIGINT, test endpoints off by default.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RemoteClient } from '../../src/client/remote';
import { CommanderError } from 'commander';
import { buildProgram } from '../../src/server/program';
import { verifyUserSig } from '../../src/server/usersig';
import { ROOT, startServerProcess } from './proc';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs the CLI to its end; resolves with exit code and output. */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The program in this process, its output captured; resolves with what it printed or the error it exited with. */
async function inProcess(args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
  let out = '';
  let err = '';
  const program = buildProgram({ out: (s) => (out += s), err: (s) => (err += s), exitOverride: true });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err, exitCode: 0 };
  } catch (e) {
    if (e instanceof CommanderError) return { out, err, exitCode: e.exitCode };
    throw e;
  }
}

describe('status-engine CLI', () => {
  it('--help describes serve and usersig with their flags', async () => {
    const serve = await inProcess(['serve', '--help']);
    expect(serve.exitCode).toBe(0);
    for (const flag of ['--host', '--port', '--data', '--store', '--edition', '--switch', '--sdkappid', '--secret-key', '--webhook', '--clock']) expect(serve.out).toContain(flag);
    const usersig = await inProcess(['usersig', '--help']);
    expect(usersig.out).toContain('--expire');
    const top = await inProcess(['--help']);
    expect(top.out).toMatch(/serve[\s\S]*usersig/);
  });

  it('bad flags are refused with a message naming the flag, and exit code 1', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['serve', '--port', 'abc'], /--port must be a whole number/],
      [['serve', '--port', '70000'], /--port must be between 0 and 65535/],
      [['serve', '--edition', 'gold'], /--edition.*Allowed choices are trial, pro, ultimate/],
      [['serve', '--switch', 'userStatus=maybe'], /expected NAME=on\|off/],
      [['serve', '--switch', 'typing=on'], /unknown switch 'typing'/],
      [['serve', '--limit', 'queryMaxUsers'], /expected NAME=NUMBER/],
      [['serve', '--store', 'redis'], /Allowed choices are sqlite, memory/],
      [['serve', '--clock', 'fast'], /Allowed choices are system, simulated/],
      [['serve', '--webhook', 'not a url'], /--webhook must be an absolute URL/],
      [['serve', '--webhook-secret', 's'], /--webhook-secret needs --webhook/],
      [['serve', '--nope'], /unknown option '--nope'/],
      [['usersig'], /missing required argument 'userID'/],
      [['usersig', 'alice', '--expire', '0'], /--expire must be between/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const r = await inProcess(args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.err, args.join(' ')).toMatch(message);
    }
  });

  it('usersig prints a UserSig for the user, signed with --secret-key or the data directory\'s key', async () => {
    const r = await inProcess(['usersig', 'alice', '--secret-key', 'k'.repeat(32), '--sdkappid', '1400000009', '--expire', '60']);
    expect(r.exitCode).toBe(0);
    expect(verifyUserSig(r.out.trim(), 'alice', { sdkAppId: 1400000009, secretKey: 'k'.repeat(32), nowMs: Date.now() })).toBe('alice');
    const dir = mkdtempSync(path.join(tmpdir(), 'status-engine-cli-'));
    dirs.push(dir);
    const missing = await inProcess(['usersig', 'alice', '--data', dir]);
    expect(missing.exitCode).toBe(1);
    expect(missing.err).toContain(path.join(dir, 'secret.key'));
  });

  it('serve makes a secret key (mode 0600) in the data directory and says where; usersig signs with it; one stdout line; SIGINT exits 0', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'status-engine-cli-'));
    dirs.push(dir);
    const server = await startServerProcess(['--data', dir, '--sdkappid', '1400000000', '--log-level', 'info'], { keyFromData: true });
    try {
      expect(server.stdout()).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
      const file = path.join(dir, 'secret.key');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(server.log()).toContain(file);
      const key = readFileSync(file, 'utf8').trim();
      // The real executable, reading the same key.
      const minted = await run(['usersig', 'alice', '--data', dir, '--expire', '600']);
      expect(minted.code).toBe(0);
      const userSig = minted.stdout.trim();
      expect(verifyUserSig(userSig, 'alice', { sdkAppId: 1400000000, secretKey: key, nowMs: Date.now() })).toBe('alice');
      const admin = (await inProcess(['usersig', 'administrator', '--data', dir])).out.trim();
      const q = new URLSearchParams({ sdkappid: '1400000000', identifier: 'administrator', usersig: admin, random: '1', contenttype: 'json' });
      const r = await (await fetch(`${server.url}/v4/im_open_login_svc/account_import?${q}`, { method: 'POST', body: '{"UserID":"alice"}' })).json();
      expect(r).toMatchObject({ ActionStatus: 'OK' });
      const c = new RemoteClient({ url: server.url, reconnect: false });
      expect((await c.login({ userID: 'alice', userSig })).data.userID).toBe('alice');
      await c.destroy();
      // Test endpoints exist only with --clock simulated.
      const t = await (await fetch(`${server.url}/v4/test/advance?${q}`, { method: 'POST', body: '{"Ms":1000}' })).json();
      expect(t).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 60009 });
      expect(((await (await fetch(`${server.url}/healthz?${q}`)).json()) as { clock: string }).clock).toBe('system'); // this key's admin proof
    } finally {
      expect(await server.stop('SIGINT')).toBe(0);
    }
    expect(server.stdout().split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('a bad flag on the real executable exits with code 1 before anything starts', async () => {
    const r = await run(['serve', '--port', 'abc']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--port must be a whole number');
    expect(r.stdout).toBe('');
  });
});

describe('the secret key', () => {
  it('serve refuses a --secret-key shorter than 16 characters, and a key file that is a symbolic link', async () => {
    const short = await inProcess(['serve', '--port', '0', '--store', 'memory', '--secret-key', 'short']);
    expect(short.exitCode).not.toBe(0);
    expect(short.err).toMatch(/secret-key.*too short/);
    const { mkdtempSync, symlinkSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'se-secret-'));
    try {
      writeFileSync(join(dir, 'elsewhere'), 'k'.repeat(40));
      symlinkSync(join(dir, 'elsewhere'), join(dir, 'secret.key'));
      const { loadSecretKey } = await import('../../src/server/secret');
      expect(() => loadSecretKey(dir, { create: false })).toThrow(/not a regular file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
