// scripts/mutation-report.ts --merge: a run over some files laid over the last summary (its files replace
// theirs, totals summed again, reasons looked up again).
import { describe, expect, it } from 'vitest';
import { overlay, type MutationSummary } from '../../scripts/mutation-report';

const counts = (killed: number, survived: number) => ({ score: null, killed, survived, timeout: 0, noCoverage: 0, ignored: 0, errors: 0, total: killed + survived });
const summary = (files: Record<string, ReturnType<typeof counts>>, survivors: MutationSummary['survivors']): MutationSummary => ({
  tool: 't', command: 'c', mutate: [], ...counts(0, 0), files, survivors, timeouts: [],
});

describe('mutation report overlay', () => {
  it('replaces the files of the new run, keeps the others, sums the totals and scores them again', () => {
    const base = summary({ 'machines/a.ts': counts(8, 2), 'src/engine/rules/b.ts': counts(1, 1) }, [
      { file: 'machines/a.ts', line: 1, mutator: 'M', original: 'x', replacement: 'y', status: 'Survived', why: null },
      { file: 'src/engine/rules/b.ts', line: 2, mutator: 'M', original: 'x', replacement: 'y', status: 'Survived', why: null },
    ]);
    const next = summary({ 'src/engine/rules/b.ts': counts(4, 0) }, []);
    const s = overlay(base, next);
    expect(Object.keys(s.files)).toEqual(['machines/a.ts', 'src/engine/rules/b.ts']);
    expect([s.killed, s.survived, s.total, s.score]).toEqual([12, 2, 14, 85.71]);
    expect(s.survivors.map((v) => v.file)).toEqual(['machines/a.ts']);
  });
});
