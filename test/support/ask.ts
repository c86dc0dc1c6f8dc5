import net from 'node:net';

/**
 * One request through a fabric client listener, as the VM's workload sends it: from the
 * listener's own address, "hi", then everything until the connection closes. A refused flow
 * is closed (or reset) by the agent, which reads as an empty answer.
 */
export function ask(addr: string, timeoutMs = 5000): Promise<string> {
  const colon = addr.lastIndexOf(':');
  const host = addr.slice(0, colon);
  const port = Number(addr.slice(colon + 1));
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress: host }, () => s.write('hi'));
    let body = '';
    s.on('data', (d) => {
      body += d;
    });
    s.on('close', () => resolve(body));
    s.on('error', () => resolve(body));
    s.setTimeout(timeoutMs, () => s.destroy());
  });
}
