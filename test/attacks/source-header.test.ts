import { readFileSync } from 'node:fs';
import type http2 from 'node:http2';
import type net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H } from '../../src/node/dataplane/headers.js';
import type { MtlsIdentity } from '../../src/node/identity/tls-options.js';
import { ask } from '../support/ask.js';
import type { TestFabric } from '../support/fabric.js';
import { attempt, forgedIdentity, helloAttackFabric, type Outcome } from './support.js';

/**
 * Issue 11, finding 1: a client node could crash the server's agent and fake the source its
 * workload is told. Processors passed `trellis-source` through unchecked and the server agent
 * wrote it into the PROXY v2 header: `x` threw outside any handler (the agent died with every
 * flow it served) and `6.6.6.6:666` reached service2 as the client's address.
 */

const _HELLO = readFileSync(new URL('../../examples/hello/fabric.yaml', import.meta.url), 'utf8');
// This file's loopback range (127.0.81.x); ports apart from other suites'.
const BASE = 20000 + Math.floor(Math.random() * 9000);
const P1 = { host: '127.0.81.1', port: BASE, name: 'aws-p1' };
const GCP = { host: '127.0.81.3', port: BASE + 2, name: 'gcp-p1' };
const AWS11 = '127.0.81.11';
const GCP11 = '127.0.81.12';
const GCP11_INBOUND = { host: GCP11, port: BASE + 20 };

function connect(token: string, hop: number, source: string | undefined): http2.OutgoingHttpHeaders {
  return {
    ':method': 'CONNECT',
    ':authority': 'gcp-11',
    [H.ticket]: token,
    [H.hop]: String(hop),
    [H.flowLabel]: '4242',
    ...(source !== undefined && { [H.source]: source }),
  };
}

/** Every refusal here is of the source header: TRELLIS_DENY_BAD_SOURCE, with a reason naming it. */
function refusedWith(o: Outcome, status: number, reason: RegExp): void {
  expect(o, JSON.stringify(o)).toHaveProperty('status', status);
  expect(o, JSON.stringify(o)).toHaveProperty('code', 'TRELLIS_DENY_BAD_SOURCE');
  expect((o as { reason: string }).reason).toMatch(reason);
}

describe('trellis-source from a client node (issue 11, finding 1)', () => {
  let f: TestFabric;
  let helloAddr: string;
  let service2: { server: net.Server; sources: string[] };
  let aws11: MtlsIdentity;
  let token: string;

  const alive = (name: string) => {
    const child = f.children.get(name)!;
    expect(child.exitCode, `${name} exited: ${f.logs.get(name)?.join('').slice(-2000)}`).toBeNull();
    expect(child.signalCode, `${name} was killed`).toBeNull();
  };

  beforeAll(async () => {
    ({ f, service2, helloAddr, aws11, token } = await helloAttackFabric(
      { base: BASE, p1: P1, gcp: GCP, aws11: AWS11, gcp11: GCP11, gcp11Inbound: GCP11_INBOUND },
      ask,
    ));
  }, 90_000);

  afterAll(async () => {
    service2?.server.close();
    await f?.stop();
  });

  it("delivers the client workload's real address to the server workload", async () => {
    expect(await ask(helloAddr)).toMatch(new RegExp(`^Hello from ${AWS11.replace(/\./g, '\\.')}:\\d+$`));
  });

  it('trellis-source: 6.6.6.6:666 from aws-11 is refused at aws-p1, and service2 never sees 6.6.6.6', async () => {
    refusedWith(
      await attempt(P1, aws11, { kind: 'processor', name: 'aws-p1' }, connect(token, 0, '6.6.6.6:666')),
      403,
      /trellis-source 6\.6\.6\.6:666 is not an address of aws-11 \(its certificate names 127\.0\.81\.11\)/,
    );
    // The same address in another spelling is the same forgery.
    refusedWith(
      await attempt(
        P1,
        aws11,
        { kind: 'processor', name: 'aws-p1' },
        connect(token, 0, '[::ffff:6.6.6.6]:666'),
      ),
      403,
      /not an address of aws-11/,
    );
    expect(await ask(helloAddr)).toMatch(/^Hello from 127\.0\.81\.11:/);
    expect(service2.sources.filter((s) => s.startsWith('6.6.6.6'))).toEqual([]);
    // aws-p1 recorded the refusal with the same code the client saw.
    await f.waitFor(async () => {
      const rows = await f.admin.request<{ code: string; reason: string; reportedBy: string }[]>(
        'GET',
        '/api/v1/denials?node=aws-p1&reason=TRELLIS_DENY_BAD_SOURCE',
      );
      return rows.some((d) => d.reportedBy === 'aws-p1' && d.reason.includes('6.6.6.6:666'));
    }, "aws-p1's TRELLIS_DENY_BAD_SOURCE denial naming 6.6.6.6:666");
  });

  it('trellis-source: x (or empty, huge, non-IP, missing) is refused at aws-p1; the agents stay up and other flows keep working', async () => {
    const bad: [string | undefined, RegExp][] = [
      ['x', /trellis-source "x" is not IP:PORT/],
      ['', /trellis-source "" is not IP:PORT/],
      ['9'.repeat(5000), /trellis-source is 5000 characters, more than 64/],
      ['aws-11:80', /is not IP:PORT/],
      ['127.0.81.11', /is not IP:PORT/],
      ['127.0.81.11:99999', /is not IP:PORT/],
      [undefined, /no trellis-source header/],
    ];
    for (const [value, reason] of bad) {
      refusedWith(
        await attempt(P1, aws11, { kind: 'processor', name: 'aws-p1' }, connect(token, 0, value)),
        403,
        reason,
      );
      // Between the attacks, a real flow: nothing sent above took anything down.
      expect(await ask(helloAddr)).toMatch(/^Hello from 127\.0\.81\.11:/);
    }
    for (const name of ['aws-p1', 'gcp-p1', 'gcp-11', 'aws-11']) alive(name);
  });

  it("a malformed trellis-source that reaches the server agent anyway (a processor's forwarding it) is refused there, and the agent stays up", async () => {
    // Stands in for gcp-p1, the ticket's last hop: what a processor with the old pass-through
    // (or a compromised one) would deliver to gcp-11's inbound port.
    const fakeGcpP1 = await forgedIdentity(join(f.dir, 'orchestrator'), {
      name: 'gcp-p1',
      kind: 'processor',
      domain: 'infra',
      addresses: [GCP.host],
    });
    const to = { kind: 'workload' as const, name: 'gcp-11' };
    for (const value of ['x', '', '6.6.6.6', 'fd32::1:80', '1'.repeat(3000), undefined]) {
      const o = await attempt(GCP11_INBOUND, fakeGcpP1, to, connect(token, 2, value));
      refusedWith(o, 403, /refused: (no )?trellis-source.* \(from gcp-p1\)/);
      alive('gcp-11');
    }
    // A well-formed one is delivered (the first hop vouched for it): the refusals were about the value.
    expect(await attempt(GCP11_INBOUND, fakeGcpP1, to, connect(token, 2, `${AWS11}:40001`))).toHaveProperty(
      'status',
      200,
    );
    expect(await ask(helloAddr)).toMatch(/^Hello from 127\.0\.81\.11:/);
    alive('gcp-11');
  });
});
