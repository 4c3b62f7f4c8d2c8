// scripts/conformance.ts: how SPEC.md clauses are read, how test titles map to them, and the verdicts
// that decide its exit code. (The report itself is docs/conformance.md, written by `npm run conformance`.)
import { describe, expect, it } from 'vitest';
import { mapClauses, parseReport, parseSpec, renderMarkdown, type TestResult } from '../../scripts/conformance';

const SPEC = `# Title
## Terms
- **user**: not a clause
## 1. Status model (ST)
- ST-1 Every user has two statuses.
- ST-2 Status belongs to the user,
  not the device.
## 12. Beyond the seed (EXT)
- EXT-1 **Reasons.** Every transition carries a reason.
`;

const test = (fullTitle: string, status: TestResult['status'] = 'passed'): TestResult => ({ file: 'test/x.test.ts', fullTitle, title: fullTitle, status });

describe('conformance report script', () => {
  it('reads every clause line with its numbered section, joining wrapped lines', () => {
    expect(parseSpec(SPEC)).toEqual([
      { id: 'ST-1', section: 1, sectionTitle: 'Status model (ST)', text: 'Every user has two statuses.' },
      { id: 'ST-2', section: 1, sectionTitle: 'Status model (ST)', text: 'Status belongs to the user, not the device.' },
      { id: 'EXT-1', section: 12, sectionTitle: 'Beyond the seed (EXT)', text: '**Reasons.** Every transition carries a reason.' },
    ]);
  });

  it('maps IDs anywhere in the full title; a clause is proven by a pass with no failure, failing with any failure', () => {
    const clauses = parseSpec(SPEC);
    const { rows, unknownIDs } = mapClauses(clauses, [
      test('status model ST-1 two statuses'),
      test('ST-2 one', 'passed'),
      test('ST-2 two', 'failed'),
      test('EXT-1 skipped', 'skipped'),
      test('UTF-8 bytes ST-1'),
      test('ST-99 a typo'),
    ]);
    expect(rows.map((r) => [r.clause.id, r.verdict, r.tests.length])).toEqual([
      ['ST-1', 'proven', 2],
      ['ST-2', 'failing', 2],
      ['EXT-1', 'untested', 1],
    ]);
    // UTF-8 is no clause ID; ST-99 looks like one and is reported.
    expect([...unknownIDs.keys()]).toEqual(['ST-99']);
  });

  it('reads a vitest JSON report (jest format), and names files that failed to load', () => {
    const { tests, brokenFiles } = parseReport({
      testResults: [
        { name: `${process.cwd()}/test/a.test.ts`, status: 'passed', assertionResults: [{ ancestorTitles: ['outer'], title: 'ST-1 x', fullName: 'outer ST-1 x', status: 'passed' }] },
        { name: `${process.cwd()}/test/b.test.ts`, status: 'failed', message: 'SyntaxError: nope\n  at ...', assertionResults: [] },
        { name: `${process.cwd()}/test/c.test.ts`, status: 'passed', assertionResults: [{ ancestorTitles: [], title: 'ST-2 y', status: 'pending' }] },
      ],
    });
    expect(tests).toEqual([
      { file: 'test/a.test.ts', fullTitle: 'outer ST-1 x', title: 'ST-1 x', status: 'passed' },
      { file: 'test/c.test.ts', fullTitle: 'ST-2 y', title: 'ST-2 y', status: 'skipped' },
    ]);
    expect(brokenFiles).toEqual([{ file: 'test/b.test.ts', message: 'SyntaxError: nope' }]);
  });

  it('renders one table row per clause and a list of tests per clause', () => {
    const { rows, unknownIDs } = mapClauses(parseSpec(SPEC), [test('ST-1 a | pipe')]);
    const md = renderMarkdown(rows, { total: 1, unknownIDs, brokenFiles: [], specPath: 'SPEC.md' });
    expect(md).toContain('| [ST-1](#st-1) | 1. Status model (ST) | Every user has two statuses. | ✅ 1 passed | ✅ ST-1 a \\| pipe (x.test.ts) |');
    expect(md).toContain('| [ST-2](#st-2) |');
    expect(md).toContain('### EXT-1');
    expect(md).toContain('- Sections 1-11: 1 proven, 0 failing, 1 untested');
  });
});
