// The build (tsup, as `npm run build` runs it) emits ESM, CJS and .d.ts, and the built package works from
// both `require` and `import` when installed under its name; its types compile for a strict consumer
// (skipLibCheck off) that has only the package's dependencies, and `on`/`off` refuse a wrong event name or
// handler; `npm pack` ships what the README and the CLI help cite; `npm start` passes SIGTERM on. It builds
// into a temp copy of the package, so that it never races with tests that run the project's own dist/.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
let app: string;
let pkg: string;

const script = (kind: 'cjs' | 'esm') => `
${kind === 'cjs' ? "const { createEngine, createClient, TYPES, StatusError } = require('status-engine');" : "import { createEngine, createClient, TYPES, StatusError } from 'status-engine';"}
async function main() {
  const engine = createEngine({ switches: { userStatus: true } });
  await engine.registerUsers(['a', 'b']);
  const a = createClient({ engine });
  const b = createClient({ engine });
  const heard = [];
  b.on('onUserStatusUpdated', (e) => heard.push(...e.data));
  await a.login({ userID: 'a' });
  await b.login({ userID: 'b' });
  await b.subscribeUserStatus({ userIDList: ['a'] });
  await a.setSelfStatus({ customStatus: '${kind}' });
  let code = 0;
  try { await a.setSelfStatus({ customStatus: 1 }); } catch (e) { code = e instanceof StatusError ? e.code : -1; }
  await engine.close();
  console.log(JSON.stringify({ online: TYPES.USER_STATUS_ONLINE, heard: heard.map((s) => s.customStatus), code }));
}
main();
`;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'status-engine-pkg-'));
  pkg = join(app, 'pkg');
  mkdirSync(pkg);
  execFileSync('npx', ['tsup', '--out-dir', join(pkg, 'dist')], { cwd: root, stdio: 'pipe' });
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  for (const f of ['README.md', 'LICENSE', 'docs', 'machines']) cpSync(join(root, f), join(pkg, f), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(pkg, join(app, 'node_modules', 'status-engine'), 'dir');
  writeFileSync(join(app, 'use.cjs'), script('cjs'));
  writeFileSync(join(app, 'use.mjs'), script('esm'));
}, 120_000);

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('the built package', () => {
  it('has ESM, CJS and type declarations', () => {
    for (const f of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts', 'sqlite.js', 'sqlite.cjs', 'sqlite.d.ts']) {
      expect(existsSync(join(pkg, 'dist', f)), f).toBe(true);
    }
  });

  it('offers the durable store as status-engine/sqlite, to require and to import', () => {
    const dbDir = join(app, 'db');
    mkdirSync(dbDir);
    writeFileSync(join(app, 'sqlite.cjs'), `
const { SqliteStore } = require('status-engine/sqlite');
const { createEngine } = require('status-engine');
(async () => {
  const store = new SqliteStore(${JSON.stringify(join(dbDir, 'a.db'))});
  const engine = createEngine({ store });
  await engine.registerUsers(['x']);
  await engine.close(); store.close();
  const again = new SqliteStore(${JSON.stringify(join(dbDir, 'a.db'))});
  console.log(JSON.stringify([...again.userIDs()]));
  again.close();
})();`);
    writeFileSync(join(app, 'sqlite.mjs'), `import { SqliteStore } from 'status-engine/sqlite';\nconsole.log(typeof SqliteStore);`);
    expect(JSON.parse(execFileSync('node', ['sqlite.cjs'], { cwd: app, encoding: 'utf8' }))).toEqual(['x']);
    expect(execFileSync('node', ['sqlite.mjs'], { cwd: app, encoding: 'utf8' }).trim()).toBe('function');
  });

  it('works with require()', () => {
    const out = execFileSync('node', ['use.cjs'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ online: 1, heard: ['', 'cjs'], code: 6017 });
  });

  it('works with import', () => {
    const out = execFileSync('node', ['use.mjs'], { cwd: app, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ online: 1, heard: ['', 'esm'], code: 6017 });
  });
});

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; files: string[] };

/** A consumer project with the installed package (a copy, no node_modules of its own) and only its dependencies. */
function consumer(files: Record<string, string>): string {
  const dir = join(app, `consumer-${Object.keys(files).length}-${Math.random().toString(36).slice(2, 8)}`);
  const nm = join(dir, 'node_modules');
  mkdirSync(join(nm, '@types'), { recursive: true });
  cpSync(join(pkg, 'dist'), join(nm, 'status-engine', 'dist'), { recursive: true });
  copyFileSync(join(pkg, 'package.json'), join(nm, 'status-engine', 'package.json'));
  // What `npm install status-engine` brings: its dependencies (and a Node app's own @types/node), not its dev ones.
  for (const dep of [...Object.keys(manifest.dependencies), '@types/node']) {
    if (existsSync(join(nm, dep))) continue;
    mkdirSync(dirname(join(nm, dep)), { recursive: true }); // a scoped package's folder
    symlinkSync(join(root, 'node_modules', dep), join(nm, dep), 'dir');
  }
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022'], types: ['node'], noUncheckedIndexedAccess: true },
      files: Object.keys(files),
    }),
  );
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const tsc = (dir: string): { code: number; out: string } => {
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8', stdio: 'pipe' });
    return { code: 0, out: '' };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: `${err.stdout}${err.stderr}` };
  }
};

const USE_ESM = `
import { createEngine, createClient, EVENT, StatusError, type UserStatus } from 'status-engine';
import { SqliteStore } from 'status-engine/sqlite';
const store: SqliteStore = new SqliteStore(':memory:');
const engine = createEngine({ store, switches: { userStatus: true } });
const c = createClient({ engine });
c.on(EVENT.USER_STATUS_UPDATED, ({ data }) => {
  const first: UserStatus | undefined = data[0];
  console.log(first?.statusType);
});
c.on(EVENT.KICKED_OUT, ({ data }) => console.log(data.code + 1, data.type));
c.on(EVENT.NET_STATE_CHANGE, (e) => console.log(e.data.state));
const remote = createClient({ url: 'ws://127.0.0.1:1' });
void remote.destroy();
export const isError = (e: unknown): e is StatusError => e instanceof StatusError;
`;
const USE_CJS = `
import { createEngine, TYPES } = require('status-engine');
`.replace('import { createEngine, TYPES } =', 'import se =') + `
import sqlite = require('status-engine/sqlite');
const engine: ReturnType<typeof se.createEngine> = se.createEngine();
const online: 1 = se.TYPES.USER_STATUS_ONLINE;
export = { engine, online, Store: sqlite.SqliteStore };
`;
const NEGATIVE = `
import { createEngine, createClient, EVENT, type UserStatus } from 'status-engine';
const c = createClient({ engine: createEngine() });
// @ts-expect-error a misspelled event name does not compile
c.on('onUserStatusUpdate', () => {});
// @ts-expect-error nor an unknown one for off
c.off('statusChanged', () => {});
// @ts-expect-error a handler of another event's shape does not compile
c.on(EVENT.KICKED_OUT, (e: { data: UserStatus[] }) => console.log(e.data.length));
c.on(EVENT.USER_STATUS_UPDATED, ({ data }) => {
  // @ts-expect-error data of USER_STATUS_UPDATED is UserStatus[], not the kick's object
  console.log(data.code);
});
c.on(EVENT.NET_STATE_CHANGE, ({ data }) => {
  // @ts-expect-error no such state
  if (data.state === 'online') console.log('never');
});
`;

describe('the types, for a strict consumer', () => {
  // One tsc run (skipLibCheck off checks @types/node whole, which is most of its time) over four files: the
  // uses from import and require, the negative tests, and the same negative tests without their markers.
  let result: { code: number; out: string };
  const bare = NEGATIVE.split('\n').filter((l) => !l.includes('@ts-expect-error')).join('\n');
  beforeAll(() => {
    result = tsc(consumer({ 'use.mts': USE_ESM, 'use.cts': USE_CJS, 'negative.mts': NEGATIVE, 'bare.mts': bare }));
  }, 90_000);
  const errorsIn = (file: string) => result.out.split('\n').filter((l) => l.includes(`/${file}(`) && l.includes('error TS'));

  it('both entries compile with strict and skipLibCheck off, from import and require, with only the dependencies installed', () => {
    expect(errorsIn('use.mts')).toEqual([]);
    expect(errorsIn('use.cts')).toEqual([]);
    // Nothing else failed either (a library's .d.ts, a missing @types package: TS7016).
    expect(result.out.split('\n').filter((l) => l.includes('error TS') && !l.includes('/bare.mts('))).toEqual([]);
  });

  it('on() and off() are typed per event name: each @ts-expect-error marks an error (an unused one would fail tsc)', () => {
    expect(errorsIn('negative.mts')).toEqual([]);
    // Without the markers, each of the five lines is an error: a wrong type would not pass unseen.
    expect(errorsIn('bare.mts')).toHaveLength(5);
  });
});

describe('what the package ships', () => {
  const packed = (): string[] => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  };

  it('LICENSE, dist, docs and every document the README and the CLI help cite', () => {
    const files = new Set(packed());
    for (const f of ['LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.cts', 'dist/sqlite.d.ts', 'dist/cli.js', 'docs/server.md', 'docs/operations.md', 'docs/openapi.json']) {
      expect(files.has(f), f).toBe(true);
    }
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const linked = [...readme.matchAll(/\]\((docs\/[^)#]+)/g)].map((m) => m[1]!);
    expect(linked.length).toBeGreaterThan(3);
    for (const f of linked) expect(files.has(f), `README links ${f}`).toBe(true);
    const help = ['--help', 'serve --help', 'usersig --help'].map((a) => execFileSync(process.execPath, [join(pkg, 'dist/cli.js'), ...a.split(' ')], { encoding: 'utf8' })).join('\n');
    const cited = [...help.matchAll(/[\w./-]+\.md\b/g)].map((m) => m[0]);
    expect(cited.length).toBeGreaterThan(0);
    for (const f of cited) expect(files.has(f), `the CLI help cites ${f}`).toBe(true);
    expect(manifest.files).toContain('docs');
  });

  it('status-engine --version prints the package version', () => {
    expect(execFileSync(process.execPath, [join(pkg, 'dist/cli.js'), '--version'], { encoding: 'utf8' }).trim()).toBe(manifest.version);
  });

  it('npm start runs the server as its own process: SIGTERM to npm stops it (nothing left orphaned)', async () => {
    // --ignore-scripts skips prestart (the build: dist/ is built above); the start script itself runs.
    const p = spawn('npm', ['start', '--ignore-scripts', '--', '--port', '0', '--store', 'memory', '--log-level', 'warn', '--secret-key', 'npm-start-secret-0123456789'], { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`npm start did not listen: ${out}`)), 20_000);
      p.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on (http:\S+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill('SIGTERM');
    await exited;
    // The server itself is gone, not left running under nobody.
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 40_000);
});
