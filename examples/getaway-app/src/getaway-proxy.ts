import { readFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * The Getaway App's front door: GET /news, /weather, /places fetch that gateway over its
 * contract (getaway-news, getaway-weather, getaway-places) through the local agent, and return
 * its answer; GET / returns all three. It reads the agent's env file at every request, so a
 * listener granted later (or moved) is picked up without a restart.
 */

const CONTRACTS = { news: 'getaway-news', weather: 'getaway-weather', places: 'getaway-places' } as const;
type Topic = keyof typeof CONTRACTS;

function envName(contract: string): string {
  return `${contract.replace(/-/g, '_').toUpperCase()}_ADDR`;
}

async function addressOf(contract: string): Promise<string | undefined> {
  const file = process.env.TRELLIS_ENV_FILE;
  if (file) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const m = new RegExp(`^${envName(contract)}=(.+)$`, 'm').exec(text);
    if (m) return m[1]!.trim();
  }
  return process.env[envName(contract)];
}

function fetchText(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // A connection per request (no keep-alive): each request is its own flow, so the agent
    // spreads them over the gateway's instances instead of pinning one connection to one.
    const req = get(url, { timeout: 5_000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 5 s')));
    req.on('error', reject);
  });
}

async function ask(topic: Topic): Promise<{ status: number; body: unknown }> {
  const addr = await addressOf(CONTRACTS[topic]);
  if (!addr) return { status: 503, body: { error: `no listener for contract ${CONTRACTS[topic]}` } };
  try {
    // The trailing slash: a static file server (places-gw) would redirect /places to /places/.
    const r = await fetchText(`http://${addr}/${topic}/`);
    return { status: r.status === 200 ? 200 : 502, body: r.status === 200 ? JSON.parse(r.body) : r.body };
  } catch (err) {
    return { status: 502, body: { error: `${CONTRACTS[topic]}: ${(err as Error).message}` } };
  }
}

export function startGetawayProxy(host: string, port: number): Promise<Server> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/^\/+|\/+$/g, '');
    let status = 200;
    let body: unknown;
    if (path === '') {
      const all = await Promise.all(
        (Object.keys(CONTRACTS) as Topic[]).map(async (t) => [t, await ask(t)] as const),
      );
      status = all.every(([, r]) => r.status === 200) ? 200 : 502;
      body = Object.fromEntries(all.map(([t, r]) => [t, r.body]));
    } else if (path in CONTRACTS) {
      const r = await ask(path as Topic);
      status = r.status;
      body = r.body;
    } else {
      status = 404;
      body = { error: `no such page: /${path}` };
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const host = process.env.TRELLIS_VM_ADDRESS ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 8100);
  await startGetawayProxy(host, port);
  process.stdout.write(`getaway-proxy listening on http://${host}:${port}/\n`);
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
