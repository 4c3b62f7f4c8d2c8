// The suite's own runner: no test framework needed at run time. It picks the tests (--only), skips those
// that need a capability the target lacks (with the target's reason), runs the rest one by one with a
// watchdog, and returns one outcome per test. Outcomes carry no timings, so a report is reproducible.
import { createContext, type ConformanceTest } from './define';
import { CAPABILITY_NAMES, capabilitiesOf, type Capabilities, type Target } from './target';
import { SUITE } from './suite/index';

export type Verdict = 'passed' | 'failed' | 'skipped';

export interface TestOutcome {
  group: string;
  title: string;
  clauses: string[];
  status: Verdict;
  /** Why it was skipped. */
  reason?: string;
  /** Why it failed: the assertion or error message. */
  error?: string;
}

export interface SuiteReport {
  target: string;
  capabilities: Capabilities;
  outcomes: TestOutcome[];
  passed: number;
  failed: number;
  skipped: number;
}

export interface RunOptions {
  /** Clause ids or clause families (`GET-1`, `SUB`): a test runs if one of its clauses matches one. */
  only?: readonly string[];
  /** A test still running after this long fails. Default 60 s. */
  timeoutMs?: number;
  /** Called as each test ends, in order (the command prints from here). */
  onOutcome?: (o: TestOutcome) => void;
}

/** Does a test's clause list match an --only entry? `SUB` matches every SUB-n, `SUB-1` only itself. */
export function matchesOnly(clauses: readonly string[], only: readonly string[] | undefined): boolean {
  if (!only || only.length === 0) return true;
  return clauses.some((c) => only.some((o) => c === o || (!/-\d+$/.test(o) && c.startsWith(`${o}-`))));
}

/** The --only entries that select no test at all (most likely a typo). */
export function unmatchedOnly(only: readonly string[]): string[] {
  const all = SUITE.flatMap((g) => g.tests);
  return only.filter((o) => !all.some((t) => matchesOnly(t.clauses, [o])));
}

/** Why `test` cannot run on `target`, or null when it can. */
export function skipReason(test: ConformanceTest, target: Target): string | null {
  const caps = capabilitiesOf(target);
  const lacking = test.needs.filter((n) => !caps[n]);
  if (lacking.length === 0) return null;
  return lacking.map((n) => `needs ${CAPABILITY_NAMES[n]}${target.missing?.[n] ? ` (${target.missing[n]})` : ''}`).join('; ');
}

/** Runs one test on `target`: its devices are destroyed afterwards, whatever happened. */
export async function runTest(test: ConformanceTest, target: Target, timeoutMs = 60_000): Promise<Pick<TestOutcome, 'status' | 'reason' | 'error'>> {
  const reason = skipReason(test, target);
  if (reason) return { status: 'skipped', reason };
  const ctx = createContext(target);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    await Promise.race([test.run(ctx), watchdog]);
    return { status: 'passed' };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: unknown } | null)?.code;
    return { status: 'failed', error: typeof code === 'number' ? `${message} (code ${code})` : message };
  } finally {
    clearTimeout(timer);
    await ctx.cleanup();
  }
}

/** Runs the selected tests of the suite on `target`, in the suite's order. Does not close the target. */
export async function runSuite(target: Target, opts: RunOptions = {}): Promise<SuiteReport> {
  const outcomes: TestOutcome[] = [];
  for (const group of SUITE) {
    for (const test of group.tests) {
      if (!matchesOnly(test.clauses, opts.only)) continue;
      const r = await runTest(test, target, opts.timeoutMs);
      const o: TestOutcome = { group: group.name, title: test.title, clauses: [...test.clauses], ...r };
      outcomes.push(o);
      opts.onOutcome?.(o);
    }
  }
  const count = (v: Verdict) => outcomes.filter((o) => o.status === v).length;
  return { target: target.name, capabilities: capabilitiesOf(target), outcomes, passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}
