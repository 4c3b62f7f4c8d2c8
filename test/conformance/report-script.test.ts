// docs/conformance.md is deterministic (issue 10 item 8): the same tests give the same file, in whatever
// order vitest's parallel files report them; it reads the clauses from docs/spec.md, and carries the
// mutation score when docs/mutation.json exists.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConformanceDoc, mutationLine } from '../../scripts/conformance';
import { specPath } from '../../src/conformance/spec';

const root = resolve(__dirname, '../..');
const spec = readFileSync(join(root, 'docs/spec.md'), 'utf8');

type Assertion = { ancestorTitles: string[]; title: string; fullName: string; status: string };
const a = (ancestors: string[], title: string, status = 'passed'): Assertion => ({ ancestorTitles: ancestors, title, fullName: [...ancestors, title].join(' '), status });

const files = [
  { name: join(root, 'test/b.test.ts'), status: 'passed', assertionResults: [a(['b'], 'SUB-3 yourself'), a(['b'], 'ST-1 two statuses'), a(['b'], 'EXT-2 resume', 'skipped')] },
  { name: join(root, 'test/a.test.ts'), status: 'passed', assertionResults: [a(['a'], 'ST-1 two statuses'), a(['a', 'inner'], 'SUB-3 again', 'failed'), a([], 'SUB-77 typo')] },
  { name: join(root, 'test/c.test.ts'), status: 'failed', message: 'SyntaxError: x\n at y', assertionResults: [] },
  { name: join(root, 'test/0.test.ts'), status: 'failed', message: 'Error: first', assertionResults: [] },
];

/** The same report with its files and each file's tests in another order. */
function shuffled(seed: number) {
  const rot = <T>(xs: T[], k: number) => xs.map((_, i) => xs[(i + k) % xs.length]!);
  return { testResults: rot(files, seed).map((f) => ({ ...f, assertionResults: rot(f.assertionResults, seed + 1).reverse() })) };
}

describe('docs/conformance.md (scripts/conformance.ts)', () => {
  it('the same tests give the same file, whatever order the report lists files and tests in', () => {
    const docs = [0, 1, 2, 3].map((seed) => buildConformanceDoc(shuffled(seed), { specMarkdown: spec, specShown: 'docs/spec.md' }).markdown);
    for (const d of docs) expect(d).toBe(docs[0]);
    // Within a clause, tests are listed by file then title: a.test.ts before b.test.ts.
    const st1 = docs[0]!.slice(docs[0]!.indexOf('### ST-1'), docs[0]!.indexOf('### ST-2'));
    expect(st1.indexOf('test/a.test.ts')).toBeLessThan(st1.indexOf('test/b.test.ts'));
    const broken = docs[0]!.slice(docs[0]!.indexOf('## Test files that failed to run'));
    expect(broken.indexOf('test/0.test.ts')).toBeLessThan(broken.indexOf('test/c.test.ts'));
    expect(docs[0]).toContain('- SUB-77: `test/a.test.ts` SUB-77 typo');
  });

  it('reads the clauses of docs/spec.md, the file the package ships and every conformance tool reads', () => {
    expect(specPath()).toBe(join(root, 'docs/spec.md'));
    const { markdown, rows } = buildConformanceDoc({ testResults: files }, { specMarkdown: spec, specShown: 'docs/spec.md' });
    expect(rows).toHaveLength(63);
    expect(rows[0]!.clause.id).toBe('ST-1');
    expect(rows.at(-1)!.clause.id).toBe('EXT-9');
    expect(markdown).toContain('- Spec: `docs/spec.md`, 63 clauses');
    expect(rows.find((r) => r.clause.id === 'SUB-3')!.verdict).toBe('failing');
    expect(rows.find((r) => r.clause.id === 'EXT-2')!.verdict).toBe('untested');
  });

  it('includes the mutation score of docs/mutation.json when there is one, and nothing when not', () => {
    const mutation = { score: 91.25, killed: 365, survived: 35, timeout: 0 };
    const withScore = buildConformanceDoc({ testResults: files }, { specMarkdown: spec, specShown: 'docs/spec.md', mutation }).markdown;
    expect(withScore).toContain('- Mutation score (StrykerJS, `npm run mutation`, docs/mutation.json): 91.25% (killed 365, survived 35, timeout 0)');
    expect(buildConformanceDoc({ testResults: files }, { specMarkdown: spec, specShown: 'docs/spec.md' }).markdown).not.toContain('Mutation score');
    expect(mutationLine({ score: 90 })).toBe('- Mutation score (StrykerJS, `npm run mutation`, docs/mutation.json): 90%');
    expect(mutationLine({ score: 90, command: 'npm run mutation + npx stryker run stryker.rules.config.mjs' })).toBe(
      '- Mutation score (StrykerJS, `npm run mutation + npx stryker run stryker.rules.config.mjs`, docs/mutation.json): 90%',
    );
  });
});
