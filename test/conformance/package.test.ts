// `status-engine/conformance` as a user gets it: the package ships docs/spec.md, exports ./conformance for
// import and require, and the built suite runs with its own runner (no vitest in the bundle) against the
// in-process target, reading the clauses from the shipped spec. Builds only this entry, into a temp copy.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
let app: string;
let pkg: string;

const script = (kind: 'cjs' | 'esm') => `
${kind === 'cjs' ? "const c = require('status-engine/conformance');" : "import * as c from 'status-engine/conformance';"}
async function main() {
  const target = await c.localTarget();
  const report = await c.runSuite(target, { only: ['CS', 'GET-5'] });
  await target.close();
  const summary = c.clauseSummary(report, c.specClauses()).map((s) => s.id + ' ' + s.verdict);
  console.log(JSON.stringify({ totals: c.totalsLine(report), summary, spec: c.specPath(), clauses: c.specClauses().length }));
}
main();
`;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'status-engine-conformance-pkg-'));
  pkg = join(app, 'pkg');
  mkdirSync(join(pkg, 'docs'), { recursive: true });
  execFileSync('npx', ['tsup', '--no-config', '--entry.conformance', 'src/conformance/index.ts', '--format', 'esm,cjs', '--target', 'node20', '--out-dir', join(pkg, 'dist')], { cwd: root, stdio: 'pipe' });
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  copyFileSync(join(root, 'docs/spec.md'), join(pkg, 'docs/spec.md'));
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(pkg, join(app, 'node_modules', 'status-engine'), 'dir');
  writeFileSync(join(app, 'use.cjs'), script('cjs'));
  writeFileSync(join(app, 'use.mjs'), script('esm'));
}, 60_000);

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('status-engine/conformance, built', () => {
  it('is in package.json exports and the package files hold docs/spec.md', () => {
    const p = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(p.exports['./conformance']).toEqual({
      import: { types: './dist/conformance.d.ts', default: './dist/conformance.js' },
      require: { types: './dist/conformance.d.cts', default: './dist/conformance.cjs' },
    });
    expect(p.files.some((f: string) => f === 'docs' || f === 'docs/spec.md')).toBe(true);
    expect(readFileSync(join(root, 'tsup.config.ts'), 'utf8')).toContain("conformance: 'src/conformance/index.ts'");
  });

  it('does not need vitest: the bundle never loads it', () => {
    for (const f of ['conformance.js', 'conformance.cjs']) expect(readFileSync(join(pkg, 'dist', f), 'utf8')).not.toMatch(/['"]vitest['"]/);
  });

  for (const [kind, file] of [['require', 'use.cjs'], ['import', 'use.mjs']] as const) {
    it(`runs the suite with its own runner (${kind}), reading the clauses from the shipped docs/spec.md`, () => {
      const out = JSON.parse(execFileSync(process.execPath, [join(app, file)], { cwd: app, encoding: 'utf8' }));
      expect(out.totals).toBe('5 passed, 0 failed, 0 skipped');
      expect(out.summary).toEqual(['CS-1 passed', 'CS-2 passed', 'CS-3 passed', 'CS-6 passed', 'GET-5 passed']);
      expect(out.spec).toBe(join(pkg, 'docs', 'spec.md'));
      expect(out.clauses).toBe(63);
    });
  }
});
