import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fabricSnapshot } from '../src/orchestrator/policy/snapshot.js';
import { startTestOrchestrator, type TestOrchestrator } from './support/orchestrator.js';
import { pgliteTarget } from './support/stores.js';

/**
 * The policy snapshot every bundle is computed from is shared until an event says the policy
 * state changed. Regression (2026-12-03): a peer-health event (a node ejecting or restoring a
 * peer: logged and published, nothing stored) threw the snapshot away, so during a flapping
 * peer every bundle request of a thousand agents re-read every node, contract and link.
 */

let t: TestOrchestrator;
beforeAll(async () => {
  t = await startTestOrchestrator(pgliteTarget);
});
afterAll(async () => {
  await t?.close();
});

const peerHealth = (state: 'ejected' | 'restored') => ({
  type: 'peer-health' as const,
  node: 'aws-11',
  domain: 'voting-app',
  peer: 'aws-p1',
  peerDomain: 'infra',
  state,
  at: new Date().toISOString(),
});

describe('the policy snapshot', () => {
  it('is kept across peer-health events (they change nothing a bundle is made of)', async () => {
    const ctx = t.orch.ctx;
    const first = fabricSnapshot(ctx);
    await first;
    ctx.events.publish(peerHealth('ejected'));
    ctx.events.publish(peerHealth('restored'));
    expect(fabricSnapshot(ctx)).toBe(first);
  });

  it('is read again after a policy event', async () => {
    const ctx = t.orch.ctx;
    const first = fabricSnapshot(ctx);
    await first;
    ctx.events.publish({ type: 'policy', epoch: (await first).epoch + 1, at: new Date().toISOString() });
    expect(fabricSnapshot(ctx)).not.toBe(first);
  });
});
