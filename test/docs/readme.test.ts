// The README's embedded example runs as written (against this source tree) and prints what its comments say.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');

describe('README', () => {
  it('the "Embedded in 20 lines" example runs and bob hears alice', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const code = /## Embedded in 20 lines\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code).toBeTruthy();
    const dir = mkdtempSync(join(tmpdir(), 'se-readme-'));
    try {
      const file = join(dir, 'example.mts');
      writeFileSync(file, code!.replace("from 'status-engine'", `from ${JSON.stringify(join(root, 'src/index.ts'))}`));
      const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
      expect(out).toMatch(/bob hears[\s\S]*userID: 'alice'[\s\S]*customStatus: 'in a meeting'[\s\S]*reason: 'custom_status_set'/);
      expect(out).toMatch(/statusType: 3/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
