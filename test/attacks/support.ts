import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { ApiClient } from '../../src/api-client/client.js';
import { H } from '../../src/node/dataplane/headers.js';
import {
  type ExpectedPeer,
  type MtlsIdentity,
  mtlsClientOptions,
} from '../../src/node/identity/tls-options.js';
import type { NodeIdentity } from '../../src/node/runtime/control.js';
import { issueNodeCertificate, loadOrCreateCa } from '../../src/orchestrator/pki/ca.js';
import { parseProxyV2 } from '../../src/wire/proxy-v2.js';
import { TestFabric } from '../support/fabric.js';

const HELLO = readFileSync(new URL('../../examples/hello/fabric.yaml', import.meta.url), 'utf8');

/**
 * What the attacker got back from one CONNECT: a status, the refusal's code (`trellis-deny-code`,
 * '' if none) and reason, or how the stream failed.
 */
export type Outcome = { status: number; code: string; reason: string } | { error: string };

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
    req.on('response', (h) =>
      settle({
        status: Number(h[':status']),
        code: String(h[H.denyCode] ?? ''),
        reason: String(h[H.reason] ?? ''),
      }),
    );
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
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
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

/** The loopback range of one attack suite's hello fabric (each suite has its own). */
export interface HelloRange {
  base: number;
  p1: { host: string; port: number; name: string };
  gcp: { host: string; port: number; name: string };
  aws11: string;
  gcp11: string;
  gcp11Inbound: { host: string; port: number };
}

/** The hello fabric an attacker works against, and what it needs to forge or replay flows. */
export interface HelloAttackFabric {
  f: TestFabric;
  service2: { server: net.Server; sources: string[] };
  /** Where service1's agent listens for the hello contract. */
  helloAddr: string;
  /** aws-11's identity (its key and certificate), as a stolen-credential attacker would hold it. */
  aws11: NodeIdentity;
  /** A real ticket of aws-11 for gcp-11, fetched as its owner does. */
  token: string;
}

/**
 * aws-p1 and gcp-p1; gcp-11 (service2: a PROXY v2 echo, agent on a fixed inbound port so the
 * attacker can reach it) and aws-11 (service1). Returns once a hello flow answers.
 */
export async function helloAttackFabric(
  r: HelloRange,
  ask: (addr: string) => Promise<string>,
): Promise<HelloAttackFabric> {
  const f = await TestFabric.start(HELLO);
  await f.processor(r.p1.name, r.p1.host, r.p1.port);
  await f.processor(r.gcp.name, r.gcp.host, r.gcp.port);
  const service2 = await proxyEchoService(r.gcp11, r.base + 10);
  f.spawn('gcp-11', [
    'agent',
    '--hostowner',
    'service2',
    '--domain',
    'hello',
    '--password-file',
    await f.passwordFile('hello/service2'),
    '--orchestrator',
    f.orch.url,
    '--vm',
    'gcp-11',
    '--address',
    r.gcp11,
    '--client-address',
    r.gcp11,
    '--inbound-port',
    String(r.gcp11Inbound.port),
    '--processors',
    'gcp-p1',
    '--serve',
    `hello=${r.gcp11}:${r.base + 10}`,
    '--state-dir',
    join(f.dir, 'gcp-11'),
    '--env-path',
    join(f.dir, 'gcp-11', 'fabric.env'),
  ]);
  await f.waitFor(
    async () => (await readFile(join(f.dir, 'gcp-11', 'fabric.env'), 'utf8').catch(() => null)) !== null,
    'gcp-11 started',
  );
  const env = await f.envOf(
    await f.agent({
      vm: 'aws-11',
      hostOwner: 'service1',
      domain: 'hello',
      address: r.aws11,
      processors: ['aws-p1'],
    }),
  );
  const helloAddr = env.HELLO_ADDR!;
  const aws11 = JSON.parse(await readFile(join(f.dir, 'aws-11', 'identity.json'), 'utf8')) as NodeIdentity;
  const api = new ApiClient(f.orch.url);
  const login = await api.login('service1', f.passwords['hello/service1']!, 'hello');
  const bundle = await api.withToken(login.token).nodeBundle('aws-11');
  const token = bundle.client.find((c) => c.contract === 'hello')!.targets.find((t) => t.server === 'gcp-11')!
    .token!;
  await f.waitFor(async () => (await ask(helloAddr)).startsWith('Hello from'), 'the hello flow');
  return { f, service2, helloAddr, aws11, token };
}
