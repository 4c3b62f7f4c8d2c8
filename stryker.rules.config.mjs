// StrykerJS over the rule modules only (src/engine/rules/, machines/flap.ts) and machines/spec.ts, the
// machine files that changed since the last whole run: a run of ~15-30 min instead of an hour on two shared
// cores. Its report is laid over docs/mutation.json, whose other files keep their verdicts:
//   npx stryker run stryker.rules.config.mjs && npx tsx scripts/mutation-report.ts --merge .tmp/mutation/rules.json
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  mutate: ['src/engine/rules/**/*.ts', 'machines/flap.ts', 'machines/spec.ts', '!**/*.test.ts'],
  jsonReporter: { fileName: '.tmp/mutation/rules.json' },
  incrementalFile: '.tmp/mutation/stryker-rules-incremental.json',
  tempDirName: '.tmp/stryker-rules-tmp',
};
