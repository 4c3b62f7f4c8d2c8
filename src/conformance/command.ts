// What `status-engine conformance` does once its flags are read: builds the target of --client, runs the
// suite, prints a line per test, the per-clause summary and the totals, and writes the reports asked for.
import { writeFileSync } from 'node:fs';
import type { ConformanceFlags } from './cli';
import { capabilitiesLine, jsonReport, junitReport, markdownReport, outcomeLine, summaryText } from './report';
import { runSuite, unmatchedOnly } from './runner';
import { specClauses } from './spec';
import type { Target } from './target';
import { networkTarget } from './targets/network';

export interface CommandIO {
  out(s: string): void;
  err(s: string): void;
  /** A usage error: prints and exits (never returns). */
  fail(message: string): never;
}

async function buildTarget(flags: ConformanceFlags, secretKey: string): Promise<Target> {
  const admin = flags.admin ?? flags.url.replace(/^ws/, 'http');
  const common = { url: flags.url, admin, sdkAppId: flags.sdkappid, secretKey, prefix: flags.prefix, heartbeatMs: flags.heartbeatMs, noConfigure: !flags.configure };
  if (flags.client === 'native') return networkTarget(common);
  const { webSdkTarget } = await import('./websdk/target');
  return webSdkTarget({ ...common, sdk: flags.client });
}

/** Runs the command; resolves with the exit code (1 when a test failed or the target could not be reached). */
export async function runConformanceCommand(flags: ConformanceFlags, io: CommandIO): Promise<number> {
  const secretKey = process.env[flags.secretKeyEnv];
  if (!secretKey) io.fail(`the secret key is read from the environment variable ${flags.secretKeyEnv}, which is not set (--secret-key-env names another)`);
  if (flags.only) {
    const unknown = unmatchedOnly(flags.only);
    if (unknown.length > 0) io.fail(`--only: no test of the suite names ${unknown.join(', ')}`);
  }
  let target: Target;
  try {
    target = await buildTarget(flags, secretKey);
  } catch (e) {
    io.err(`conformance: cannot set up the ${flags.client} target: ${(e as Error).message}\n`);
    return 1;
  }
  io.out(`status-engine conformance: ${target.name}\n`);
  let report;
  try {
    report = await runSuite(target, { only: flags.only, timeoutMs: flags.timeoutMs, onOutcome: (o) => io.out(`${outcomeLine(o)}\n`) });
  } finally {
    await target.close().catch((e: unknown) => io.err(`conformance: closing the target: ${(e as Error).message}\n`));
  }
  const clauses = specClauses();
  io.out(`\ncapabilities: ${capabilitiesLine(report)}\n`);
  io.out(`${summaryText(report, clauses)}\n`);
  if (flags.report) writeFileSync(flags.report, markdownReport(report, clauses));
  if (flags.json) writeFileSync(flags.json, jsonReport(report, clauses));
  if (flags.junit) writeFileSync(flags.junit, junitReport(report));
  return report.failed > 0 ? 1 : 0;
}
