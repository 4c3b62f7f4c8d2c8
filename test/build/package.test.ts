// The build (tsup, as `npm run build` runs it) emits ESM, CJS and .d.ts, and the built package works from
// both `require` and `import` when installed under its name. It builds into a temp copy of the package, so
// that it never races with tests that run the project's own dist/.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
