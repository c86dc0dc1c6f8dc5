import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is built next to the compiled orchestrator (dist/console), which serves it at `/`.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    // cytoscape alone is ~450 kB minified; one chunk is fine for an operator console.
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `npx vite --config src/console/vite.config.ts` during development: the API of a local orchestrator.
    proxy: { '/api': process.env.TRELLIS_ORCHESTRATOR ?? 'http://127.0.0.1:8080' },
  },
});
