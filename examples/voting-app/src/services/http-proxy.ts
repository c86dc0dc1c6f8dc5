import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { POLL } from '../config.js';
import {
  type AddressSource,
  contractEnvName,
  fabricAddress,
  parseHostPort,
  requireAddress,
} from '../fabric-address.js';
import { handleHealth, type ReadinessCheck } from '../health.js';
import { closeServer, escapeHtml, listen, pathOf, send, sendHtml, sendJson } from '../http-kit.js';
import { silentLogger } from '../log.js';
import { bindAddress, type RunningService, runMain } from '../service-main.js';

/**
 * http-proxy: the Voting App's only public address. `/voting/vote…` goes to voting-svc over
 * contract voting-frontend, `/voting/result…` to result-svc over result-frontend, `/` links
 * both. Requests and responses are streamed (the result page's event stream passes through
 * unbuffered).
 *
 *   TRELLIS_VM_ADDRESS, PORT (default 8000)
 *   VOTING_FRONTEND_ADDR, RESULT_FRONTEND_ADDR   the agent's listeners (or TRELLIS_ENV_FILE)
 */
export interface HttpProxyOptions {
  host: string;
  port: number;
  votingFrontend: AddressSource;
  resultFrontend: AddressSource;
  /** Source address for upstream connections: the VM's own (default: `host`). */
  localAddress?: string;
  log?: Logger;
}

export interface RunningHttpProxy extends RunningService {
  url: string;
}

interface Route {
  contract: 'voting-frontend' | 'result-frontend';
  address: AddressSource;
  /** The address last looked up, and when. */
  cached?: { value: string | undefined; at: number };
  lookup?: Promise<string | undefined>;
}

/**
 * How long the proxy keeps an upstream address before looking it up again. The lookup reads
 * the agent's env file (TRELLIS_ENV_FILE) from disk: once a second per contract instead of on
 * every request (an open, a stat, a read and a close each time). A failed connection drops
 * the cached address, so a moved listener is picked up by the next request.
 */
const ADDRESS_TTL_MS = 1_000;

function addressOf(route: Route): Promise<string | undefined> {
  const c = route.cached;
  if (c && Date.now() - c.at < ADDRESS_TTL_MS) return Promise.resolve(c.value);
  route.lookup ??= route
    .address()
    .then((value) => {
      route.cached = { value, at: Date.now() };
      return value;
    })
    .finally(() => {
      route.lookup = undefined;
    });
  return route.lookup;
}

/** Headers that describe one hop's connection, not the request (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function forwardable(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase()),
  );
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || named.has(k)) continue;
    out[k] = v;
  }
  return out;
}

function homePage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Voting App</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;text-align:center}a{display:block;font-size:1.3rem;margin:1rem}</style>
</head><body>
<h1>${escapeHtml(POLL.question)}</h1>
<a href="/voting/vote">Vote</a>
<a href="/voting/result">See the results</a>
</body></html>
`;
}

export async function startHttpProxy(o: HttpProxyOptions): Promise<RunningHttpProxy> {
  const log = o.log ?? silentLogger();
  const localAddress = o.localAddress ?? o.host;
  // Keep-alive to the agent's listeners: each new connection is a new flow through the fabric.
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const routes: Record<Route['contract'], Route> = {
    'voting-frontend': { contract: 'voting-frontend', address: o.votingFrontend },
    'result-frontend': { contract: 'result-frontend', address: o.resultFrontend },
  };
  let stopping = false;

  function routeOf(path: string): Route | undefined {
    if (path === '/voting/vote' || path.startsWith('/voting/vote/')) return routes['voting-frontend'];
    if (path.startsWith('/voting/result')) return routes['result-frontend'];
    return undefined;
  }

  async function forward(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const value = await addressOf(route);
    if (!value) {
      const name = contractEnvName(route.contract);
      return sendJson(res, 503, {
        error: `${route.contract} is not available: ${name} is not set`,
        hint: `the agent publishes ${name} once http-proxy may use contract ${route.contract}`,
      });
    }
    const target = parseHostPort(value);
    const s = req.socket;
    const headers = forwardable(req.headers);
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${prior}, ${s.remoteAddress}` : (s.remoteAddress ?? '');
    headers['x-forwarded-proto'] ??= 'http';
    headers['x-forwarded-host'] ??= req.headers.host ?? '';
    const upstream = request({
      host: target.host,
      port: target.port,
      localAddress,
      method: req.method,
      path: req.url,
      headers,
      agent,
      timeout: 30_000,
    });
    upstream.on('response', (up) => {
      res.writeHead(up.statusCode ?? 502, forwardable(up.headers));
      // Event streams must reach the browser as they are written.
      if (String(up.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        res.flushHeaders();
        upstream.setTimeout(0);
        req.socket.setTimeout(0);
      }
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    upstream.on('timeout', () => upstream.destroy(new Error('upstream did not answer within 30 s')));
    upstream.on('error', (err) => {
      route.cached = undefined;
      const why = (err as NodeJS.ErrnoException).code ?? err.message;
      log.warn({ contract: route.contract, upstream: value, err: why }, 'upstream failed');
      if (!res.headersSent) {
        sendJson(res, 502, {
          error: `${route.contract} at ${value} failed: ${why}`,
          hint: 'is the service up? see /readyz',
        });
      } else res.destroy();
    });
    // A browser that goes away (closing the result page) ends the upstream stream too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  const checks: ReadinessCheck[] = Object.values(routes).map((r) => ({
    name: r.contract,
    run: async () => {
      const target = await requireAddress(r.address, r.contract);
      await new Promise<void>((resolve, reject) => {
        const probe = request({
          host: target.host,
          port: target.port,
          localAddress,
          path: '/healthz',
          agent,
          timeout: 2_000,
        });
        probe.on('response', (res) => {
          res.resume();
          if (res.statusCode === 200) resolve();
          else reject(new Error(`/healthz answered ${res.statusCode}`));
        });
        probe.on('timeout', () => probe.destroy(new Error('no answer')));
        probe.on('error', reject);
        probe.end();
      });
    },
  }));

  const server = createServer((req, res) => {
    if (handleHealth(req, res, 'http-proxy', checks, () => stopping)) return;
    const path = pathOf(req);
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD'))
      return sendHtml(res, 200, homePage());
    const route = routeOf(path);
    if (!route) return send(res, 404, `no such page: ${path} (try /voting/vote or /voting/result)\n`);
    forward(req, res, route).catch((err: Error) => {
      log.error({ err: err.message }, 'proxy error');
      if (!res.headersSent) sendJson(res, 502, { error: err.message });
    });
  });
  const port = await listen(server, o.host, o.port);
  log.info({ address: `${o.host}:${port}` }, 'http-proxy listening');
  return {
    url: `http://${o.host}:${port}`,
    async close() {
      stopping = true;
      await closeServer(server);
      agent.destroy();
    },
  };
}

runMain(import.meta.url, 'http-proxy', async (env, log) => {
  const { host, port } = bindAddress(env, 8000);
  return startHttpProxy({
    host,
    port,
    votingFrontend: fabricAddress('voting-frontend', env),
    resultFrontend: fabricAddress('result-frontend', env),
    log,
  });
});
