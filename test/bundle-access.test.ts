import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyPem, type TestOrchestrator } from './support/orchestrator.js';
import { storeTargets } from './support/stores.js';
import { startVotingFabric } from './support/voting-fabric.js';

/**
 * A node's bundle (its signed tickets) goes to its owner only. Since session 9 the bundle route
 * takes the node from the policy snapshot rather than from the store; these hold it to the
 * store's answers: another owner is refused, an unknown node is not found, and a deleted node
 * is not found the moment it is gone (its deletion patched the snapshot).
 */
describe.each(storeTargets())('who gets a bundle, on $name', (target) => {
  let t: TestOrchestrator;
  let admin: string;
  let votingSvc: string;
  let worker: string;

  beforeAll(async () => {
    // Nodes without event streams go `disconnected` after 1 s, so the admin may delete one.
    const f = await startVotingFabric(target, { heartbeatTimeoutMs: 1_000 });
    ({ t, admin } = f);
    votingSvc = await f.owner('voting-svc');
    worker = await f.owner('worker');
    for (const [token, name, address] of [
      [votingSvc, 'gcp-21', '127.0.42.51'],
      [worker, 'gcp-22', '127.0.42.52'],
    ] as const) {
      const r = await t.call('POST', '/api/v1/nodes/register', {
        token,
        body: { name, addresses: [address], publicKey: publicKeyPem(), processors: ['aws-p1'] },
      });
      expect(r.status).toBe(200);
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  const bundle = (token: string, name: string) => t.call('GET', `/api/v1/nodes/${name}/bundle`, { token });

  it("serves the node's own owner", async () => {
    const r = await bundle(votingSvc, 'gcp-21');
    expect(r.status).toBe(200);
    expect(r.body.node).toBe('gcp-21');
  });

  it("refuses another owner's node with 403 naming its owner, from the store and from the snapshot alike", async () => {
    // First fetch of gcp-22 by someone else (the snapshot may or may not hold it yet) …
    const first = await bundle(votingSvc, 'gcp-22');
    expect(first.status).toBe(403);
    expect(first.body.error.message).toBe(
      'only its owner "voting-app/worker" may read the data of node "gcp-22"',
    );
    // … its owner's fetch (now surely in the snapshot), then someone else's again.
    expect((await bundle(worker, 'gcp-22')).status).toBe(200);
    const again = await bundle(votingSvc, 'gcp-22');
    expect(again.status).toBe(403);
    expect(again.body.error.message).toBe(first.body.error.message);
    // An admin is not its owner either: a bundle carries the node's tickets.
    expect((await bundle(admin, 'gcp-22')).status).toBe(403);
  });

  it('answers 404 for a node never registered', async () => {
    const r = await bundle(votingSvc, 'gcp-99');
    expect(r.status).toBe(404);
  });

  it('answers 404 for a node the moment it is deleted', async () => {
    expect((await bundle(worker, 'gcp-22')).status).toBe(200);
    await expect
      .poll(async () => (await t.call('DELETE', '/api/v1/nodes/gcp-22', { token: admin })).status, {
        timeout: 10_000,
        interval: 250,
      })
      .toBe(204);
    const r = await bundle(worker, 'gcp-22');
    expect(r.status).toBe(404);
  });
});
