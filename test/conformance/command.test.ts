// `status-engine conformance` (src/conformance/cli.ts) as a user runs it: against the real `serve` every
// test passes; against deliberately wrong servers (test/conformance/wrong.ts) the named clauses fail and
// the exit code says so; without the test hooks the tests that need them are skipped, not failed. Runs
// other than the first are bounded with --only, to keep the suite quick.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceTests } from '../../src/conformance/suite/index';
import { buildProgram } from '../../src/server/program';
import { ROOT, SDK_APP_ID, SECRET, startServerProcess, type ServerProcess } from '../server/proc';
import { NO_HOOKS, startProxy, WRONG, type Proxy, type Rules } from './wrong';

const KEY_ENV = 'CONFORMANCE_TEST_SECRET_KEY';

let server: ServerProcess;
let dir: string;
const proxies: Proxy[] = [];

beforeAll(async () => {
  process.env[KEY_ENV] = SECRET;
  dir = mkdtempSync(join(tmpdir(), 'conformance-cmd-'));
  server = await startServerProcess(['--clock', 'simulated', '--store', 'memory']);
}, 30_000);

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
  delete process.env[KEY_ENV];
});

/** The command in this process, as src/cli.ts runs it; resolves with its exit code and what it printed. */
async function run(url: string, extra: string[] = []): Promise<{ code: number; out: string; lines: string[] }> {
  let out = '';
  let code = 0;
  const args = ['conformance', '--url', url.replace(/^http/, 'ws'), '--admin', url, '--sdkappid', String(SDK_APP_ID), '--secret-key-env', KEY_ENV, ...extra];
  try {
    await buildProgram({ out: (s) => (out += s), err: (s) => (out += s), exitOverride: true }).parseAsync(args, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.exitCode;
  }
  return { code, out, lines: out.trimEnd().split('\n') };
}

async function wrong(rules: Rules): Promise<string> {
  const p = await startProxy(server.url, rules);
  proxies.push(p);
  return p.url;
}

const line = (status: 'PASS' | 'FAIL' | 'SKIP', title: string) => `${status}  ${title}`;
const titles = (prefix: string) => conformanceTests.filter((t) => t.title.startsWith(prefix)).map((t) => t.title);

describe('status-engine conformance', () => {
  it('against serve: one PASS line per test, a per-clause summary, the totals last, exit 0, and the three reports', async () => {
    const files = { md: join(dir, 'r.md'), json: join(dir, 'r.json'), junit: join(dir, 'r.xml') };
    const r = await run(server.url, ['--report', files.md, '--json', files.json, '--junit', files.junit]);
    expect(r.code, r.out).toBe(0);
    for (const t of conformanceTests) expect(r.lines).toContain(line('PASS', t.title));
    expect(r.out).toMatch(/^per clause:$/m);
    expect(r.out).toMatch(/^ {2}NTF-2 +PASS {2}2 passed$/m);
    expect(r.lines.at(-1)).toBe(`${conformanceTests.length} passed, 0 failed, 0 skipped`);
    const json = JSON.parse(readFileSync(files.json, 'utf8'));
    expect([json.passed, json.failed, json.skipped]).toEqual([conformanceTests.length, 0, 0]);
    expect(json.clauses.find((c: { id: string }) => c.id === 'SUB-3')).toMatchObject({ verdict: 'passed', passed: 1 });
    expect(readFileSync(files.md, 'utf8')).toContain(`- Result: ${conformanceTests.length} passed, 0 failed, 0 skipped`);
    const xml = readFileSync(files.junit, 'utf8');
    expect(xml).toContain(`<testsuite name="status-engine conformance (native ${server.url.replace(/^http/, 'ws')})" tests="${conformanceTests.length}" failures="0" skipped="0">`);
    expect(xml.match(/<testcase /g)).toHaveLength(conformanceTests.length);
  }, 60_000);

  it('a server that reports UNLOGINED as OFFLINE fails GET-1 and SUB-1, and the command exits 1', async () => {
    const r = await run(await wrong(WRONG.unloginedAsOffline), ['--only', 'GET-1,SUB-1']);
    expect(r.code).toBe(1);
    for (const t of [...titles('GET-1'), ...titles('SUB-1')]) expect(r.lines).toContain(line('FAIL', t));
    expect(r.out).toMatch(/^ {2}GET-1 +FAIL {2}1 failed$/m);
    expect(r.out).toContain("[ 1, 'b' ], [ 2, 'b' ] ] to equal [ [ 1, 'a' ], [ 1, 'b' ], [ 3, 'b' ] ]"); // the subscriber heard OFFLINE
    expect(r.lines.at(-1)).toBe('0 passed, 2 failed, 0 skipped');
  });

  it('a server that forgets friend notifications fails both NTF-2 tests; NTF-1 and NTF-3 still pass', async () => {
    const r = await run(await wrong(WRONG.noFriendNotifications), ['--only', 'NTF']);
    expect(r.code).toBe(1);
    for (const t of titles('NTF-2')) expect(r.lines).toContain(line('FAIL', t));
    for (const t of [...titles('NTF-1'), ...titles('NTF-3')]) expect(r.lines).toContain(line('PASS', t));
    expect(r.out).toContain("expected [] to equal [ [ 1, 'lunch' ] ]"); // the friend heard nothing
    expect(r.lines.at(-1)).toBe('2 passed, 2 failed, 0 skipped');
  });

  it('a server whose rate limit is off by one fails LIM-1 and SUB-2', async () => {
    const r = await run(await wrong(WRONG.rateLimitOffByOne), ['--only', 'LIM,SUB-2']);
    expect(r.code).toBe(1);
    for (const t of [...titles('LIM-1'), ...titles('SUB-2')]) expect(r.lines).toContain(line('FAIL', t));
    expect(r.out).toContain('expected the call to reject, it resolved'); // the call over the limit went through
    expect(r.lines.at(-1)).toBe('0 passed, 2 failed, 0 skipped');
  });

  it('without the test hooks, the tests that need time control or a server-side drop are skipped with the reason, not failed', async () => {
    const r = await run(await wrong(NO_HOOKS), ['--only', 'DEV,LIM,CS-2', '--no-configure']);
    expect(r.code, r.out).toBe(0);
    expect(r.lines).toContain(line('PASS', titles('CS-2')[0]!));
    expect(r.out).toContain(`${line('SKIP', titles('DEV-2')[0]!)}  [skipped: needs time control (the server offers no POST /v4/test/advance)]`);
    expect(r.out).toContain(`${line('SKIP', titles('DEV-1')[0]!)}  [skipped: needs server-side drop (the server offers no POST /v4/test/drop)]`);
    expect(r.out).toContain('needs configurable settings (turned off with --no-configure)');
    expect(r.out).toContain('capabilities: configurable settings: no, time control: no, server-side drop: no, native platforms: yes');
    // Selected: DEV-1..4, LIM-1 and CS-2; only CS-2 needs nothing the proxy withholds.
    expect(r.lines.at(-1)).toBe('1 passed, 0 failed, 5 skipped');
  });

  it('refuses --only entries that select nothing, and a missing secret key, before touching the server', async () => {
    const typo = await run(server.url, ['--only', 'SUB-99']);
    expect(typo.code).toBe(1);
    expect(typo.out).toContain('--only: no test of the suite names SUB-99');
    const noKey = await run(server.url, ['--secret-key-env', 'CONFORMANCE_TEST_UNSET_VARIABLE']);
    expect(noKey.code).toBe(1);
    expect(noKey.out).toContain('CONFORMANCE_TEST_UNSET_VARIABLE, which is not set');
  });

  it('a server that is not there: exit 1, and the message names the admin address it could not reach', async () => {
    // A port nobody listens on: taken, then given back.
    const free = await new Promise<number>((ok) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => ok(port));
      });
    });
    const r = await run(`http://127.0.0.1:${free}`);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`cannot reach the admin REST API at http://127.0.0.1:${free} (ECONNREFUSED)`);
  });

  it('--client tim runs the suite through the real tim-js-sdk 2.x; its web-only nature skips the native-device test', async () => {
    const r = await run(server.url, ['--client', 'tim', '--only', 'CS-2,SUB-1,DEV-3']);
    expect(r.code, r.out).toBe(0);
    expect(r.lines[0]).toMatch(/^status-engine conformance: tim-js-sdk 2\.\d+\.\d+ ws:/);
    expect(r.lines).toContain(line('PASS', titles('SUB-1')[0]!));
    expect(r.out).toContain(`${line('SKIP', titles('DEV-3')[0]!)}  [skipped: needs native platforms (a web SDK is always a web device)]`);
    expect(r.lines.at(-1)).toBe('2 passed, 0 failed, 1 skipped');
  }, 30_000);

  const chatInstalled = (() => {
    try {
      createRequire(join(ROOT, 'package.json')).resolve('@tencentcloud/chat');
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(chatInstalled)('--client chat without @tencentcloud/chat installed says so and exits 1', async () => {
    const r = await run(server.url, ['--client', 'chat']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('--client chat needs @tencentcloud/chat 3.x, which is not installed (npm install @tencentcloud/chat@3)');
  });

  it.skipIf(!chatInstalled)('--client chat runs the suite through the real @tencentcloud/chat 3.x', async () => {
    const r = await run(server.url, ['--client', 'chat', '--only', 'CS-2,SUB-1']);
    expect(r.code, r.out).toBe(0);
    expect(r.lines[0]).toMatch(/^status-engine conformance: @tencentcloud\/chat 3\.\d+\.\d+ ws:/);
    expect(r.lines.at(-1)).toBe('2 passed, 0 failed, 0 skipped');
  }, 30_000);

  it('as a process (src/cli.ts): the exit code is 1 when a test failed, and the totals are the last line of stdout', async () => {
    const url = await wrong(WRONG.rateLimitOffByOne);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'conformance', '--url', url.replace(/^http/, 'ws'), '--admin', url, '--sdkappid', String(SDK_APP_ID), '--only', 'LIM-1'], {
      cwd: ROOT,
      env: { ...process.env, STATUS_ENGINE_SECRET_KEY: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('0 passed, 1 failed, 0 skipped');
  }, 30_000);
});
