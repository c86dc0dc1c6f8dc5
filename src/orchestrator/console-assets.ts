import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The package root, found by walking up from this file to the nearest package.json: the same
 * code runs from `src/` (vitest) and from `dist/src/` (the built CLI), at different depths.
 */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trellis orchestrator</title></head>
<body style="font-family: system-ui, sans-serif; margin: 3rem; color: #1f2933">
<h1>Trellis orchestrator</h1>
<p>The web console is not built. Run <code>npm run build</code> in the Trellis checkout and reload.</p>
<p>The REST API is served under <a href="/api/v1/openapi.json"><code>/api/v1</code></a>.</p>
</body></html>
`;

/**
 * The console's top-level pages (src/console/main.ts routes under these). Only they fall back
 * to index.html: any other unknown path stays a real 404, not a soft one. The browser test
 * reloads every navigation entry, so the two lists cannot drift apart unnoticed.
 */
export const CONSOLE_SECTIONS = [
  'login',
  'topology',
  'domains',
  'resource-users',
  'contracts',
  'resources',
  'flows',
  'denials',
];

/**
 * Serves the web console (the Vite build in dist/console) at `/`, on the API's origin so the
 * console needs no CORS. A GET under one of the console's pages answers index.html: the
 * console routes by path (/topology, /contracts/…) and a reload or a pasted link must land in
 * it. Everything else unknown, /api/* included, keeps the JSON 404 of the error handler.
 */
export async function installConsole(app: FastifyInstance, dir = join(packageRoot(), 'dist', 'console')) {
  const built = existsSync(join(dir, 'index.html'));
  if (built) {
    // wildcard: false registers one route per built file (found at start); the pages are below.
    await app.register(fastifyStatic, { root: dir, prefix: '/', wildcard: false, index: ['index.html'] });
  }
  const page = (_req: unknown, reply: FastifyReply) => {
    reply.header('cache-control', 'no-cache');
    if (!built) return reply.type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.sendFile('index.html');
  };
  // Explicit routes, not a catch-all: other paths stay unmatched (404, and `unmatched` in /metrics).
  if (!built) app.get('/', page);
  for (const section of CONSOLE_SECTIONS) {
    app.get(`/${section}`, page);
    app.get(`/${section}/*`, page);
  }
}
