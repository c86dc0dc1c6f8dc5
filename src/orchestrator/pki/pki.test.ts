import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink } from 'node:fs/promises';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { NodeKind } from '../../model/node.js';
import { loadOrCreateNodeKey } from '../../node/identity/keys.js';
import { type MtlsIdentity, mtlsClientOptions, mtlsServerOptions } from '../../node/identity/tls-options.js';
import {
  createCaInMemory,
  type FabricCa,
  issueNodeCertificate,
  loadOrCreateCa,
  type PeerIdentity,
  peerIdentity,
} from './ca.js';

const DAY_MS = 24 * 60 * 60 * 1000;

function p256(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A node as the agent/processor will have it: own key, certificate from `ca`, trusting `trust`. */
async function node(
  ca: FabricCa,
  name: string,
  kind: NodeKind,
  opts: { domain?: string; notBefore?: Date; notAfter?: Date; trust?: FabricCa } = {},
): Promise<MtlsIdentity> {
  const key = p256();
  const { certPem } = await issueNodeCertificate(ca, {
    publicKey: key.publicKeyPem,
    name,
    kind,
    domain: opts.domain ?? 'voting-app',
    addresses: ['127.0.0.1'],
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
  });
  return { certPem, keyPem: key.privateKeyPem, caPem: (opts.trust ?? ca).certPem };
}

interface TestServer {
  url: string;
  /** Streams that reached the handler, i.e. got past the handshake. */
  handled: number;
  tlsErrors: Error[];
  close(): Promise<void>;
}

/** An HTTP/2 mTLS server that answers every request with the client's peerIdentity(). */
async function serve(id: MtlsIdentity): Promise<TestServer> {
  const server = http2.createSecureServer(mtlsServerOptions(id));
  const state: TestServer = {
    url: '',
    handled: 0,
    tlsErrors: [],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  server.on('tlsClientError', (err) => state.tlsErrors.push(err));
  server.on('stream', (stream) => {
    state.handled++;
    const socket = stream.session?.socket;
    const client = socket instanceof TLSSocket ? peerIdentity(socket.getPeerCertificate()) : null;
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify(client));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

/** One GET over a fresh session; resolves with who each side saw, rejects on any TLS/HTTP2 error. */
function request(
  url: string,
  options: http2.SecureClientSessionOptions,
): Promise<{ serverSawClient: PeerIdentity | null; clientSawServer: PeerIdentity | null }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, options);
    const timer = setTimeout(() => fail(new Error('timed out')), 5000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    session.on('error', fail);
    session.on('close', () => fail(new Error('session closed before a response')));
    const req = session.request({ ':path': '/' });
    req.on('error', fail);
    let status: number | undefined;
    req.on('response', (headers) => {
      status = headers[':status'];
    });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      // A refused handshake can still end the stream (empty, no headers) before the error.
      if (status !== 200) return fail(new Error(`no response (status ${status})`));
      clearTimeout(timer);
      const socket = session.socket;
      const clientSawServer = socket instanceof TLSSocket ? peerIdentity(socket.getPeerCertificate()) : null;
      resolve({ serverSawClient: JSON.parse(body) as PeerIdentity | null, clientSawServer });
      session.close();
    });
  });
}

describe('fabric PKI over real mTLS HTTP/2 sockets', () => {
  let ca: FabricCa;
  let dir: string;

  beforeAll(async () => {
    ca = await createCaInMemory();
    dir = await mkdtemp(join(tmpdir(), 'trellis-pki-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a CA-issued node certificate completes a mutual-TLS request both ways', async () => {
    const processor = await node(ca, 'aws-p1', 'processor', { domain: 'fabric' });
    const workload = await node(ca, 'aws-11', 'workload');
    const asProcessor: PeerIdentity = { domain: 'fabric', kind: 'processor', name: 'aws-p1' };
    const asWorkload: PeerIdentity = { domain: 'voting-app', kind: 'workload', name: 'aws-11' };
    for (const [server, client, serverId, clientId] of [
      [processor, workload, asProcessor, asWorkload],
      [workload, processor, asWorkload, asProcessor],
    ] as const) {
      const s = await serve(server);
      try {
        const r = await request(s.url, mtlsClientOptions(client, undefined, serverId));
        expect(r.serverSawClient).toEqual(clientId);
        expect(r.clientSawServer).toEqual(serverId);
      } finally {
        await s.close();
      }
    }
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    const other = await createCaInMemory();
    const s = await serve(await node(ca, 'aws-p1', 'processor'));
    try {
      const intruder = await node(other, 'aws-11', 'workload', { trust: ca });
      await expect(request(s.url, mtlsClientOptions(intruder))).rejects.toThrow();
      await vi.waitFor(() => expect(s.tlsErrors.length).toBeGreaterThan(0));
      expect(s.handled).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('refuses an expired client certificate, and a client refuses an expired server', async () => {
    const expired = { notBefore: new Date(Date.now() - 2 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) };
    const s = await serve(await node(ca, 'aws-p1', 'processor'));
    try {
      const client = await node(ca, 'aws-11', 'workload', expired);
      await expect(request(s.url, mtlsClientOptions(client))).rejects.toThrow();
      await vi.waitFor(() => expect(s.tlsErrors.length).toBeGreaterThan(0));
      expect(s.handled).toBe(0);
    } finally {
      await s.close();
    }
    const stale = await serve(await node(ca, 'aws-p1', 'processor', expired));
    try {
      const client = await node(ca, 'aws-11', 'workload');
      await expect(request(stale.url, mtlsClientOptions(client))).rejects.toThrow(/expired/);
      expect(stale.handled).toBe(0);
    } finally {
      await stale.close();
    }
  });

  it('refuses a client that presents no certificate', async () => {
    const s = await serve(await node(ca, 'aws-p1', 'processor'));
    try {
      const {
        cert: _cert,
        key: _key,
        ...anonymous
      } = mtlsClientOptions(await node(ca, 'aws-11', 'workload'));
      await expect(request(s.url, anonymous)).rejects.toThrow();
      await vi.waitFor(() => expect(s.tlsErrors.length).toBeGreaterThan(0));
      expect(s.handled).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('checkServerIdentity refuses a server that is not the expected peer', async () => {
    const s = await serve(await node(ca, 'aws-p1', 'processor', { domain: 'fabric' }));
    try {
      const client = await node(ca, 'aws-11', 'workload');
      await expect(request(s.url, mtlsClientOptions(client, undefined, { name: 'gcp-p1' }))).rejects.toThrow(
        'server identity mismatch: server is trellis://fabric/processor/aws-p1, expected name "gcp-p1"',
      );
      await expect(
        request(s.url, mtlsClientOptions(client, undefined, { kind: 'workload' })),
      ).rejects.toThrow(/expected kind "workload"/);
      const ok = await request(
        s.url,
        mtlsClientOptions(client, undefined, { kind: 'processor', name: 'aws-p1' }),
      );
      expect(ok.clientSawServer?.name).toBe('aws-p1');
      expect(s.handled).toBe(1);
    } finally {
      await s.close();
    }
  });
});

describe('node certificate contents', () => {
  let ca: FabricCa;
  beforeAll(async () => {
    ca = await createCaInMemory('test-fabric');
  });

  it('carries the URI SAN, IP SANs, both EKUs, the node key, and 7 days of validity', async () => {
    const key = p256();
    const issued = await issueNodeCertificate(ca, {
      publicKey: key.publicKeyPem,
      name: 'gcp-11',
      kind: 'workload',
      domain: 'voting-app',
      addresses: ['127.0.2.11', 'gcp-11.internal', 'fd00::11'],
    });
    const cert = new X509Certificate(issued.certPem);
    const caCert = new X509Certificate(ca.certPem);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toMatch(/^O=test-fabric\nCN=Trellis fabric CA [0-9a-f]{12}$/);
    expect(cert.subject).toBe('CN=gcp-11');
    expect(cert.subjectAltName).toBe(
      'URI:trellis://voting-app/workload/gcp-11, IP Address:127.0.2.11, IP Address:FD00:0:0:0:0:0:0:11',
    );
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(key.publicKeyPem);
    expect(cert.serialNumber).toMatch(/^[0-9A-F]{32}$/);
    const days = (Date.parse(issued.notAfter) - Date.now()) / DAY_MS;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);
    expect(peerIdentity(cert)).toEqual({ domain: 'voting-app', kind: 'workload', name: 'gcp-11' });
  });

  it('refuses a private key, a non-P-256 key and a name that would not parse back', async () => {
    const base = { name: 'aws-11', kind: 'workload', domain: 'voting-app', addresses: [] } as const;
    await expect(issueNodeCertificate(ca, { ...base, publicKey: p256().privateKeyPem })).rejects.toThrow(
      'publicKey contains a private key',
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey;
    await expect(
      issueNodeCertificate(ca, {
        ...base,
        publicKey: p384.export({ type: 'spki', format: 'pem' }).toString(),
      }),
    ).rejects.toThrow('publicKey must be an ECDSA P-256 public key');
    await expect(
      issueNodeCertificate(ca, { ...base, name: 'a/b', publicKey: p256().publicKeyPem }),
    ).rejects.toThrow('name "a/b" is not a valid name');
  });

  it('peerIdentity returns null without a single trellis:// URI', () => {
    expect(peerIdentity(new X509Certificate(ca.certPem))).toBeNull();
    expect(peerIdentity({} as ReturnType<TLSSocket['getPeerCertificate']>)).toBeNull();
  });

  it('issues certificates in a few milliseconds', async () => {
    const publicKeyPem = p256().publicKeyPem;
    const req = {
      publicKey: publicKeyPem,
      name: 'aws-11',
      kind: 'workload',
      domain: 'd',
      addresses: ['127.0.0.1'],
    } as const;
    await issueNodeCertificate(ca, req); // warm: library load and CA key import happen once
    const n = 200;
    const start = performance.now();
    for (let i = 0; i < n; i++) await issueNodeCertificate(ca, req);
    const perCert = (performance.now() - start) / n;
    console.log(`issueNodeCertificate: ${perCert.toFixed(2)} ms per certificate (mean of ${n})`);
  });
});

describe('key and CA files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-pki-files-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loadOrCreateCa creates ca.crt and a 0600 ca.key, then reuses them', async () => {
    const caDir = join(dir, 'ca');
    const first = await loadOrCreateCa(caDir, 'lab');
    expect((await stat(join(caDir, 'ca.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(caDir, 'ca.crt'), 'utf8')).toBe(first.certPem);
    const second = await loadOrCreateCa(caDir, 'lab');
    expect(second.certPem).toBe(first.certPem);
    expect(second.keyPem).toBe(first.keyPem);
    // A reloaded CA still issues certificates that chain to the original.
    const { certPem } = await issueNodeCertificate(second, {
      publicKey: p256().publicKeyPem,
      name: 'aws-p1',
      kind: 'processor',
      domain: 'fabric',
      addresses: [],
    });
    expect(new X509Certificate(certPem).verify(new X509Certificate(first.certPem).publicKey)).toBe(true);
  });

  it('loadOrCreateCa refuses half a CA instead of replacing it', async () => {
    const caDir = join(dir, 'half');
    await loadOrCreateCa(caDir);
    await unlink(join(caDir, 'ca.crt'));
    await expect(loadOrCreateCa(caDir)).rejects.toThrow(/has only one of ca.crt and ca.key/);
  });

  it('loadOrCreateNodeKey creates a 0600 P-256 key once and reuses it', async () => {
    const nodeDir = join(dir, 'node');
    const first = await loadOrCreateNodeKey(nodeDir);
    expect((await stat(join(nodeDir, 'node.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(nodeDir, 'node.pub'), 'utf8')).toBe(first.publicKeyPem);
    expect(await loadOrCreateNodeKey(nodeDir)).toEqual(first);
    await unlink(join(nodeDir, 'node.pub'));
    expect(await loadOrCreateNodeKey(nodeDir)).toEqual(first);
    expect(await readFile(join(nodeDir, 'node.pub'), 'utf8')).toBe(first.publicKeyPem);
  });
});
