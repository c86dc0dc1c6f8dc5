import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publicKeyPem, type TestOrchestrator } from './support/orchestrator.js';
import { storeTargets } from './support/stores.js';
import { startVotingFabric } from './support/voting-fabric.js';

/**
 * Regression (session 9): a registration whose `publicKey` was a private key, or a key of the
 * wrong type, was stored — node row `connected`, the PEM kept as its key, the name bound to it,
 * an audit `create` — before the CA refused it and the caller got a 400. The key is now checked
 * once, before the transaction: the refusal leaves nothing behind, and the name stays free.
 */
const privatePem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();
const ed25519Pem = generateKeyPairSync('ed25519')
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();

describe.each(storeTargets())('a registration with an unusable key on $name', (target) => {
  let t: TestOrchestrator;
  let admin: string;
  let owner: string;

  beforeAll(async () => {
    const f = await startVotingFabric(target, { heartbeatTimeoutMs: 3_600_000 });
    ({ t, admin } = f);
    owner = await f.owner('voting-svc');
  });

  afterAll(async () => {
    await t?.close();
  });

  const register = (name: string, publicKey: string) =>
    t.call('POST', '/api/v1/nodes/register', {
      token: owner,
      body: { name, addresses: ['127.0.42.31'], publicKey, processors: ['aws-p1'] },
    });
  const nodeNames = async () =>
    ((await t.call('GET', '/api/v1/nodes', { token: admin })).body as { name: string }[]).map((n) => n.name);
  const auditOf = async (name: string) =>
    (
      (await t.call('GET', '/api/v1/audit', { token: admin })).body as { name: string; action: string }[]
    ).filter((e) => e.name === name);

  it.each([
    ['a private key', privatePem, 'publicKey contains a private key'],
    ['an RSA public key', rsaPem, 'publicKey must be an ECDSA P-256 public key'],
    ['an Ed25519 public key', ed25519Pem, 'publicKey must be an ECDSA P-256 public key'],
    ['no PEM at all', 'not a key', 'publicKey is not a PEM public key'],
  ])(
    'refuses %s with 400 naming the field, and stores no node, no key, no audit create',
    async (_what, pem, message) => {
      const name = `bad-key-${pem.length}`;
      const r = await register(name, pem);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('TRELLIS_ERR_VALIDATION');
      expect(r.body.error.message).toBe(message);
      expect(await nodeNames()).not.toContain(name);
      expect((await auditOf(name)).map((e) => e.action)).not.toContain('create');
      expect(r.body.error.field).toBe('body.publicKey');
      // The name was not bound to the refused key: a real key registers it.
      const ok = await register(name, publicKeyPem());
      expect(ok.status).toBe(200);
      expect(await nodeNames()).toContain(name);
    },
  );
});
