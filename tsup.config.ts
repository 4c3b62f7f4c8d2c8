import { defineConfig } from 'tsup';

// One build for the library (ESM + CJS + .d.ts) and one for the CLI.
export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
  },
]);
