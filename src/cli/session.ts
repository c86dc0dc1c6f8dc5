import { ApiClient } from '../api-client/client.js';
import { pinnedFetch } from '../api-client/trust.js';
import { TrellisError } from '../errors.js';
import { readConfig } from '../home/config.js';

/** The logged-in client: environment (TRELLIS_ORCHESTRATOR, TRELLIS_TOKEN) overrides config.yaml. */
export async function client(): Promise<ApiClient> {
  const cfg = await readConfig();
  const url = process.env.TRELLIS_ORCHESTRATOR || cfg.orchestrator;
  const token = process.env.TRELLIS_TOKEN || cfg.token;
  if (!url || !token) {
    throw new TrellisError('TRELLIS_ERR_UNAUTHENTICATED', 'not logged in', {
      hint: 'run `trellis login --orchestrator URL --username admin`',
    });
  }
  const pin = cfg.pins?.[url];
  return new ApiClient(url, token, pinnedFetch(pin ? { caPem: pin.caPem } : {}));
}

/** A contract's domain when --domain is not given: unambiguous across the visible domains. */
export async function contractDomain(
  api: ApiClient,
  contract: string,
  domain: string | undefined,
): Promise<string> {
  return domain ?? namedDomain('contract', contract, await api.contracts());
}

/** A resource user's domain when --domain is not given, as for contracts. */
export async function resourceUserDomain(
  api: ApiClient,
  user: string,
  domain: string | undefined,
): Promise<string> {
  return domain ?? namedDomain('resource user', user, await api.resourceUsers());
}

/** The one domain among `visible` that holds `name`; refused when none or several do. */
function namedDomain(kind: string, name: string, visible: { name: string; domain: string }[]): string {
  const found = visible.filter((c) => c.name === name);
  if (found.length === 1) return found[0]!.domain;
  if (found.length === 0) throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `${kind} "${name}" not found`);
  throw new TrellisError(
    'TRELLIS_ERR_VALIDATION',
    `${kind} "${name}" exists in domains ${found.map((c) => c.domain).join(', ')}: add --domain`,
  );
}
