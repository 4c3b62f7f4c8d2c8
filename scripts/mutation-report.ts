// Turns StrykerJS's report (.tmp/mutation/mutation.json, written by `npm run mutation`) into docs/mutation.json
// (the figures docs/conformance.md quotes) and docs/mutation.md (the score and each surviving mutant with
// why it survives). The reasons are kept below, keyed by file, mutator and the code the mutant replaced;
// a survivor with no reason is listed as unexplained, so a new one cannot slip in unnoticed.
//   npm run mutation                       run Stryker, then this script
//   tsx scripts/mutation-report.ts [FILE]  only this script, from a Stryker JSON report
//   tsx scripts/mutation-report.ts --merge REPORT [--command TEXT] [--base-date WHEN]
//                                          a run over some files laid over docs/mutation.json (see overlay);
//                                          --command: how REPORT was made, --base-date: when the earlier run
//                                          was, if docs/mutation.json does not say (each run is listed)
import { readFileSync, statSync, writeFileSync } from 'node:fs';
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
/** One Stryker run the summary draws on, and the files whose verdicts come from it. */
export interface Run {
  /** When its report was written (ISO, UTC); null: not recorded. */
  date: string | null;
  command: string;
  mutate: string[];
  files: string[];
}
export interface MutationSummary extends Counts {
  tool: string;
  command: string;
  mutate: string[];
  /** Where each file's verdicts come from: one run, or several laid over each other (`--merge`). */
  runs?: Run[];
  files: Record<string, Counts>;
  survivors: Survivor[];
  /** Counted as detected (Stryker's rule): each is listed, so that a reader can judge it. */
  timeouts: Array<{ file: string; line: number; mutator: string; original: string; replacement: string }>;
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
    file: /^src\/engine\/rules\/audience\.ts$/,
    mutator: 'ArrayDeclaration',
    original: /^\[\]$/,
    why: "Equivalent: `out`'s old contents always go (each recipient is written from index 0, then `out.length = n`), so a default list that starts with an entry returns the same audience.",
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
    file: /^machines\/flap\.ts$/,
    mutator: 'ConditionalExpression',
    original: /^(a === null \|\| b === null|a === null|b === null)$/,
    why: "Equivalent: `changed` runs only in `end`, in `holding`, which is entered through `hold`, which sets both `before` and `latest`; the null checks are for the type (and keep a hand-edited record from crashing).",
  },
  {
    file: /^machines\/flap\.ts$/,
    mutator: 'LogicalOperator',
    original: /^a === null \|\| b === null$/,
    why: 'Equivalent, as above: neither is null where `changed` runs, so `||` and `&&` of two false checks are the same.',
  },
  {
    file: /^machines\/userStatus\.ts$/,
    mutator: 'ConditionalExpression',
    original: /^d !== undefined$/,
    why: '`nativeDevice` is only ever tried after `deviceUnknown` (DEVICE.DISCONNECT: unknown devices stop at the first branch), so the device is always there.',
  },
];

/** The reason for an equivalent mutant, if REASONS has one. */
export const reasonOf = (file: string, mutator: string, original: string): string | null =>
  REASONS.find((r) => r.file.test(file) && r.mutator === mutator && r.original.test(original))?.why ?? null;

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

export function summarize(report: StrykerReport, mutate: string[], run: { date: string | null; command: string } = { date: null, command: 'npm run mutation' }): MutationSummary {
  const files: Record<string, Counts> = {};
  const survivors: Survivor[] = [];
  const timeouts: MutationSummary['timeouts'] = [];
  const all: Mutant[] = [];
  for (const [path, f] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    const file = relative(root, resolve(root, path)).split('\\').join('/');
    files[file] = count(f.mutants);
    all.push(...f.mutants);
    for (const m of [...f.mutants].sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column)) {
      if (m.status === 'Timeout') {
        const t = { file, line: m.location.start.line, mutator: m.mutatorName, original: originalOf(f.source, m), replacement: squeeze(m.replacement ?? '') };
        timeouts.push(t);
      }
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
      const original = originalOf(f.source, m);
      survivors.push({
        file,
        line: m.location.start.line,
        mutator: m.mutatorName,
        original,
        replacement: squeeze(m.replacement ?? ''),
        status: m.status,
        why: reasonOf(file, m.mutatorName, original),
      });
    }
  }
  const runs: Run[] = [{ ...run, mutate, files: Object.keys(files) }];
  return { tool: 'StrykerJS 9 (@stryker-mutator/core, vitest runner, perTest coverage)', command: run.command, mutate, runs, ...count(all), files, survivors, timeouts };
}

export function markdown(s: MutationSummary): string {
  const pct = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)}%`);
  const globs = (g: string[]) => '`' + g.join('`, `') + '`';
  const when = (r: Run) => (r.date === null ? 'date not recorded' : r.date.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC'));
  const runs = s.runs ?? [{ date: null, command: s.command, mutate: s.mutate, files: Object.keys(s.files) }];
  const from =
    runs.length === 1
      ? [`Generated by \`${runs[0]!.command}\` (${when(runs[0]!)}; StrykerJS over ${globs(runs[0]!.mutate)}, then scripts/mutation-report.ts);`]
      : [
          `Generated by scripts/mutation-report.ts from ${runs.length} StrykerJS runs laid over each other (\`--merge\`): each file's`,
          'verdicts come from the run that lists it (dated when its report was written). A file kept from an earlier run',
          'must not have changed since; its tests may have (the commit that merges says which).',
          '',
          ...runs.map((r) => `- ${when(r)}: \`${r.command}\` (over ${globs(r.mutate)}): ${r.files.join(', ')}.`),
          '',
          'Together they cover what `npm run mutation` mutates (' + globs(s.mutate) + ');',
        ];
  const equivalentTimeouts = s.timeouts.filter((t) => reasonOf(t.file, t.mutator, t.original) !== null);
  const out = [
    '# Mutation testing',
    '',
    ...from,
    'do not edit by hand. Each mutant runs only the tests that cover it, from vitest.mutation.config.ts',
    '(test/machines, test/model, test/properties, test/engine and the docs/machines.md check).',
    'The figures are in docs/mutation.json.',
    '',
    `**Mutation score: ${pct(s.score)}** (killed or timed out over all mutants that ran or had no test).`,
    ...(equivalentTimeouts.length === 0
      ? []
      : [
          '',
          `${equivalentTimeouts.length} of the timeouts are equivalent mutants (the reasons below) that ran past the allowance on a`,
          `loaded machine, not caught by a test: counted as survived, the score is ${pct(score({ ...s, timeout: s.timeout - equivalentTimeouts.length, survived: s.survived + equivalentTimeouts.length }))}.`,
        ]),
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
  out.push(
    '',
    '## Mutants that timed out',
    '',
    'Stryker counts a mutant whose tests run past the allowance (`timeoutMS` + `timeoutFactor` x the tests\' own',
    'time, stryker.config.mjs) as detected. Some make a loop that never ends (`i++` to `i--`); others fail a',
    'property test whose shrinking outlasts the allowance. A mutant of a definition runs the whole suite, which',
    'on a loaded machine can run past it too: one that is equivalent is marked so. They are listed so that a',
    'reader can judge each.',
    '',
  );
  if (s.timeouts.length === 0) out.push('None.');
  else {
    out.push('| where | mutator | code | becomes | note |', '|---|---|---|---|---|');
    const cell = (x: string) => '`' + clip(x).replace(/\|/g, '\\|').replace(/`/g, "'") + '`';
    for (const t of s.timeouts) {
      const why = reasonOf(t.file, t.mutator, t.original);
      out.push(`| ${t.file}:${t.line} | ${t.mutator} | ${cell(t.original)} | ${cell(t.replacement)} | ${why === null ? '' : `**equivalent, not caught**: ${why}`} |`);
    }
  }
  out.push(
    '',
    '## How to read this',
    '',
    '- A mutant of a machine definition (a literal in `createMachine({...})`, built when the file loads) runs',
    '  the whole suite. One that XState refuses at build time (an empty `initial`, a target that does not',
    '  resolve) breaks the import of every test file; Stryker\'s vitest runner sees no test result then and',
    '  would call it survived, so test/machines/definitions.test.ts imports each machine file inside a test.',
    '- The property tests run with one seed (`FC_SEED` in vitest.mutation.config.ts), so a verdict does not',
    '  depend on the run.',
    '- Equivalent mutants (the same behaviour whatever the change) are the only survivors kept; each has its',
    '  reason in scripts/mutation-report.ts, and test/machines/mutation-config.test.ts fails on one without.',
  );
  return out.join('\n') + '\n';
}

/**
 * A run over some files only (`--merge REPORT`: e.g. the rule modules after a change) laid over the last
 * summary: its files replace theirs, the others keep their verdicts, and the totals are summed again. The code
 * of the files kept must be what the earlier run mutated (say so in the commit).
 */
export function overlay(base: MutationSummary, next: MutationSummary): MutationSummary {
  const replaced = (f: string) => f in next.files;
  const files = Object.fromEntries(
    Object.entries({ ...Object.fromEntries(Object.entries(base.files).filter(([f]) => !replaced(f))), ...next.files }).sort(([a], [b]) => a.localeCompare(b)),
  );
  const sum = (k: keyof Omit<Counts, 'score'>) => Object.values(files).reduce((n, c) => n + c[k], 0);
  const totals = { killed: sum('killed'), survived: sum('survived'), timeout: sum('timeout'), noCoverage: sum('noCoverage'), ignored: sum('ignored'), errors: sum('errors'), total: sum('total') };
  const keep = <T extends { file: string }>(xs: T[], ys: T[]) => [...xs.filter((x) => !replaced(x.file)), ...ys].sort((a, b) => a.file.localeCompare(b.file));
  // Reasons may have been added since the earlier run: look them up again.
  const survivors = keep(base.survivors, next.survivors).map((v) => ({
    ...v,
    why: reasonOf(v.file, v.mutator, v.original),
  }));
  // Each run keeps the files that are still its own; a run left with none is dropped.
  const runsOf = (x: MutationSummary): Run[] => x.runs ?? [{ date: null, command: x.command, mutate: x.mutate, files: Object.keys(x.files) }];
  const runs = [...runsOf(base).map((r) => ({ ...r, files: r.files.filter((f) => !replaced(f)) })).filter((r) => r.files.length > 0), ...runsOf(next)];
  return { ...base, ...totals, score: score(totals), runs, files, survivors, timeouts: keep(base.timeouts, next.timeouts) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const command = option('--command');
  const baseDate = option('--base-date');
  const merge = args[0] === '--merge';
  const from = resolve(root, (merge ? args[1] : args[0]) ?? '.tmp/mutation/mutation.json');
  const config = (await import(resolve(root, 'stryker.config.mjs'))) as { default: { mutate: string[] } };
  const report = JSON.parse(readFileSync(from, 'utf8')) as StrykerReport & { config?: { mutate?: string[] } };
  // The globs of the run itself (Stryker writes its options into the report), else those of the whole run.
  const date = statSync(from).mtime.toISOString();
  const run = summarize(report, report.config?.mutate ?? config.default.mutate, { date, command: command ?? 'npm run mutation' });
  let s = run;
  if (merge) {
    const base = JSON.parse(readFileSync(resolve(root, 'docs/mutation.json'), 'utf8')) as MutationSummary;
    if (base.runs === undefined && baseDate !== undefined) base.runs = [{ date: baseDate, command: base.command, mutate: base.mutate, files: Object.keys(base.files) }];
    // The summary stands for the whole run: its globs are those of stryker.config.mjs.
    const merged = overlay(base, run);
    s = { ...merged, mutate: config.default.mutate, command: (merged.runs ?? []).map((r) => r.command).join(' + ') };
  }
  writeFileSync(resolve(root, 'docs/mutation.json'), JSON.stringify(s, null, 2) + '\n');
  writeFileSync(resolve(root, 'docs/mutation.md'), markdown(s));
  const open = s.survivors.filter((v) => v.why === null).length;
  console.log(`mutation score ${s.score}% (${s.killed} killed, ${s.timeout} timeout, ${s.survived} survived, ${s.noCoverage} no coverage); ${open} survivor(s) unexplained`);
}
