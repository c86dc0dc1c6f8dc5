import type { Command } from 'commander';
import type { ApiClient } from '../../api-client/client.js';
import { TrellisError } from '../../errors.js';
import { print } from '../output.js';
import { client, contractDomain } from '../session.js';

const enc = encodeURIComponent;

/** The URL that deletes each kind; domain-scoped kinds need the domain (found for contracts). */
const TARGETS: Record<string, (api: ApiClient, name: string, domain?: string) => Promise<string>> = {
  domain: async (_api, name) => `/api/v1/domains/${enc(name)}`,
  processor: async (_api, name) => `/api/v1/processors/${enc(name)}`,
  link: async (_api, name) => `/api/v1/links/${enc(name)}`,
  node: async (_api, name) => `/api/v1/nodes/${enc(name)}`,
  'admin-user': async (_api, name) => `/api/v1/admin-users/${enc(name)}`,
  token: async (_api, id) => `/api/v1/tokens/${enc(id)}`,
  contract: async (api, name, domain) =>
    `/api/v1/domains/${enc(await contractDomain(api, name, domain))}/contracts/${enc(name)}`,
  'resource-user': async (api, name, domain) => {
    if (domain) return `/api/v1/domains/${enc(domain)}/resource-users/${enc(name)}`;
    const found = (await api.resourceUsers()).filter((u) => u.name === name);
    if (found.length !== 1) {
      throw new TrellisError(
        'TRELLIS_ERR_VALIDATION',
        `resource user "${name}" ${found.length ? 'is in several domains' : 'not found'}`,
        {
          hint: 'add --domain',
        },
      );
    }
    return `/api/v1/domains/${enc(found[0]!.domain)}/resource-users/${enc(name)}`;
  },
};

export function registerDelete(program: Command): void {
  program
    .command('delete')
    .description(`delete a resource: ${Object.keys(TARGETS).join(' | ')}`)
    .argument('<kind>', 'what to delete (see above)')
    .argument('<name>', 'its name (for a token: its ID)')
    .option('--domain <domain>', 'domain of a contract or resource user')
    .action(async (kind: string, name: string, opts: { domain?: string }) => {
      const target = TARGETS[kind.replace(/s$/, '')];
      if (!target) {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', `unknown kind "${kind}"`, {
          hint: `one of: ${Object.keys(TARGETS).join(', ')}`,
        });
      }
      const api = await client();
      await api.delete(await target(api, name, opts.domain));
      print(`${kind} "${name}" deleted`);
    });
}
