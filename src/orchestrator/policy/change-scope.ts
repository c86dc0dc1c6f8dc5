import type { Contract, RoleName } from '../../model/index.js';

/**
 * Which workload bundles a policy change can alter. After one contract edit at 1,000 agents,
 * every agent refetching its 45 KB bundle was most of the time to the new policy (issue 12);
 * most of those bundles were byte for byte what the agent already held. The orchestrator
 * works out whose bundle may differ and tells every other agent, on its own event stream,
 * that its bundle is unchanged at the new epoch.
 *
 * `everything`: processors, links or a processor node changed (paths change for all).
 * Otherwise per domain: the host owners concerned, or `all` of that domain's.
 */
export type ChangeScope =
  | { everything: true }
  | { everything: false; domains: Map<string, Set<string> | 'all'> };

export const EVERYTHING: ChangeScope = { everything: true };

const users = (c: Contract, role: RoleName) => c.roles.find((r) => r.name === role)?.users ?? [];
const params = (c: Contract, role: RoleName) =>
  sorted(c.roles.find((r) => r.name === role)?.pathParams ?? {});

/** Object keys in one order (the store's jsonb reorders them), so equal params compare equal. */
function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sorted((v as Record<string, unknown>)[k])]),
  );
}

/**
 * Everything of one contract that a bundle of `owner` is computed from — exactly what
 * computeBundle and bundlePeers (bundle.ts) read of a contract for that owner. Two contracts
 * with the same projection for an owner give that owner the same bundle entries and peers.
 * Keep it in step with bundle.ts: a field read there and missing here would leave an agent
 * with a stale bundle until its periodic refresh.
 */
export function projection(c: Contract, owner: string): string {
  const isClient = users(c, 'client').includes(owner);
  const isServer = users(c, 'server').includes(owner);
  const issue = isClient || c.mode === 'audit';
  return JSON.stringify({
    name: c.name,
    id: c.id,
    domain: c.domain,
    mode: c.mode,
    isClient,
    isServer,
    // The client entry's targets: tickets to the server role's nodes, routed by both roles' params.
    issue: issue
      ? {
          servers: [...users(c, 'server')].sort(),
          client: params(c, 'client'),
          server: params(c, 'server'),
          proxyProtocol: c.proxyProtocol,
        }
      : null,
    // The server entry: who may connect.
    serve: isServer ? { clients: [...users(c, 'client')].sort(), proxyProtocol: c.proxyProtocol } : null,
  });
}

/** A name no host owner can have (names are [a-z0-9-]): the projection every non-member sees. */
const OUTSIDER = '\0outsider';

/**
 * The owners of `(after ?? before).domain` whose bundle one contract write may change: a
 * contract created or deleted is an entry in every bundle of its domain, as is a change that
 * an owner outside both roles sees (its name, mode, audit targets); otherwise the role members
 * whose projection differs.
 */
export function contractChangeScope(
  before: Contract | null,
  after: Contract | null,
): { domain: string; owners: Set<string> | 'all' } {
  const c = (after ?? before)!;
  if (!before || !after || before.domain !== after.domain) return { domain: c.domain, owners: 'all' };
  if (projection(before, OUTSIDER) !== projection(after, OUTSIDER))
    return { domain: c.domain, owners: 'all' };
  const owners = new Set<string>();
  const members = new Set([
    ...users(before, 'client'),
    ...users(before, 'server'),
    ...users(after, 'client'),
    ...users(after, 'server'),
  ]);
  for (const u of members) if (projection(before, u) !== projection(after, u)) owners.add(u);
  return { domain: c.domain, owners };
}

/** Accumulates the scopes of the changes made in one write. */
export class ScopeBuilder {
  #everything = false;
  readonly #domains = new Map<string, Set<string> | 'all'>();

  everything(): void {
    this.#everything = true;
  }

  add(s: { domain: string; owners: Set<string> | 'all' }): void {
    const had = this.#domains.get(s.domain);
    if (had === 'all' || s.owners === 'all') {
      this.#domains.set(s.domain, 'all');
      return;
    }
    this.#domains.set(s.domain, new Set([...(had ?? []), ...s.owners]));
  }

  build(): ChangeScope {
    return this.#everything ? EVERYTHING : { everything: false, domains: this.#domains };
  }
}

/** Whether a change of `scope` may alter the bundle of a workload node of `owner` in `domain`. */
export function bundleMayChange(
  scope: ChangeScope | undefined,
  node: { domain: string; owner: string },
): boolean {
  if (!scope || scope.everything) return true;
  const d = scope.domains.get(node.domain);
  return d === 'all' || d?.has(node.owner) === true;
}
