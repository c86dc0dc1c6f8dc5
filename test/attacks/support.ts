import { generateKeyPairSync } from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { H } from '../../src/dataplane/headers.js';
import {
  type ExpectedPeer,
  type MtlsIdentity,
  mtlsClientOptions,
} from '../../src/node-identity/tls-options.js';
import { issueNodeCertificate, loadOrCreateCa } from '../../src/orchestrator/pki/ca.js';
import { parseProxyV2 } from '../../src/wire/proxy-v2.js';

/** What the attacker got back from one CONNECT: a status and reason, or how the stream failed. */
export type Outcome = { status: number; reason: string } | { error: string };

/** One HTTP/2 CONNECT stream as an mTLS client to a processor or an agent's inbound port. */
export function attempt(
  to: { host: string; port: number },
  id: MtlsIdentity,
  expect: ExpectedPeer,
  headers: http2.OutgoingHttpHeaders,
): Promise<Outcome> {
  return connectStream(to, mtlsClientOptions(id, undefined, expect), headers);
}

/** One HTTP/2 stream with any TLS client options (forged or stolen identities included). */
export function connectStream(
  to: { host: string; port: number },
  tlsOptions: http2.SecureClientSessionOptions,
  headers: http2.OutgoingHttpHeaders,
): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false;
    const session = http2.connect(`https://${to.host}:${to.port}`, tlsOptions);
    const settle = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => settle({ error: 'timeout: no response' }), 5000);
    session.on('error', (err) => settle({ error: `${(err as NodeJS.ErrnoException).code}: ${err.message}` }));
    session.on('close', () => settle({ error: 'session closed without a response' }));
    const req = session.request(headers, { endStream: false });
    req.on('response', (h) => settle({ status: Number(h[':status']), reason: String(h[H.reason] ?? '') }));
    req.on('error', (err) => settle({ error: `${(err as NodeJS.ErrnoException).code}: ${err.message}` }));
    // The session's error (a TLS alert) says more than the stream's close; give it a moment to arrive.
    req.on('close', () =>
      setTimeout(() => settle({ error: `stream closed without a response (code ${req.rstCode})` }), 100),
    );
  });
}

/**
 * A certificate from the fabric's own CA (read from the orchestrator's data dir) naming a node
 * of the attacker's choice: how a test stands in for a processor that would forward what a
 * client sent, to reach an agent's inbound port directly.
 */
export async function forgedIdentity(
  orchestratorDir: string,
  node: { name: string; kind: 'processor' | 'workload'; domain: string; addresses: string[] },
): Promise<MtlsIdentity> {
  const ca = await loadOrCreateCa(orchestratorDir);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const { certPem } = await issueNodeCertificate(ca, {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ...node,
  });
  return {
    certPem,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    caPem: ca.certPem,
  };
}

/** A workload that answers with the source its PROXY v2 header named, and records every one. */
export function proxyEchoService(
  host: string,
  port: number,
): Promise<{ server: net.Server; sources: string[] }> {
  const sources: string[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const p = parseProxyV2(buf);
      if (p.state === 'need-more') return;
      if (p.state === 'invalid') return void socket.end(`no PROXY header: ${p.reason}`);
      const src = `${p.src.address}:${p.src.port}`;
      sources.push(src);
      socket.removeAllListeners('data');
      socket.end(`Hello from ${src}`);
    });
  });
  return new Promise((r) => server.listen(port, host, () => r({ server, sources })));
}
