import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFabricText } from '../src/apply/index.js';
import type { DenialView } from '../src/model/denial.js';
import { migrate } from '../src/orchestrator/store/migrate.js';
import { openStore } from '../src/orchestrator/store/open.js';
import { listDenials } from '../src/orchestrator/store/repos/denials.js';
import {
  ADMIN_PASSWORD,
  publicKeyPem,
  startTestOrchestrator,
  type TestOrchestrator,
} from './support/orchestrator.js';
import { pgliteTarget } from './support/stores.js';

/**
 * Refusal codes as the orchestrator takes them in a node's denial report (issue 13): a catalogue
 * code is stored as sent; a node older than the codes sends none (a mixed-version fabric during
 * an upgrade) and one newer may send one this orchestrator does not know. Neither may hold up
 * the node's reports (a refused batch is retried for ever), and a value a node made up must
 * never come back out of the denials API.
 */
const FABRIC = `
apiVersion: trellis/v1
kind: Fabric
processors:
  - { name: aws-p1, zone: aws }
domains:
  - name: hello
    hostOwners: [service1, service2]
    contracts:
      - name: hello
        client: { users: [service1] }
        server: { users: [service2] }
  - name: infra
    switchOwners: [fabric-ops]
`;
const PASSWORDS: Record<string, string> = {
  'hello/service1': 'service1-password',
  'hello/service2': 'service2-password',
  'infra/fabric-ops': 'fabric-ops-password',
};

describe('refusal codes in denial reports', () => {
  let t: TestOrchestrator;
  let admin: string;
  let service1: string;
  const report = (code: unknown, reason: string) =>
    t.call('POST', '/api/v1/nodes/hello-vm1/denials', {
      token: service1,
      body: {
        denials: [
          {
            at: new Date().toISOString(),
            kind: 'deny',
            domain: 'hello',
            contract: 'hello',
            contractId: 1,
            role: 'client',
            src: null,
            dst: null,
            ...(code !== undefined && { code }),
            reason,
          },
        ],
      },
    });
  const listed = async (query = '') => {
    const r = await t.call('GET', `/api/v1/denials?domain=hello${query}`, { token: admin });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body as DenialView[];
  };
  const codeOf = async (reason: string) => (await listed()).find((d) => d.reason === reason)?.code;

  beforeAll(async () => {
    t = await startTestOrchestrator(pgliteTarget, { heartbeatTimeoutMs: 3_600_000 });
    admin = await t.login('admin', ADMIN_PASSWORD);
    const applied = await t.call('POST', '/api/v1/apply', {
      token: admin,
      body: { spec: parseFabricText(FABRIC, 'codes.yaml').spec, passwords: PASSWORDS },
    });
    expect(applied.status).toBe(200);
    service1 = await t.login('service1', PASSWORDS['hello/service1']!, 'hello');
    const r = await t.call('POST', '/api/v1/nodes/register', {
      token: service1,
      body: {
        name: 'hello-vm1',
        addresses: ['127.0.191.11'],
        publicKey: publicKeyPem(),
        processors: ['aws-p1'],
      },
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('stores a catalogue code as the node sent it, and filters by it (or by its metric label)', async () => {
    expect((await report('TRELLIS_DENY_NOT_IN_ROLE', 'refused: known')).status).toBe(204);
    expect(await codeOf('refused: known')).toBe('TRELLIS_DENY_NOT_IN_ROLE');
    expect((await listed('&reason=TRELLIS_DENY_NOT_IN_ROLE')).map((d) => d.reason)).toEqual([
      'refused: known',
    ]);
    expect((await listed('&reason=not-in-role')).map((d) => d.reason)).toEqual(['refused: known']);
  });

  it('takes a report without a code (an older node) as TRELLIS_DENY_NO_CODE, its reason kept', async () => {
    expect((await report(undefined, 'refused: from an old agent')).status).toBe(204);
    expect(await codeOf('refused: from an old agent')).toBe('TRELLIS_DENY_NO_CODE');
  });

  it('takes a code it does not know as TRELLIS_DENY_UNKNOWN_CODE and never lists the value sent', async () => {
    for (const [code, reason] of [
      ['TRELLIS_DENY_FROM_A_NEWER_VERSION', 'refused: newer'],
      ['no-ticket', 'refused: a label, not a code'],
      ['"},"injected":"x', 'refused: garbage'],
      ['constructor', 'refused: a prototype key'],
    ] as const) {
      expect((await report(code, reason)).status, code).toBe(204);
      expect(await codeOf(reason), code).toBe('TRELLIS_DENY_UNKNOWN_CODE');
    }
    const all = JSON.stringify(await listed());
    for (const sent of ['FROM_A_NEWER_VERSION', 'injected', 'constructor']) expect(all).not.toContain(sent);
  });

  it('refuses a code longer than any catalogue code could be (400 naming the field)', async () => {
    const r = await report(`TRELLIS_DENY_${'X'.repeat(100)}`, 'refused: long');
    expect(r.status).toBe(400);
    expect(r.body.error.field).toMatch(/^body\.denials\[0\]\.code$/);
  });

  it('refuses a filter that is neither a code nor a label', async () => {
    const r = await t.call('GET', '/api/v1/denials?reason=TRELLIS_DENY_NOPE', { token: admin });
    expect(r.status).toBe(400);
    expect(r.body.error.field).toBe('query.reason');
  });
});

describe('denials stored before refusal codes (migration 7)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-codes-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are listed as TRELLIS_DENY_NO_CODE with their reason, not classified again', async () => {
    const before = await openStore({ dataDir: dir, migrateUpTo: 6 });
    await before.query(
      `INSERT INTO denials (at, reported_by, kind, domain, contract, contract_id, role, src, dst, reason)
       VALUES (now(), 'aws-p1', 'deny', 'hello', 'hello', 1, 'client', NULL, NULL, 'refused: no flow ticket')`,
    );
    await migrate(before);
    const rows = await listDenials(before, { only: null, limit: 10 });
    await before.close();
    expect(rows.map((d) => [d.code, d.reason])).toEqual([
      ['TRELLIS_DENY_NO_CODE', 'refused: no flow ticket'],
    ]);
  });
});
