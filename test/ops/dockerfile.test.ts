// The Dockerfile cannot be built here (no container registry), so its build stage is checked the way docker
// would run it: a context holding only what the stage's COPY lines copy (its `npm ci` stood in for by this
// tree's node_modules), where `npm run build`'s commands must find every file they read. tsup's entries and
// config are checked as files; the dashboard's Vite build is run for real (a few seconds).
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const build = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build!;

/** The build stage: from its FROM to the next FROM. */
const stage = dockerfile.split(/^FROM /m).find((s) => /^\S+ AS build\b/.test(s))!;

describe('the Dockerfile, build stage', () => {
  let ctx: string;
  beforeAll(() => {
    ctx = mkdtempSync(join(tmpdir(), 'se-docker-'));
    for (const m of stage.matchAll(/^COPY (?!--from)(.+)$/gm)) {
      const parts = m[1]!.trim().split(/\s+/);
      const dest = parts.pop()!;
      for (const src of parts) cpSync(join(ROOT, src), dest.endsWith('/') ? join(ctx, src) : join(ctx, dest), { recursive: true });
    }
    // What `npm ci --ignore-scripts && npm rebuild better-sqlite3` installs.
    symlinkSync(join(ROOT, 'node_modules'), join(ctx, 'node_modules'), 'dir');
  });
  afterAll(() => ctx && rmSync(ctx, { recursive: true, force: true }));

  it('runs npm run build', () => {
    expect(stage).toMatch(/^RUN npm run build\b/m);
    expect(build).toMatch(/^tsup && vite build --config (\S+)$/);
  });

  it("copies tsup's config and every entry it builds", () => {
    expect(existsSync(join(ctx, 'tsup.config.ts'))).toBe(true);
    expect(existsSync(join(ctx, 'tsconfig.json'))).toBe(true);
    const entries = [...readFileSync(join(ROOT, 'tsup.config.ts'), 'utf8').matchAll(/'(src\/[^']+\.ts)'/g)].map((m) => m[1]!);
    expect(entries.length).toBeGreaterThan(3);
    for (const e of entries) expect(existsSync(join(ctx, e)), e).toBe(true);
  });

  it("copies what the dashboard's Vite build reads, and that build runs in the stage's context", async () => {
    const config = /vite build --config (\S+)/.exec(build)![1]!;
    expect(existsSync(join(ctx, config)), `${config} is not copied by the build stage`).toBe(true);
    const r = await new Promise<{ code: number; err: string }>((ok) =>
      execFile(process.execPath, [join(ctx, 'node_modules/vite/bin/vite.js'), 'build', '--config', config], { cwd: ctx, encoding: 'utf8', timeout: 60_000 }, (e, _out, err) =>
        ok({ code: e ? ((e as { code?: number }).code ?? 1) : 0, err }),
      ),
    );
    expect(r.err).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(existsSync(join(ctx, 'dist/dashboard/index.html'))).toBe(true);
  }, 90_000);
});
