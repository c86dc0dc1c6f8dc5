import { X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, publicKeyPem, type TestOrchestrator } from './support/orchestrator.js';
import { storeTargets } from './support/stores.js';
import { startVotingFabric } from './support/voting-fabric.js';

describe.each(storeTargets())('certificate renewal and ticket-key rotation on $name', (target) => {
  let t: TestOrchestrator;
  let admin: string;
  let owner: string;
  const key = publicKeyPem();

  beforeAll(async () => {
    const f = await startVotingFabric(target, { heartbeatTimeoutMs: 3_600_000 });
    ({ t, admin } = f);
    owner = await f.owner('voting-svc');
    const r = await t.call('POST', '/api/v1/nodes/register', {
      token: owner,
      body: { name: 'gcp-11', addresses: ['127.0.42.21'], publicKey: key, processors: ['aws-p1'] },
    });
    expect(r.status).toBe(200);
  });

  afterAll(async () => {
    await t?.close();
  });

  const certNotAfter = async () =>
    (await t.call('GET', '/api/v1/nodes', { token: admin })).body.find(
      (n: { name: string }) => n.name === 'gcp-11',
    ).certNotAfter as string;

  it("renews the owner's certificate for the registered key, and GET /nodes shows the new certNotAfter", async () => {
    const first = await certNotAfter();
    expect(first).toMatch(/^\d{4}-\d\d-\d\dT/);
    // notAfter has whole seconds: wait past one so the renewal is visibly later.
    await new Promise((r) => setTimeout(r, 1_100));
    const r = await t.call('POST', '/api/v1/nodes/gcp-11/certificate', {
      token: owner,
      body: { publicKey: key },
    });
    expect(r.status).toBe(200);
    const cert = new X509Certificate(r.body.certPem);
    expect(cert.subject).toBe('CN=gcp-11');
    expect(cert.checkIssued(new X509Certificate(t.orch.ctx.ca.certPem))).toBe(true);
    expect(new Date(cert.validTo).toISOString()).toBe(r.body.certNotAfter);
    expect(Date.parse(r.body.certNotAfter)).toBeGreaterThan(Date.parse(first));
    expect(await certNotAfter()).toBe(r.body.certNotAfter);
  });

  it('refuses a renewal for another key with 409 naming the node', async () => {
    const r = await t.call('POST', '/api/v1/nodes/gcp-11/certificate', {
      token: owner,
      body: { publicKey: publicKeyPem() },
    });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toContain('node "gcp-11" is registered with another key');
  });

  it("refuses a renewal by anyone but the node's owner", async () => {
    const other = await t.login('worker', 'worker-password', 'voting-app');
    const r = await t.call('POST', '/api/v1/nodes/gcp-11/certificate', {
      token: other,
      body: { publicKey: key },
    });
    expect(r.status).toBe(403);
    const byAdmin = await t.call('POST', '/api/v1/nodes/gcp-11/certificate', {
      token: admin,
      body: { publicKey: key },
    });
    expect(byAdmin.status).toBe(403);
  });

  it('rotates the ticket key for a systemAdmin only, audited, publishing both keys to nodes', async () => {
    const denied = await t.call('POST', '/api/v1/ca/rotate-ticket-key', { token: owner });
    expect(denied.status).toBe(403);
    const before = (await t.call('GET', '/api/v1/ca/ticket-keys', { token: admin })).body as { id: string }[];
    const r = await t.call('POST', '/api/v1/ca/rotate-ticket-key', { token: admin });
    expect(r.status).toBe(200);
    expect(r.body.retires.map((x: { keyId: string }) => x.keyId)).toEqual(before.map((k) => k.id));
    const again = await t.call('POST', '/api/v1/ca/rotate-ticket-key', { token: admin });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain(`ticket key ${r.body.keyId} is still being published`);

    const bundle = await t.call('GET', '/api/v1/nodes/gcp-11/bundle', { token: owner });
    expect(bundle.body.ticketKeys.map((k: { id: string }) => k.id).sort()).toEqual(
      [before[0]!.id, r.body.keyId].sort(),
    );
    const audit = await t.call('GET', '/api/v1/audit', { token: admin });
    const entry = audit.body.find((e: { kind: string }) => e.kind === 'ticket-key');
    expect(entry).toMatchObject({
      action: 'create',
      name: r.body.keyId,
      actor: expect.stringContaining('admin'),
    });
    expect(JSON.stringify(entry)).not.toContain('PRIVATE KEY');
    if (!target.name.includes('postgres')) {
      expect((await stat(join(t.store.dataDir, 'ticket-keyring.json'))).mode & 0o777).toBe(0o600);
    }
  });

  it('keeps both ticket keys across an orchestrator restart', async () => {
    const before = (await t.call('GET', '/api/v1/ca/ticket-keys', { token: admin })).body as { id: string }[];
    await t.restart();
    admin = await t.login('admin', ADMIN_PASSWORD);
    const after = (await t.call('GET', '/api/v1/ca/ticket-keys', { token: admin })).body as { id: string }[];
    expect(after.map((k) => k.id)).toEqual(before.map((k) => k.id));
    expect(after).toHaveLength(2);
  });
});
