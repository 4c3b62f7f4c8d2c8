// Writes docs/conformance.md: every clause of docs/spec.md (the project's own spec, as the package ships it)
// with the tests that prove it (a test names clause IDs in its title) and their result. Runs the whole
// vitest suite (or reads a vitest JSON report given with --from FILE), and exits non-zero when a clause of
// sections 1-11 is not proven: no passing test, or a failing one. The file is a function of the report
// alone (sorted, no times), so the same tests give the same file; docs/mutation.json's score is included
// when that file exists (npm run mutation writes it).
//   npm run conformance                     run the suite, write the report
//   npm run conformance -- --from r.json    use a report of `vitest run --reporter=json --outputFile=r.json`
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpec, specPath, type Clause } from '../src/conformance/spec';

export { parseSpec, type Clause };

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REQUIRED_SECTIONS = 11;
const ID = /\b[A-Z]+-\d+\b/g;

export type Status = 'passed' | 'failed' | 'skipped';
export interface TestResult {
  file: string;
  /** Describe blocks and test title: where clause IDs are looked for. */
  fullTitle: string;
  /** The test's own title, for display. */
  title: string;
  status: Status;
}

/** The tests of a vitest JSON report (jest's format), with a full title of describe blocks and test title. */
export function parseReport(json: unknown): { tests: TestResult[]; brokenFiles: Array<{ file: string; message: string }> } {
  const report = json as {
    testResults?: Array<{
      name: string;
      status?: string;
      message?: string;
      assertionResults?: Array<{ ancestorTitles?: string[]; title: string; fullName?: string; status: string }>;
    }>;
  };
  const tests: TestResult[] = [];
  const brokenFiles: Array<{ file: string; message: string }> = [];
  for (const file of report.testResults ?? []) {
    const name = relative(root, file.name);
    const results = file.assertionResults ?? [];
    if (results.length === 0 && file.status === 'failed') brokenFiles.push({ file: name, message: (file.message ?? '').split('\n')[0] ?? '' });
    for (const t of results) {
      const fullTitle = t.fullName ?? [...(t.ancestorTitles ?? []), t.title].join(' ');
      const status: Status = t.status === 'passed' ? 'passed' : t.status === 'failed' ? 'failed' : 'skipped';
      tests.push({ file: name, fullTitle, title: t.title, status });
    }
  }
  // Files run in parallel finish in any order: sort, so that the same tests give the same file.
  tests.sort((a, b) => cmp(a.file, b.file) || cmp(a.fullTitle, b.fullTitle) || cmp(a.status, b.status));
  brokenFiles.sort((a, b) => cmp(a.file, b.file) || cmp(a.message, b.message));
  return { tests, brokenFiles };
}

/** Code-point order: the same on every machine and locale. */
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface Row {
  clause: Clause;
  tests: TestResult[];
  verdict: 'proven' | 'failing' | 'untested';
}

export function mapClauses(clauses: Clause[], tests: TestResult[]): { rows: Row[]; unknownIDs: Map<string, TestResult[]> } {
  const byID = new Map<string, TestResult[]>();
  for (const t of tests) {
    for (const id of new Set(t.fullTitle.match(ID) ?? [])) byID.set(id, [...(byID.get(id) ?? []), t]);
  }
  const rows = clauses.map((clause): Row => {
    const ts = byID.get(clause.id) ?? [];
    const verdict = ts.some((t) => t.status === 'failed') ? 'failing' : ts.some((t) => t.status === 'passed') ? 'proven' : 'untested';
    return { clause, tests: ts, verdict };
  });
  // An ID with a clause prefix that is not a clause is likely a typo; other tokens (UTF-8) are not IDs.
  const known = new Set(clauses.map((c) => c.id));
  const prefixes = new Set(clauses.map((c) => c.id.replace(/-\d+$/, '')));
  const unknownIDs = new Map([...byID].filter(([id]) => !known.has(id) && prefixes.has(id.replace(/-\d+$/, ''))));
  return { rows, unknownIDs };
}

const MARK: Record<Row['verdict'], string> = { proven: '✅', failing: '❌', untested: '⚠️' };
const TEST_MARK: Record<Status, string> = { passed: '✅', failed: '❌', skipped: '⏭️' };
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const short = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const anchor = (id: string) => id.toLowerCase();

/** What `npm run mutation` (StrykerJS) leaves in docs/mutation.json: the score and the mutant counts. */
export interface MutationSummary {
  score: number;
  killed?: number;
  survived?: number;
  [count: string]: unknown;
}

export function mutationLine(m: MutationSummary): string {
  const counts = Object.entries(m)
    .filter(([k, v]) => k !== 'score' && typeof v === 'number')
    .sort(([a], [b]) => cmp(a, b))
    .map(([k, v]) => `${k} ${v}`);
  const score = Number.isInteger(m.score) ? String(m.score) : m.score.toFixed(2);
  // The run(s) the figure comes from, as the report says (a merged report names both commands).
  const how = typeof m.command === 'string' && m.command !== '' ? m.command : 'npm run mutation';
  return `- Mutation score (StrykerJS, \`${how}\`, docs/mutation.json): ${score}%${counts.length ? ` (${counts.join(', ')})` : ''}`;
}

export function renderMarkdown(
  rows: Row[],
  extra: { total: number; unknownIDs: Map<string, TestResult[]>; brokenFiles: Array<{ file: string; message: string }>; specPath: string; mutation?: MutationSummary | null },
): string {
  const count = (v: Row['verdict'], required: boolean) => rows.filter((r) => r.verdict === v && (r.clause.section !== null && r.clause.section <= REQUIRED_SECTIONS) === required).length;
  const out: string[] = [];
  out.push('# Conformance: the clauses of docs/spec.md and the tests that prove them');
  out.push('');
  out.push('Generated by `npm run conformance` (scripts/conformance.ts); do not edit by hand. A test proves a clause');
  out.push('when its full title (describe blocks and test title) names the clause ID. A clause is ✅ proven when at');
  out.push('least one of its tests passed and none failed, ❌ when one failed, ⚠️ when no test names it.');
  out.push(`Sections 1-${REQUIRED_SECTIONS} must all be proven (the script exits non-zero otherwise); section 12 (EXT) is reported too.`);
  out.push('');
  out.push(`- Spec: \`${extra.specPath}\`, ${rows.length} clauses`);
  out.push(`- Tests run: ${extra.total}`);
  out.push(`- Sections 1-${REQUIRED_SECTIONS}: ${count('proven', true)} proven, ${count('failing', true)} failing, ${count('untested', true)} untested`);
  out.push(`- Other sections: ${count('proven', false)} proven, ${count('failing', false)} failing, ${count('untested', false)} untested`);
  if (extra.mutation) out.push(mutationLine(extra.mutation));
  out.push('');
  out.push('| Clause | Section | Text | Result | Tests |');
  out.push('|---|---|---|---|---|');
  for (const r of rows) {
    const passed = r.tests.filter((t) => t.status === 'passed').length;
    const failed = r.tests.filter((t) => t.status === 'failed').length;
    const result = `${MARK[r.verdict]} ${passed} passed${failed ? `, ${failed} failed` : ''}`;
    const names = r.tests.slice(0, 3).map((t) => `${TEST_MARK[t.status]} ${cell(short(t.title, 80))} (${cell(t.file.replace(/^test\//, ''))})`);
    if (r.tests.length > 3) names.push(`[and ${r.tests.length - 3} more](#${anchor(r.clause.id)})`);
    const section = r.clause.section !== null ? `${r.clause.section}. ${r.clause.sectionTitle}` : r.clause.sectionTitle;
    out.push(`| [${r.clause.id}](#${anchor(r.clause.id)}) | ${cell(section)} | ${cell(short(r.clause.text, 100))} | ${result} | ${names.join('<br>') || '—'} |`);
  }
  out.push('');
  out.push('## Tests per clause');
  for (const r of rows) {
    out.push('');
    out.push(`### ${r.clause.id}`);
    out.push('');
    out.push(`${MARK[r.verdict]} ${r.clause.text}`);
    out.push('');
    if (r.tests.length === 0) out.push('- no test names this clause');
    for (const t of r.tests) out.push(`- ${TEST_MARK[t.status]} \`${t.file}\`: ${t.fullTitle}`);
  }
  if (extra.unknownIDs.size > 0) {
    out.push('');
    out.push('## Clause-like IDs in test titles that are not clauses of docs/spec.md (typos?)');
    out.push('');
    for (const [id, ts] of [...extra.unknownIDs].sort(([a], [b]) => a.localeCompare(b))) {
      out.push(`- ${id}: ${ts.map((t) => `\`${t.file}\` ${short(t.fullTitle, 80)}`).join('; ')}`);
    }
  }
  if (extra.brokenFiles.length > 0) {
    out.push('');
    out.push('## Test files that failed to run');
    out.push('');
    for (const f of extra.brokenFiles) out.push(`- \`${f.file}\`: ${f.message}`);
  }
  out.push('');
  return out.join('\n');
}

/** Runs the whole suite with vitest's JSON reporter (and its default one, for progress) and reads the report. */
function runSuite(): unknown {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-'));
  const file = join(dir, 'vitest.json');
  try {
    const bin = join(root, 'node_modules/vitest/vitest.mjs');
    const r = spawnSync(process.execPath, [bin, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`], { cwd: root, stdio: 'inherit' });
    if (!existsSync(file)) throw new Error(`vitest wrote no report (exit ${r.status ?? r.signal})`);
    return JSON.parse(readFileSync(file, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** docs/conformance.md from a vitest JSON report, the spec's text and the mutation summary: nothing else. */
export function buildConformanceDoc(report: unknown, o: { specMarkdown: string; specShown: string; mutation?: MutationSummary | null }): { markdown: string; rows: Row[]; tests: TestResult[] } {
  const clauses = parseSpec(o.specMarkdown);
  const { tests, brokenFiles } = parseReport(report);
  const { rows, unknownIDs } = mapClauses(clauses, tests);
  return { markdown: renderMarkdown(rows, { total: tests.length, unknownIDs, brokenFiles, specPath: o.specShown, mutation: o.mutation }), rows, tests };
}

function readMutation(): MutationSummary | null {
  const file = join(root, 'docs/mutation.json');
  if (!existsSync(file)) return null;
  const m = JSON.parse(readFileSync(file, 'utf8')) as MutationSummary;
  if (typeof m.score !== 'number') throw new Error(`docs/mutation.json has no numeric score: ${JSON.stringify(m).slice(0, 200)}`);
  return m;
}

function main(argv: string[]): number {
  const from = argv.indexOf('--from');
  const report = from >= 0 ? JSON.parse(readFileSync(resolve(argv[from + 1] ?? ''), 'utf8')) : runSuite();
  const spec = specPath();
  const { markdown, rows, tests } = buildConformanceDoc(report, { specMarkdown: readFileSync(spec, 'utf8'), specShown: relative(root, spec), mutation: readMutation() });
  writeFileSync(join(root, 'docs/conformance.md'), markdown);

  const missing = rows.filter((r) => r.clause.section !== null && r.clause.section <= REQUIRED_SECTIONS && r.verdict !== 'proven');
  console.log(`\nwrote docs/conformance.md: ${rows.filter((r) => r.verdict === 'proven').length}/${rows.length} clauses proven, ${tests.length} tests`);
  if (missing.length > 0) {
    console.error(`not proven (sections 1-${REQUIRED_SECTIONS}): ${missing.map((r) => `${r.clause.id} (${r.verdict})`).join(', ')}`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
