import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentBundle } from '../src/agent/bundle.js';
import { ApiClient } from '../src/api-client/client.js';
import { DENY_CODE_LIST, type DenyCode, denyLabel } from '../src/deny-codes.js';
import { H } from '../src/node/dataplane/headers.js';
import {
  type ExpectedPeer,
  type MtlsIdentity,
  mtlsClientOptions,
  mtlsServerOptions,
} from '../src/node/identity/tls-options.js';
import type { NodeIdentity } from '../src/node/runtime/control.js';
import { createCaInMemory, issueNodeCertificate } from '../src/orchestrator/pki/ca.js';
import { decodeTicket, type FlowTicket, signTicket } from '../src/wire/ticket.js';
import { connectStream as attempt, forgedIdentity, type Outcome } from './attacks/support.js';
import { TestFabric } from './support/fabric.js';

/**
 * An attacker on the network (or holding one node's stolen credentials) against a real
 * processor: every attempt must be refused with the rule it broke, and the processor must keep
 * carrying legitimate flows.
 */

const HELLO = readFileSync(new URL('../examples/hello/fabric.yaml', import.meta.url), 'utf8');
// Agents listen on fixed ports of their address, so this file uses loopback addresses of its own
// (127.0.4.x) and ports apart from dataplane.test.ts's: the two may run at the same time.
const BASE = 10000 + Math.floor(Math.random() * 9000);
const P1 = { host: '127.0.4.1', port: BASE, name: 'aws-p1' };
const P2 = { host: '127.0.4.2', port: BASE + 1, name: 'aws-p2' };
const GCP = { host: '127.0.4.3', port: BASE + 2, name: 'gcp-p1' };
const AWS11 = '127.0.4.11';
const GCP11 = '127.0.4.12';
type Target = typeof P1;

function startService2(host: string, port: number): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    // The PROXY header and the request arrive; answer and close (the body's content is not checked here).
    socket.once('data', () => socket.end('Hello from service2'));
  });
  return new Promise((r) => server.listen(port, host, () => r(server)));
}

function ask(addr: string): Promise<string> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: host!, port: Number(port), localAddress: host! }, () => s.write('hi'));
    let body = '';
    s.on('data', (d) => {
      body += d;
    });
    s.on('close', () => resolve(body));
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}

function connectHeaders(token: string, hop: number | string, dst = 'gcp-11'): http2.OutgoingHttpHeaders {
  return {
    ':method': 'CONNECT',
    ':authority': dst,
    [H.ticket]: token,
    [H.hop]: String(hop),
    [H.flowLabel]: '12345',
    [H.source]: `${AWS11}:40000`,
  };
}

function as(id: MtlsIdentity, to: Target): http2.SecureClientSessionOptions {
  const expect: ExpectedPeer = { kind: 'processor', name: to.name };
  return mtlsClientOptions(id, undefined, expect);
}

/** Raw TCP: sends bytes (optionally half-closing), resolves once the processor closes the connection. */
function raw(
  to: Target,
  bytes: Buffer,
  o: { end?: boolean } = {},
): { socket: net.Socket; closed: Promise<{ received: Buffer }> } {
  const socket = net.connect({ host: to.host, port: to.port });
  const chunks: Buffer[] = [];
  const closed = new Promise<{ received: Buffer }>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the processor kept the connection open'));
    }, 5000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    // A reset (EPIPE/ECONNRESET while we still write) is the processor closing too.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received: Buffer.concat(chunks) });
    });
  });
  socket.on('connect', () => {
    if (o.end) socket.end(bytes);
    else socket.write(bytes);
  });
  return { socket, closed };
}

/** A real TLS 1.3 ClientHello, captured from Node's own client against a listener that only records. */
function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const srv = net.createServer((s) => {
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
        srv.close();
      });
    });
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      const c = tls.connect({ host: '127.0.0.1', port, servername: 'aws-p1', ALPNProtocols: ['h2'] });
      c.on('error', () => undefined);
    });
  });
}

/** A refusal as the client agent sees it: the status, the code it records, and the human reason. */
function refusedWith(o: Outcome, status: number, code: DenyCode, reason: RegExp): void {
  expect(o, JSON.stringify(o)).toHaveProperty('status', status);
  expect(o, JSON.stringify(o)).toHaveProperty('code', code);
  expect((o as { reason: string }).reason).toMatch(reason);
}

describe('a processor under attack', () => {
  let f: TestFabric;
  let helloAddr: string;
  let service2: net.Server;
  let aws11: NodeIdentity;
  let gcp11: NodeIdentity;
  let token: string;
  let ticket: FlowTicket;

  beforeAll(async () => {
    f = await TestFabric.start(HELLO);
    await f.processor(P1.name, P1.host, P1.port);
    await f.processor(P2.name, P2.host, P2.port);
    await f.processor(GCP.name, GCP.host, GCP.port);
    service2 = await startService2(GCP11, BASE + 10);
    await f.agent({
      vm: 'gcp-11',
      hostOwner: 'service2',
      domain: 'hello',
      address: GCP11,
      processors: ['gcp-p1'],
      serve: [`hello=${GCP11}:${BASE + 10}`],
    });
    const env = await f.envOf(
      await f.agent({
        vm: 'aws-11',
        hostOwner: 'service1',
        domain: 'hello',
        address: AWS11,
        processors: ['aws-p1'],
      }),
    );
    helloAddr = env.HELLO_ADDR!;
    aws11 = JSON.parse(await readFile(join(f.dir, 'aws-11', 'identity.json'), 'utf8')) as NodeIdentity;
    gcp11 = JSON.parse(await readFile(join(f.dir, 'gcp-11', 'identity.json'), 'utf8')) as NodeIdentity;

    // The real ticket aws-11's agent uses, fetched as its owner does.
    const api = new ApiClient(f.orch.url);
    const login = await api.login('service1', f.passwords['hello/service1']!, 'hello');
    const bundle = await api
      .withToken(login.token)
      .request<AgentBundle>('GET', '/api/v1/nodes/aws-11/bundle');
    const target = bundle.client
      .find((c) => c.contract === 'hello')!
      .targets.find((t) => t.server === 'gcp-11')!;
    token = target.token!;
    ticket = decodeTicket(Buffer.from(token, 'base64url').subarray(0, -64));
  }, 90_000);

  afterAll(async () => {
    service2?.close();
    await f?.stop();
  });

  it('carries the legitimate flow before the attacks, on the path aws-p1 → gcp-p1', async () => {
    expect(ticket.src).toBe('aws-11');
    expect(ticket.path.map((h) => h.name)).toEqual(['aws-p1', 'gcp-p1']);
    expect(await ask(helloAddr)).toBe('Hello from service2');
    // The same CONNECT the agent sends, made by hand, is accepted: the refusals below are about the attack.
    const ok = await attempt(P1, as(aws11, P1), connectHeaders(token, 0));
    expect(ok).toHaveProperty('status', 200);
  });

  it('refuses a ticket signed with another key (forged)', async () => {
    const attackerKey = generateKeyPairSync('ed25519').privateKey;
    const forged = signTicket({ ...ticket, expiresAt: ticket.expiresAt + 86_400 }, attackerKey);
    refusedWith(
      await attempt(P1, as(aws11, P1), connectHeaders(forged, 0)),
      403,
      'TRELLIS_DENY_BAD_SIGNATURE',
      /bad signature/,
    );
    // A real ticket with one bit of its body changed (here: its policy epoch) fails the same check.
    const bytes = Buffer.from(token, 'base64url');
    bytes[9]! ^= 0x01;
    refusedWith(
      await attempt(P1, as(aws11, P1), connectHeaders(bytes.toString('base64url'), 0)),
      403,
      'TRELLIS_DENY_BAD_SIGNATURE',
      /bad signature/,
    );
  });

  it('refuses a correctly signed ticket that has expired', async () => {
    const orchestratorKey = createPrivateKey(
      await readFile(join(f.dir, 'orchestrator', 'ticket.key'), 'utf8'),
    );
    const now = Math.floor(Date.now() / 1000);
    const expired = signTicket({ ...ticket, issuedAt: now - 600, expiresAt: now - 60 }, orchestratorKey);
    refusedWith(
      await attempt(P1, as(aws11, P1), connectHeaders(expired, 0)),
      403,
      'TRELLIS_DENY_EXPIRED',
      /ticket expired at/,
    );
  });

  it('refuses a real ticket at a processor that is not its hop', async () => {
    // aws-p2 is a processor of the fabric but not on this ticket's path.
    refusedWith(
      await attempt(P2, as(aws11, P2), connectHeaders(token, 0)),
      403,
      'TRELLIS_DENY_WRONG_HOP',
      /aws-p2 is not hop 0 of the ticket's path \[aws-p1, gcp-p1\]/,
    );
    // The right processor, the wrong hop number (a replay aimed at skipping a hop's checks).
    for (const hop of ['1', '2', '-1', 'x']) {
      refusedWith(
        await attempt(P1, as(aws11, P1), connectHeaders(token, hop)),
        403,
        'TRELLIS_DENY_WRONG_HOP',
        new RegExp(`aws-p1 is not hop ${hop} of the ticket's path`),
      );
    }
  });

  it('refuses a real ticket presented by a node other than the one it was issued to', async () => {
    // Stolen: gcp-11 (a real fabric node, valid certificate) replays aws-11's ticket.
    refusedWith(
      await attempt(P1, as(gcp11, P1), connectHeaders(token, 0)),
      403,
      'TRELLIS_DENY_WRONG_PEER',
      /presented by workload gcp-11, expected workload aws-11/,
    );
    // Bypass: aws-11 skips aws-p1 and goes straight to the second hop.
    refusedWith(
      await attempt(GCP, as(aws11, GCP), connectHeaders(token, 1)),
      403,
      'TRELLIS_DENY_WRONG_PEER',
      /presented by workload aws-11, expected processor aws-p1/,
    );
  });

  it('refuses a CONNECT without a ticket, or with a malformed or oversized one', async () => {
    const h = connectHeaders(token, 0);
    delete h[H.ticket];
    refusedWith(await attempt(P1, as(aws11, P1), h), 403, 'TRELLIS_DENY_NO_TICKET', /no flow ticket/);
    refusedWith(
      await attempt(P1, as(aws11, P1), connectHeaders('not a ticket!', 0)),
      403,
      'TRELLIS_DENY_MALFORMED_TICKET',
      /malformed ticket: not base64url/,
    );
    refusedWith(
      await attempt(P1, as(aws11, P1), connectHeaders(token.slice(0, 40), 0)),
      403,
      'TRELLIS_DENY_MALFORMED_TICKET',
      /malformed ticket: truncated/,
    );
    refusedWith(
      await attempt(P1, as(aws11, P1), connectHeaders('A'.repeat(8192), 0)),
      403,
      'TRELLIS_DENY_MALFORMED_TICKET',
      /malformed ticket: 8192 characters, more than 4096/,
    );
  });

  it('refuses the TLS handshake of a client certificate from another CA', async () => {
    const otherCa = await createCaInMemory('attacker');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    // Same name, kind, domain and address as the real aws-11: only the issuer differs.
    const { certPem } = await issueNodeCertificate(otherCa, {
      publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      name: 'aws-11',
      kind: 'workload',
      domain: 'hello',
      addresses: [AWS11],
    });
    const impostor: MtlsIdentity = {
      certPem,
      keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      caPem: aws11.caPem,
    };
    const o = await attempt(P1, as(impostor, P1), connectHeaders(token, 0));
    // Node's TLS server drops an unverified client right after the handshake, without an alert:
    // the client sees its session close, and above all no status (a 200 here would be a breach).
    expect(o, JSON.stringify(o)).not.toHaveProperty('status');
    expect((o as { error: string }).error).toMatch(/closed|ECONNRESET|unknown ca|bad certificate/i);
  });

  it('refuses the TLS handshake of a client without a certificate', async () => {
    const o = await attempt(
      P1,
      {
        ca: aws11.caPem,
        minVersion: 'TLSv1.3',
        ALPNProtocols: ['h2'],
        checkServerIdentity: () => undefined,
      },
      connectHeaders(token, 0),
    );
    expect(o, JSON.stringify(o)).not.toHaveProperty('status');
    expect((o as { error: string }).error).toMatch(/certificate required/i);
  });

  it('closes connections that send garbage, and serves others meanwhile', async () => {
    const hello = await captureClientHello();
    expect(hello[0]).toBe(0x16); // a TLS handshake record
    // Half a ClientHello, left hanging: the processor waits for the rest, but not at others' expense.
    const half = raw(P1, hello.subarray(0, Math.floor(hello.length / 2)));
    const cases: [string, Buffer][] = [
      ['random bytes', randomBytes(4096)],
      ['an HTTP/1.1 request', Buffer.from('GET / HTTP/1.1\r\nHost: aws-p1\r\nConnection: close\r\n\r\n')],
      ['1 MB of zeros', Buffer.alloc(1024 * 1024)],
      ['an HTTP/2 preface in clear text', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')],
    ];
    for (const [what, bytes] of cases) {
      const { received } = await raw(P1, bytes).closed;
      expect(received.toString('latin1'), what).not.toMatch(/HTTP\/1\.[01] \d{3}/);
    }
    const ok = await attempt(P1, as(aws11, P1), connectHeaders(token, 0));
    expect(ok).toHaveProperty('status', 200);
    expect(await ask(helloAddr)).toBe('Hello from service2');
    // Once the half-hello's sender gives up, the processor closes that connection too.
    half.socket.end();
    await half.closed;
  });

  it('answers a non-CONNECT request from a valid node with 405', async () => {
    for (const method of ['GET', 'POST']) {
      refusedWith(
        await attempt(P1, as(aws11, P1), {
          ':method': method,
          ':path': '/',
          [H.ticket]: token,
          [H.hop]: '0',
        }),
        405,
        'TRELLIS_DENY_NOT_CONNECT',
        /CONNECT streams only/,
      );
    }
  });

  it("relays a next hop's refusal with its code, and a forged code as TRELLIS_DENY_UNKNOWN_CODE", async () => {
    // A next hop the test controls: a certificate from the fabric's CA naming gcp-p1, at an
    // endpoint a ticket signed with the orchestrator's key names as the path's second hop.
    const orchestratorKey = createPrivateKey(
      await readFile(join(f.dir, 'orchestrator', 'ticket.key'), 'utf8'),
    );
    const fakeHost = '127.0.4.9';
    const fakeGcp = await forgedIdentity(join(f.dir, 'orchestrator'), {
      name: 'gcp-p1',
      kind: 'processor',
      domain: 'infra',
      addresses: [fakeHost],
    });
    let answer: http2.OutgoingHttpHeaders = {};
    const fake = http2.createSecureServer(mtlsServerOptions(fakeGcp));
    fake.on('sessionError', () => undefined);
    const sessions = new Set<http2.ServerHttp2Session>();
    fake.on('session', (se) => {
      sessions.add(se);
      se.on('error', () => undefined);
    });
    fake.on('stream', (st) => {
      st.on('error', () => undefined);
      st.respond(answer, { endStream: true });
    });
    await new Promise<void>((r) => fake.listen(BASE + 9, fakeHost, () => r()));
    try {
      const viaFake = signTicket(
        {
          ...ticket,
          path: [ticket.path[0]!, { name: 'gcp-p1', endpoint: `${fakeHost}:${BASE + 9}` }],
        },
        orchestratorKey,
      );
      const before = await (await fetch(`http://${P1.host}:9901/metrics`)).text();
      answer = { ':status': 403, [H.denyCode]: 'TRELLIS_DENY_NOT_SERVED', [H.reason]: 'refused: relayed' };
      refusedWith(
        await attempt(P1, as(aws11, P1), connectHeaders(viaFake, 0)),
        403,
        'TRELLIS_DENY_NOT_SERVED',
        /^refused: relayed$/,
      );
      answer = {
        ':status': 403,
        [H.denyCode]: 'TRELLIS_DENY_OWNED", "x": "y',
        [H.reason]: 'refused: forged code',
      };
      refusedWith(
        await attempt(P1, as(aws11, P1), connectHeaders(viaFake, 0)),
        403,
        'TRELLIS_DENY_UNKNOWN_CODE',
        /^refused: forged code$/,
      );
      answer = { ':status': 403, [H.reason]: 'refused: by an older processor' };
      refusedWith(
        await attempt(P1, as(aws11, P1), connectHeaders(viaFake, 0)),
        403,
        'TRELLIS_DENY_NO_CODE',
        /older processor/,
      );
      // Relayed refusals count at the hop that made them, not again at aws-p1; nothing of the
      // forged value reaches its metrics.
      const after = await (await fetch(`http://${P1.host}:9901/metrics`)).text();
      const series = (t: string) => t.split('\n').filter((l) => l.startsWith('trellis_denials_total{'));
      expect(series(after)).toEqual(series(before));
      expect(after).not.toContain('OWNED');
    } finally {
      const closed = new Promise<void>((r) => fake.close(() => r()));
      for (const se of sessions) se.destroy();
      await closed;
    }
  });

  it('counts and records each refusal above by the code the attacker was sent', async () => {
    // The denial counter's label is the code's (src/deny-codes.ts denyLabel), one series per rule.
    const text = await (await fetch(`http://${P1.host}:9901/metrics`)).text();
    const count = (label: string) =>
      Number(
        new RegExp(`^trellis_denials_total\\{[^}]*reason="${label}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ??
          0,
      );
    expect(count('bad-signature')).toBeGreaterThanOrEqual(2);
    expect(count('expired')).toBeGreaterThanOrEqual(1);
    expect(count('wrong-hop')).toBeGreaterThanOrEqual(4);
    expect(count('wrong-peer')).toBeGreaterThanOrEqual(1);
    expect(count('no-ticket')).toBeGreaterThanOrEqual(1);
    expect(count('malformed-ticket')).toBeGreaterThanOrEqual(3);
    expect(count('not-connect')).toBeGreaterThanOrEqual(2);
    // Every series is a catalogue label: what a peer sent never became one.
    for (const m of text.matchAll(/^trellis_denials_total\{[^}]*reason="([^"]*)"/gm))
      expect(DENY_CODE_LIST.map(denyLabel)).toContain(m[1]);
    // Refusals of a ticket that decoded are reported with the same code.
    await f.waitFor(async () => {
      const rows = await f.admin.request<{ code: string; reportedBy: string; reason: string }[]>(
        'GET',
        '/api/v1/denials?node=aws-p1&limit=1000',
      );
      const codes = new Set(rows.filter((d) => d.reportedBy === 'aws-p1').map((d) => d.code));
      return codes.has('TRELLIS_DENY_WRONG_HOP') && codes.has('TRELLIS_DENY_WRONG_PEER');
    }, "aws-p1's WRONG_HOP and WRONG_PEER denials");
  });

  it('still carries the legitimate flow after all of it, with every processor alive', async () => {
    expect(await ask(helloAddr)).toBe('Hello from service2');
    for (const name of [P1.name, P2.name, GCP.name]) {
      const child = f.children.get(name)!;
      expect(child.exitCode, `${name} exited`).toBeNull();
      expect(child.signalCode, `${name} was killed`).toBeNull();
    }
    const nodes = await f.admin.nodes();
    expect(nodes.find((n) => n.name === 'aws-p1')?.status).toBe('connected');
  });
});
