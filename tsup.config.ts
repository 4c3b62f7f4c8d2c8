import { defineConfig } from 'tsup';

// One build for the library (ESM + CJS + .d.ts: `status-engine`; `status-engine/sqlite`, kept apart so
// that importing the library never loads the native SQLite module; `status-engine/conformance`, the suite)
// and one for the CLI (dist/cli.js, the package's bin). The two run at once: the library's clean spares
// the CLI's files.
export default defineConfig([
  {
    // `status-engine/inspect` is exported for import only (@statelyai/inspect has no CommonJS build); its .cjs is unused.
    entry: { index: 'src/index.ts', sqlite: 'src/store/sqlite.ts', conformance: 'src/conformance/index.ts', inspect: 'src/inspect.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: ['!cli.js', '!cli.js.map', '!cli/**'],
    target: 'node20',
  },
  {
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    sourcemap: true,
    clean: false,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    // Its server modules load only for `serve`: chunks (in dist/cli/) keep --help and usersig quick.
    splitting: true,
    esbuildOptions(options) {
      options.chunkNames = 'cli/[name]-[hash]';
    },
  },
]);
