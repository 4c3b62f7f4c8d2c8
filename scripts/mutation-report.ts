// Turns StrykerJS's report (.tmp/mutation/mutation.json, written by `npm run mutation`) into docs/mutation.json
// (the figures docs/conformance.md quotes) and docs/mutation.md (the score and each surviving mutant with
// why it survives). The reasons are kept below, keyed by file, mutator and the code the mutant replaced;
// a survivor with no reason is listed as unexplained, so a new one cannot slip in unnoticed.
//   npm run mutation                       run Stryker, then this script
//   tsx scripts/mutation-report.ts [FILE]  only this script, from a Stryker JSON report
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

type Status = 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'CompileError' | 'RuntimeError' | 'Ignored' | 'Pending';
interface Position {
  line: number;
  column: number;
}
interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  location: { start: Position; end: Position };
  status: Status;
  statusReason?: string;
}
interface StrykerReport {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

export interface Counts {
  score: number | null;
  killed: number;
  survived: number;
  timeout: number;
  noCoverage: number;
  ignored: number;
  errors: number;
  total: number;
}
export interface Survivor {
  file: string;
  line: number;
  mutator: string;
  original: string;
  replacement: string;
  status: 'Survived' | 'NoCoverage';
  why: string | null;
}
export interface MutationSummary extends Counts {
  tool: string;
  command: string;
  mutate: string[];
  files: Record<string, Counts>;
  survivors: Survivor[];
}

/**
 * Why a mutant survives: matched on file, mutator and the original code as the report shows it (whitespace
 * squeezed). Only equivalent mutants belong here, changes that no test can see because the behaviour is the
 * same; a mutant that a test could kill gets a test instead.
 */
export const REASONS: Array<{ file: RegExp; mutator: string; original: RegExp; why: string }> = [
  {
    file: /^machines\//,
    mutator: 'ObjectLiteral',
    original: /^\{ context: \{\} as \w+, events: \{\} as \w+,/,
    why: "`setup({ types })` exists for TypeScript only (`{} as T` values); XState never reads them at run time.",
  },
  {
    file: /^machines\/rateWindow\.ts$/,
    mutator: 'ConditionalExpression',
    original: /^i < stamps\.length$/,
    why: 'Equivalent: past the end `stamps[i]` is undefined and `undefined <= since` is false, so the loop stops there anyway.',
  },
  {
    file: /^machines\/rateWindow\.ts$/,
    mutator: 'EqualityOperator',
    original: /^i < stamps\.length$/,
    why: 'Equivalent, as above: one step past the end reads undefined, which ends the loop.',
  },
  {
    file: /^machines\/rateWindow\.ts$/,
    mutator: 'ConditionalExpression',
    original: /^i === 0$/,
    why: 'Equivalent: `stamps.slice(0)` is a copy of the same list; the test only spares the copy (hot path).',
  },
  {
    file: /^machines\/userStatus\.ts$/,
    mutator: 'ConditionalExpression',
    original: /^d !== undefined$/,
    why: '`nativeDevice` is only ever tried after `deviceUnknown` (DEVICE.DISCONNECT: unknown devices stop at the first branch), so the device is always there.',
  },
];

/** Stryker's mutation score: killed and timed out over every mutant that ran or had no test. */
export function score(c: Omit<Counts, 'score'>): number | null {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? null : Math.round((10_000 * (c.killed + c.timeout)) / valid) / 100;
}

function count(mutants: Mutant[]): Counts {
  const n = (s: Status[]) => mutants.filter((m) => s.includes(m.status)).length;
  const c = {
    killed: n(['Killed']),
    survived: n(['Survived']),
    timeout: n(['Timeout']),
    noCoverage: n(['NoCoverage']),
    ignored: n(['Ignored']),
    errors: n(['CompileError', 'RuntimeError']),
    total: mutants.length,
  };
  return { score: score(c), ...c };
}

/** The source text a mutant replaces (1-based lines, columns as Stryker counts them). */
function originalOf(source: string, m: Mutant): string {
  const lines = source.split('\n');
  const { start, end } = m.location;
  const text =
    start.line === end.line
      ? (lines[start.line - 1] ?? '').slice(start.column - 1, end.column - 1)
      : [(lines[start.line - 1] ?? '').slice(start.column - 1), ...lines.slice(start.line, end.line - 1), (lines[end.line - 1] ?? '').slice(0, end.column - 1)].join('\n');
  return squeeze(text);
}
const squeeze = (s: string) => s.replace(/\s+/g, ' ').trim();
const clip = (s: string, n = 90) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function summarize(report: StrykerReport, mutate: string[]): MutationSummary {
  const files: Record<string, Counts> = {};
  const survivors: Survivor[] = [];
  const all: Mutant[] = [];
  for (const [path, f] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    const file = relative(root, resolve(root, path)).split('\\').join('/');
    files[file] = count(f.mutants);
    all.push(...f.mutants);
    for (const m of [...f.mutants].sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)) {
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
      const original = originalOf(f.source, m);
      survivors.push({
        file,
        line: m.location.start.line,
        mutator: m.mutatorName,
        original,
        replacement: squeeze(m.replacement ?? ''),
        status: m.status,
        why: REASONS.find((r) => r.file.test(file) && r.mutator === m.mutatorName && r.original.test(original))?.why ?? null,
      });
    }
  }
  return { tool: 'StrykerJS 9 (@stryker-mutator/core, vitest runner, perTest coverage)', command: 'npm run mutation', mutate, ...count(all), files, survivors };
}

export function markdown(s: MutationSummary): string {
  const pct = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)}%`);
  const out = [
    '# Mutation testing',
    '',
    'Generated by `npm run mutation` (StrykerJS over `' + s.mutate.join('`, `') + '`, then scripts/mutation-report.ts);',
    'do not edit by hand. Each mutant runs only the tests that cover it, from vitest.mutation.config.ts',
    '(test/machines, test/model, test/properties, test/engine and the docs/machines.md check).',
    'The figures are in docs/mutation.json.',
    '',
    `**Mutation score: ${pct(s.score)}** (killed or timed out over all mutants that ran or had no test).`,
    '',
    '| file | score | killed | timeout | survived | no coverage | total |',
    '|---|---|---|---|---|---|---|',
    ...Object.entries(s.files).map(
      ([f, c]) => `| ${f} | ${pct(c.score)} | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} | ${c.total} |`,
    ),
    `| **all** | **${pct(s.score)}** | ${s.killed} | ${s.timeout} | ${s.survived} | ${s.noCoverage} | ${s.total} |`,
    '',
    '## Surviving mutants and why they survive',
    '',
  ];
  if (s.survivors.length === 0) out.push('None.');
  else {
    out.push('| where | mutator | code | becomes | why it survives |', '|---|---|---|---|---|');
    const cell = (x: string) => '`' + clip(x).replace(/\|/g, '\\|').replace(/`/g, "'") + '`';
    for (const v of s.survivors) {
      out.push(
        `| ${v.file}:${v.line} | ${v.mutator}${v.status === 'NoCoverage' ? ' (no test runs it)' : ''} | ${cell(v.original)} | ${cell(v.replacement)} | ${v.why ?? '**unexplained**'} |`,
      );
    }
  }
  return out.join('\n') + '\n';
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const from = resolve(root, process.argv[2] ?? '.tmp/mutation/mutation.json');
  const config = (await import(resolve(root, 'stryker.config.mjs'))) as { default: { mutate: string[] } };
  const s = summarize(JSON.parse(readFileSync(from, 'utf8')) as StrykerReport, config.default.mutate);
  writeFileSync(resolve(root, 'docs/mutation.json'), JSON.stringify(s, null, 2) + '\n');
  writeFileSync(resolve(root, 'docs/mutation.md'), markdown(s));
  const open = s.survivors.filter((v) => v.why === null).length;
  console.log(`mutation score ${s.score}% (${s.killed} killed, ${s.timeout} timeout, ${s.survived} survived, ${s.noCoverage} no coverage); ${open} survivor(s) unexplained`);
}
