import type { ApiClient } from '../api-client/client.js';

/**
 * Revokes the enrolment tokens a deploy minted that no node used. A node that still has its
 * key (a restart over kept state: `lab up` after `lab down`, a new release) logs in with it
 * and never reads its token; left alone, that one-use credential would stay valid on the host
 * until it expired. Best effort: a token that cannot be revoked now still expires by itself.
 */
export async function revokeUnusedTokens(admin: ApiClient, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const mine = new Set(ids);
  const unused = (await admin.tokens()).filter(
    (t) => mine.has(t.id) && t.status === 'active' && t.uses === 0,
  );
  await Promise.all(unused.map((t) => admin.delete(`/api/v1/tokens/${encodeURIComponent(t.id)}`)));
  return unused.map((t) => t.id);
}
