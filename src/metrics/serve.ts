import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

/** Answers a scrape: the registry in Prometheus's text format (text/plain; version=0.0.4). */
export async function sendMetrics(registry: Registry, res: ServerResponse): Promise<void> {
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    res.end(body);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`# metrics collection failed: ${(err as Error).message}\n`);
  }
}

/**
 * A plain-HTTP admin listener serving GET /metrics only. It is unauthenticated, like linkerd's
 * admin port: it serves counters and no secrets, and it should be bound where only the
 * monitoring network reaches it.
 */
export async function listenMetrics(registry: Registry, at: { host: string; port: number }): Promise<Server> {
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end('not found: the admin listener serves /metrics only\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      return res.end('method not allowed\n');
    }
    void sendMetrics(registry, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      // Past the bind, a failing scrape connection must not take the node down.
      server.on('error', () => undefined);
      resolve();
    });
  });
  return server;
}
