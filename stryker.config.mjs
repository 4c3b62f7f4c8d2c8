// StrykerJS (`npm run mutation`): mutation testing of the machines and the pure rule modules (issue 10.6).
// Each mutant runs only the tests that cover it (per-test coverage), from vitest.mutation.config.ts.
// The result feeds docs/mutation.json and docs/mutation.md (scripts/mutation-report.ts).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: ['machines/**/*.ts', 'src/engine/rules/**/*.ts', '!machines/index.ts', '!**/*.test.ts'],
  coverageAnalysis: 'perTest',
  // Two cores on this machine, shared: one or two test processes.
  concurrency: 2,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: '.tmp/mutation/mutation.json' },
  // `npm run mutation -- --incremental` reuses the last run's verdicts for unchanged code and tests.
  incrementalFile: '.tmp/mutation/stryker-incremental.json',
  tempDirName: '.tmp/stryker-tmp',
  cleanTempDir: 'always',
  // A mutant of a definition (static: built when the file loads) runs the whole suite; on two shared cores
  // that can take longer than Stryker's default allowance, which would count it as a timeout (= killed).
  timeoutMS: 30_000,
  timeoutFactor: 2,
  thresholds: { high: 90, low: 80, break: null },
};
