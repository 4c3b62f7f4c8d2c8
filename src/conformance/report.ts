// What a run looks like: one line per test, a summary per clause (in the spec's order), the closing count,
// and the same as Markdown, JSON and JUnit XML. Pure functions of a SuiteReport: no clock, no timings, so
// the same run gives the same files.
import { CAPABILITY_NAMES, type Capability } from './target';
import type { SuiteReport, TestOutcome, Verdict } from './runner';
import type { Clause } from './spec';

const MARK: Record<Verdict, string> = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP' };

export interface ClauseSummary {
  id: string;
  text: string;
  verdict: Verdict;
  passed: number;
  failed: number;
  skipped: number;
}

/** One line per test: its result and its title (which begins with its clause ids), plus why. */
export function outcomeLine(o: TestOutcome): string {
  const head = `${MARK[o.status]}  ${o.title}`;
  if (o.status === 'skipped') return `${head}  [skipped: ${o.reason}]`;
  if (o.status === 'failed') return `${head}\n      ${(o.error ?? '').split('\n').join('\n      ')}`;
  return head;
}

/** Each clause the run's tests name, in the spec's order (unknown ids last, sorted). */
export function clauseSummary(report: SuiteReport, clauses: readonly Clause[]): ClauseSummary[] {
  const ids = new Set(report.outcomes.flatMap((o) => o.clauses));
  const known = clauses.filter((c) => ids.has(c.id));
  const unknown = [...ids].filter((id) => !clauses.some((c) => c.id === id)).sort();
  return [...known.map((c) => ({ id: c.id, text: c.text })), ...unknown.map((id) => ({ id, text: '(not a clause of docs/spec.md)' }))].map(({ id, text }) => {
    const os = report.outcomes.filter((o) => o.clauses.includes(id));
    const n = (v: Verdict) => os.filter((o) => o.status === v).length;
    const verdict: Verdict = n('failed') > 0 ? 'failed' : n('passed') > 0 ? 'passed' : 'skipped';
    return { id, text, verdict, passed: n('passed'), failed: n('failed'), skipped: n('skipped') };
  });
}

export function totalsLine(r: Pick<SuiteReport, 'passed' | 'failed' | 'skipped'>): string {
  return `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`;
}

export function capabilitiesLine(report: SuiteReport): string {
  return (Object.keys(CAPABILITY_NAMES) as Capability[]).map((k) => `${CAPABILITY_NAMES[k]}: ${report.capabilities[k] ? 'yes' : 'no'}`).join(', ');
}

const counts = (s: ClauseSummary) =>
  [s.passed && `${s.passed} passed`, s.failed && `${s.failed} failed`, s.skipped && `${s.skipped} skipped`].filter(Boolean).join(', ');

/** The per-clause summary and the closing line, as the command prints them after the test lines. */
export function summaryText(report: SuiteReport, clauses: readonly Clause[]): string {
  const rows = clauseSummary(report, clauses);
  const width = Math.max(0, ...rows.map((r) => r.id.length));
  const lines = ['', 'per clause:'];
  for (const r of rows) lines.push(`  ${r.id.padEnd(width)}  ${MARK[r.verdict]}  ${counts(r)}`);
  lines.push('', totalsLine(report));
  return lines.join('\n');
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const short = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function markdownReport(report: SuiteReport, clauses: readonly Clause[], heading = `Conformance of ${report.target}`): string {
  const out = [`# ${heading}`, '', `Checked against docs/spec.md of status-engine by \`status-engine conformance\`.`, ''];
  out.push(`- Result: ${totalsLine(report)}`, `- Capabilities: ${capabilitiesLine(report)}`, '');
  out.push('## Per clause', '', '| Clause | Result | Tests | Text |', '|---|---|---|---|');
  for (const r of clauseSummary(report, clauses)) out.push(`| ${r.id} | ${MARK[r.verdict]} | ${counts(r)} | ${cell(short(r.text, 120))} |`);
  out.push('', '## Tests', '', '| Result | Test | Note |', '|---|---|---|');
  for (const o of report.outcomes) out.push(`| ${MARK[o.status]} | ${cell(o.title)} | ${cell(o.reason ?? o.error ?? '')} |`);
  out.push('');
  return out.join('\n');
}

export function jsonReport(report: SuiteReport, clauses: readonly Clause[]): string {
  return `${JSON.stringify({ ...report, clauses: clauseSummary(report, clauses) }, null, 2)}\n`;
}

const xml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export function junitReport(report: SuiteReport): string {
  const name = `status-engine conformance (${report.target})`;
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="${xml(name)}" tests="${report.outcomes.length}" failures="${report.failed}" skipped="${report.skipped}">`);
  out.push(`  <testsuite name="${xml(name)}" tests="${report.outcomes.length}" failures="${report.failed}" skipped="${report.skipped}">`);
  for (const o of report.outcomes) {
    const open = `    <testcase classname="${xml(o.group)}" name="${xml(o.title)}"`;
    if (o.status === 'passed') out.push(`${open}/>`);
    else if (o.status === 'skipped') out.push(`${open}><skipped message="${xml(o.reason ?? '')}"/></testcase>`);
    else out.push(`${open}><failure message="${xml((o.error ?? '').split('\n')[0]!)}">${xml(o.error ?? '')}</failure></testcase>`);
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}
