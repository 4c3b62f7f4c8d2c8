// The mutation run (`npm run mutation`, StrykerJS) is too slow for `npm test`; these fast checks keep its
// configuration pointed at what exists (the machines, the rule modules, the tests that matter) and keep
// docs/mutation.json, which docs/conformance.md quotes, consistent with itself and with its report script.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { markdown, score, summarize, type MutationSummary } from '../../scripts/mutation-report';
import mutationVitest from '../../vitest.mutation.config';

const root = new URL('../../', import.meta.url);
// Loaded as Stryker loads it (a plain ES module), by URL: TypeScript has no types for a .mjs config.
const stryker = ((await import(new URL('stryker.config.mjs', root).href)) as { default: unknown }).default as {
  testRunner: string;
  coverageAnalysis: string;
  mutate: string[];
  vitest: { configFile: string };
  concurrency: number;
};

describe('issue 10.6: the StrykerJS configuration', () => {
  it('mutates every machine file and the pure rule modules, and runs each mutant against the tests that cover it', () => {
    expect(stryker.testRunner).toBe('vitest');
    expect(stryker.coverageAnalysis).toBe('perTest');
    expect(stryker.mutate).toEqual(expect.arrayContaining(['machines/**/*.ts', 'src/engine/rules/**/*.ts']));
    // The exclusions leave every machine definition in (only the re-export list is out).
    const excluded = stryker.mutate.filter((g) => g.startsWith('!'));
    expect(excluded.sort()).toEqual(['!**/*.test.ts', '!machines/index.ts']);
    const machineFiles = readdirSync(new URL('machines/', root)).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    expect(machineFiles.length).toBeGreaterThanOrEqual(6);
    expect(stryker.concurrency).toBeLessThanOrEqual(2);
  });

  it('runs the machine, model-based, property and engine tests, and no test that reads the mutated source text', () => {
    expect(existsSync(new URL(stryker.vitest.configFile, root))).toBe(true);
    const test = (mutationVitest as { test: { include: string[]; exclude: string[] } }).test;
    for (const dir of ['test/machines', 'test/model', 'test/properties', 'test/engine']) {
      expect(existsSync(new URL(`${dir}/`, root)), dir).toBe(true);
      expect(test.include).toContain(`${dir}/**/*.test.ts`);
    }
    expect(test.exclude).toEqual(['test/machines/extractor*.test.ts', 'test/machines/mutation-config.test.ts']);
  });
});

describe('issue 10.6: the rules-only run (stryker.rules.config.mjs, laid over docs/mutation.json with --merge)', () => {
  it('is the whole configuration with fewer files and its own report, so that the whole run is not disturbed', async () => {
    const rules = ((await import(new URL('stryker.rules.config.mjs', root).href)) as { default: Record<string, unknown> }).default;
    expect(rules.mutate).toEqual(expect.arrayContaining(['src/engine/rules/**/*.ts', 'machines/flap.ts', '!**/*.test.ts']));
    const { mutate, jsonReporter, incrementalFile, tempDirName, ...same } = rules;
    const whole = stryker as unknown as Record<string, unknown>;
    expect(same).toEqual(Object.fromEntries(Object.entries(whole).filter(([k]) => k in same)));
    expect(Object.keys(same).sort()).toEqual(Object.keys(whole).filter((k) => !['mutate', 'jsonReporter', 'incrementalFile', 'tempDirName'].includes(k)).sort());
    expect(jsonReporter).not.toEqual(whole.jsonReporter);
    expect(incrementalFile).not.toBe(whole.incrementalFile);
    expect(tempDirName).not.toBe(whole.tempDirName);
    expect(mutate).not.toEqual(whole.mutate);
  });
});

describe('issue 10.6: docs/mutation.json', () => {
  const doc = JSON.parse(readFileSync(new URL('docs/mutation.json', root), 'utf8')) as MutationSummary;

  it('names files that exist, and its totals are the sums of its files', () => {
    const files = Object.entries(doc.files);
    expect(files.length).toBeGreaterThan(0);
    for (const [f] of files) expect(existsSync(new URL(f, root)), f).toBe(true);
    for (const k of ['killed', 'survived', 'timeout', 'noCoverage', 'total'] as const) {
      expect(doc[k], k).toBe(files.reduce((n, [, c]) => n + c[k], 0));
    }
    expect(doc.score).toBe(score(doc));
    expect(doc.survivors.length).toBe(doc.survived + doc.noCoverage);
  });

  it('explains every surviving mutant, and docs/mutation.md is its rendering', () => {
    expect(doc.survivors.filter((s) => s.why === null)).toEqual([]);
    expect(readFileSync(new URL('docs/mutation.md', root), 'utf8')).toBe(markdown(doc));
  });
});

describe('scripts/mutation-report.ts', () => {
  it("counts a Stryker report and quotes each survivor's original code", () => {
    const source = 'const a = 1;\nexport const b = a > 0 ? "x" : "y";\n';
    const m = (id: string, status: string, line: number, column: number, endColumn: number, mutatorName = 'ConditionalExpression') => ({
      id,
      mutatorName,
      replacement: 'true',
      status,
      location: { start: { line, column }, end: { line, column: endColumn } },
    });
    const s = summarize(
      {
        files: {
          'machines/x.ts': {
            source,
            mutants: [m('1', 'Killed', 2, 18, 23), m('2', 'Survived', 2, 18, 23), m('3', 'Timeout', 1, 11, 12, 'NumberLiteral'), m('4', 'NoCoverage', 2, 26, 29)],
          } as never,
        },
      },
      ['machines/**/*.ts'],
    );
    expect(s).toMatchObject({ killed: 1, survived: 1, timeout: 1, noCoverage: 1, total: 4, score: 50 });
    expect(s.survivors.map((v) => [v.line, v.original, v.status])).toEqual([
      [2, 'a > 0', 'Survived'],
      [2, '"x"', 'NoCoverage'],
    ]);
    expect(markdown(s)).toContain('**unexplained**');
  });
});
