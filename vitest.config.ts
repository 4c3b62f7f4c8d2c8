import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 20_000,
    // The JSON report feeds `npm run conformance -- --from .tmp/vitest-report.json` (CI), so that the
    // conformance report does not run the suite a second time.
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-report.json' },
  },
});
