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
  if (domain) return domain;
  const found = (await api.contracts()).filter((c) => c.name === contract);
  if (found.length === 1) return found[0]!.domain;
  if (found.length === 0) throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `contract "${contract}" not found`);
  throw new TrellisError(
    'TRELLIS_ERR_VALIDATION',
    `contract "${contract}" exists in domains ${found.map((c) => c.domain).join(', ')}: add --domain`,
  );
}
