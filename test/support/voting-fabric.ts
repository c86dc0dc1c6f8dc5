import { expect } from 'vitest';
import { ADMIN_PASSWORD, startTestOrchestrator, type TestOrchestrator } from './orchestrator.js';
import type { StoreTarget } from './stores.js';
import { votingAppSpec } from './voting-app.js';

/** A password for every resource user of the example fabric, as `<name>-password`. */
export const VOTING_PASSWORDS: Record<string, string> = Object.fromEntries(
  [
    'infra/fabric-ops',
    ...['http-proxy', 'voting-svc', 'voting-db', 'result-svc', 'result-db', 'worker'].map(
      (o) => `voting-app/${o}`,
    ),
  ].map((k) => [k, `${k.split('/')[1]}-password`]),
);

export interface VotingFabric {
  t: TestOrchestrator;
  /** The admin's token. */
  admin: string;
  /** A host owner of voting-app logged in (its token). */
  owner(name: string): Promise<string>;
}

/**
 * An in-process orchestrator with the Voting App's fabric file applied (every resource user
 * with its VOTING_PASSWORDS password), and the admin logged in: what most API tests start from.
 */
export async function startVotingFabric(
  target: StoreTarget,
  opts: Parameters<typeof startTestOrchestrator>[1] = {},
): Promise<VotingFabric> {
  const t = await startTestOrchestrator(target, opts);
  const admin = await t.login('admin', ADMIN_PASSWORD);
  const applied = await t.call('POST', '/api/v1/apply', {
    token: admin,
    body: { spec: votingAppSpec(), passwords: VOTING_PASSWORDS },
  });
  expect(applied.status).toBe(200);
  return {
    t,
    admin,
    owner: (name) => t.login(name, VOTING_PASSWORDS[`voting-app/${name}`]!, 'voting-app'),
  };
}
