// Builds the admin dashboard (served by `status-engine serve` at /dashboard) into the package's
// dist/dashboard: one HTML file and hashed assets, nothing loaded from elsewhere at run time.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/dashboard/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // One script and one stylesheet: the page is small, and the server serves a flat assets/ folder.
    rollupOptions: { output: { manualChunks: undefined } },
  },
});
