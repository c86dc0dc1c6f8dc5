import { readFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * Seed 001's service1, the exposed one: on GET / it answers
 *   Hello from <remote ip:port> to <local ip:port>
 * followed by service2's answer, which it fetches over contract "hello". It finds service2 at
 * HELLO_ADDR, the local fabric listener its agent writes to the env file; the lab passes that
 * file's lines as env vars, and TRELLIS_ENV_FILE lets it pick up a listener granted later.
 */

async function helloAddr(): Promise<string | undefined> {
  const file = process.env.TRELLIS_ENV_FILE;
  if (file) {
    try {
      const m = /^HELLO_ADDR=(.+)$/m.exec(await readFile(file, 'utf8'));
      if (m) return m[1]!.trim();
    } catch {
      // No env file (yet): fall back to the environment.
    }
  }
  return process.env.HELLO_ADDR;
}

/**
 * GET from the VM's own address: on loopback the kernel would otherwise pick 127.0.0.1 as the
 * source, and service2 could not tell which "host" called it.
 */
function getText(url: string, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { localAddress, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}: ${body}`)),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 5 s')));
    req.on('error', reject);
  });
}

export function startService1(host: string, port: number): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try GET /\n');
      return;
    }
    const s = req.socket;
    const hello = `Hello from ${s.remoteAddress}:${s.remotePort} to ${s.localAddress}:${s.localPort}\n`;
    const addr = await helloAddr();
    if (!addr) {
      res
        .writeHead(503, { 'content-type': 'text/plain' })
        .end(`${hello}service2 is unreachable: HELLO_ADDR is not set (no grant for contract hello yet?)\n`);
      return;
    }
    try {
      const answer = await getText(`http://${addr}/`, host);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(hello + answer);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      res
        .writeHead(502, { 'content-type': 'text/plain' })
        .end(`${hello}service2 at ${addr} failed: ${why}\n`);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const host = process.env.TRELLIS_VM_ADDRESS ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 8001);
  startService1(host, port).then(
    () => process.stdout.write(`service1 listening on http://${host}:${port}/\n`),
    (err: Error) => {
      process.stderr.write(`service1: ${err.message}\n`);
      process.exit(1);
    },
  );
}
