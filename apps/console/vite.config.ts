import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/** The console builds into dist/console, which the hub serves at /console. */
export default defineConfig({
  root,
  base: '/console/',
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    // Read by test/console to measure what the first load costs.
    manifest: true,
    rolldownOptions: {
      onwarn(warning, warn) {
        // Mantine marks its files "use client" for React Server Components; meaningless in a browser bundle.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
    // The hub's first-load budget is checked by test/console/bundle.spec.ts, not by a warning.
    chunkSizeWarningLimit: 2000,
  },
  server: {
    // `npm run console:dev` against a hub on :3000.
    proxy: { '/v1': 'http://127.0.0.1:3000' },
  },
});
