import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * A Getaway App gateway (news-gw, weather-gw): answers GET /, and any path, with a small JSON
 * document naming the gateway and the VM that answered, so a caller sees which instance served
 * it (two instances per gateway, on two clouds). Reachable only through the fabric: it binds
 * its VM's workload address (loopback on a real host).
 */
export function startGateway(o: { name: string; vm: string; host: string; port: number }): Promise<Server> {
  const server = createServer((req, res) => {
    const body = JSON.stringify({ gateway: o.name, vm: o.vm, path: req.url ?? '/' });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve(server));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = {
    name: process.env.GATEWAY_NAME ?? 'gateway',
    vm: process.env.GATEWAY_VM ?? 'unknown',
    host: process.env.TRELLIS_VM_ADDRESS ?? '127.0.0.1',
    port: Number(process.env.PORT ?? 8101),
  };
  await startGateway(o);
  process.stdout.write(`${o.name} on ${o.vm} listening on ${o.host}:${o.port}\n`);
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
