// The tests that StrykerJS runs against each mutant of machines/ and src/engine/rules/ (`npm run mutation`):
// the machine, model-based, property and engine tests, and the check of docs/machines.md. The extractor test
// reads the source text, which in Stryker's sandbox carries every mutant at once, so it stays out.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/machines/**/*.test.ts',
      'test/model/**/*.test.ts',
      'test/properties/**/*.test.ts',
      'test/engine/**/*.test.ts',
      // The descriptions are what docs/machines.md shows: a mutant that changes one changes the document.
      'test/docs/machines-doc.test.ts',
    ],
    // The extractor test reads the (mutated) source text; the report's own test reads the last report.
    exclude: ['test/machines/extractor*.test.ts', 'test/machines/mutation-config.test.ts'],
    testTimeout: 60_000,
    // One seed for the property tests, so that a mutant's verdict does not depend on the run.
    env: { FC_SEED: '20261201' },
  },
});
