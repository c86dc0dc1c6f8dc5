import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PROXY_V2_SIGNATURE, type ProxyAddress, parseProxyV2 } from 'trellis/workload';

/**
 * Seed 001's service2: answers any HTTP request with
 * `Hello from <remote ip:port> to <local ip:port>`. It is not exposed; service1 reaches it
 * through the fabric, whose server agent prepends a PROXY protocol v2 header so that "remote"
 * is service1's address rather than the agent's. Without a header (called directly) the
 * socket's own peer is the remote.
 *
 * It speaks just enough HTTP/1.1 for one request per connection: node's http server reads the
 * socket's handle directly, so bytes read to look for the PROXY header could not be given back.
 */

const MAX_HEAD = 16 * 1024;

export function startService2(host: string, port: number): Promise<Server> {
  // The VM's firewall, as the seed's VMs have one: only the VM itself (its agent, delivering
  // flows from the fabric) may connect; any other address is refused.
  const server = createServer((socket) => {
    if (socket.remoteAddress !== host && socket.remoteAddress !== `::ffff:${host}`) {
      socket.destroy();
      return;
    }
    serve(socket);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function serve(socket: Socket): void {
  let buf = Buffer.alloc(0);
  let remote: ProxyAddress | undefined;
  socket.setTimeout(10_000, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (remote === undefined && startsLikeProxyV2(buf)) {
      const parsed = parseProxyV2(buf);
      if (parsed.state === 'need-more') return;
      if (parsed.state === 'invalid') return void reply(socket, 400, `bad PROXY header: ${parsed.reason}\n`);
      remote = parsed.src;
      buf = buf.subarray(parsed.headerLength);
    }
    remote ??= { address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 };
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buf.length > MAX_HEAD) reply(socket, 431, 'request header too large\n');
      return;
    }
    socket.removeAllListeners('data');
    const method = buf.subarray(0, buf.indexOf(' ')).toString('latin1');
    if (method !== 'GET' && method !== 'HEAD') return void reply(socket, 405, 'only GET\n');
    const local = `${socket.localAddress}:${socket.localPort}`;
    reply(socket, 200, `Hello from ${remote.address}:${remote.port} to ${local}\n`, method === 'HEAD');
  });
}

/** The first bytes decide: a PROXY v2 header begins with its 12-byte signature, HTTP never does. */
function startsLikeProxyV2(buf: Buffer): boolean {
  const n = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
  return buf.subarray(0, n).equals(PROXY_V2_SIGNATURE.subarray(0, n));
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  405: 'Method Not Allowed',
  431: 'Request Header Fields Too Large',
};

function reply(socket: Socket, status: number, body: string, headOnly = false): void {
  const bytes = Buffer.from(body);
  socket.end(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 ${status} ${REASONS[status]}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
          `content-length: ${bytes.length}\r\nconnection: close\r\n\r\n`,
      ),
      headOnly ? Buffer.alloc(0) : bytes,
    ]),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const host = process.env.TRELLIS_VM_ADDRESS ?? '127.0.0.1';
  const port = Number(process.env.PORT ?? 8002);
  startService2(host, port).then(
    () => process.stdout.write(`service2 listening on ${host}:${port}\n`),
    (err: Error) => {
      process.stderr.write(`service2: ${err.message}\n`);
      process.exit(1);
    },
  );
}
