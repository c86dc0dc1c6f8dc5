import { type Command, Option } from 'commander';
import type { ApiClient } from '../../api-client/client.js';
import { TrellisError } from '../../errors.js';
import type { DenialNode, DenialView } from '../../model/denial.js';
import type {
  AuditEntry,
  Contract,
  Domain,
  EnrolmentTokenInfo,
  FabricNode,
  Link,
  Processor,
  ResourceUser,
} from '../../model/index.js';
import type { HealthEvent } from '../../orchestrator/api/health-events.js';
import { formatContractId } from '../../wire/node-id.js';
import { type Column, type OutputFormat, print, render } from '../output.js';
import { client } from '../session.js';

export const outputOption = () =>
  new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'yaml']).default('table');

/** The denials API's filters (`trellis get denials --contract … --node … --reason … --since …`). */
interface DenialFilters {
  contract?: string;
  node?: string;
  reason?: string;
  since?: string;
  until?: string;
  group?: boolean;
}
const DENIAL_FILTERS = ['contract', 'node', 'reason', 'since', 'until', 'group'] as const;

function denialsUrl(domain: string | undefined, f: DenialFilters): string {
  const q = new URLSearchParams();
  if (domain) q.set('domain', domain);
  for (const k of DENIAL_FILTERS) if (f[k] !== undefined) q.set(k, String(f[k]));
  const s = q.toString();
  return `/api/v1/denials${s ? `?${s}` : ''}`;
}

const nodeName = (n: DenialNode | null) => (n ? (n.owner ? `${n.name} (${n.owner})` : n.name) : '—');

/** An ISO time as an age, as `kubectl get` shows AGE. */
function since(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return iso;
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return iso;
}

const roleUsers = (c: Contract, role: 'client' | 'server') =>
  c.roles.find((r) => r.name === role)?.users.join(',') ?? '';

/** One entry per kind `trellis get` knows: how to fetch it and which columns a table shows. */
interface Kind<T> {
  fetch(api: ApiClient, domain: string | undefined, filters: DenialFilters): Promise<T[]>;
  columns: Column<T>[];
}

function kind<T>(k: Kind<T>): Kind<unknown> {
  return k as Kind<unknown>;
}

const KINDS: Record<string, Kind<unknown>> = {
  domains: kind<Domain>({
    fetch: (api) => api.domains(),
    columns: [
      { header: 'NAME', value: (d) => d.name },
      { header: 'DESCRIPTION', value: (d) => d.description },
    ],
  }),
  'resource-users': kind<ResourceUser>({
    fetch: (api, domain) => api.resourceUsers(domain),
    columns: [
      { header: 'NAME', value: (u) => u.name },
      { header: 'DOMAIN', value: (u) => u.domain },
      { header: 'KIND', value: (u) => u.kind },
    ],
  }),
  contracts: kind<Contract>({
    fetch: (api, domain) => api.contracts(domain),
    columns: [
      { header: 'NAME', value: (c) => c.name },
      { header: 'DOMAIN', value: (c) => c.domain },
      { header: 'CONTRACT ID', value: (c) => formatContractId(c.id) },
      { header: 'MODE', value: (c) => c.mode },
      { header: 'CLIENT', value: (c) => roleUsers(c, 'client') },
      { header: 'SERVER', value: (c) => roleUsers(c, 'server') },
    ],
  }),
  tokens: kind<EnrolmentTokenInfo>({
    fetch: (api) => api.tokens(),
    columns: [
      { header: 'ID', value: (t) => t.id },
      { header: 'DOMAIN', value: (t) => t.domain },
      { header: 'OWNER', value: (t) => `${t.kind}/${t.owner}` },
      { header: 'VM', value: (t) => t.vm ?? '*' },
      { header: 'USES', value: (t) => `${t.uses}/${t.maxUses}` },
      { header: 'EXPIRES', value: (t) => t.expiresAt },
      { header: 'STATUS', value: (t) => t.status },
    ],
  }),
  processors: kind<Processor>({
    fetch: (api) => api.processors(),
    columns: [
      { header: 'NAME', value: (p) => p.name },
      { header: 'ZONE', value: (p) => p.zone },
      { header: 'DESCRIPTION', value: (p) => p.description },
    ],
  }),
  links: kind<Link>({
    fetch: (api) => api.links(),
    columns: [
      { header: 'NAME', value: (l) => l.name },
      { header: 'A', value: (l) => l.a },
      { header: 'B', value: (l) => l.b },
      { header: 'COST', value: (l) => l.cost },
      { header: 'STATUS', value: (l) => l.status },
    ],
  }),
  nodes: kind<FabricNode>({
    fetch: (api, domain) => api.nodes(domain),
    columns: [
      { header: 'NAME', value: (n) => n.name },
      { header: 'KIND', value: (n) => n.kind },
      { header: 'NODE ID', value: (n) => n.nodeId },
      { header: 'OWNER', value: (n) => n.owner },
      { header: 'DOMAIN', value: (n) => n.domain },
      { header: 'STATUS', value: (n) => n.status },
      // When the orchestrator last heard from the node, as an age: a live node says seconds.
      { header: 'LAST SEEN', value: (n) => since(n.lastSeen) },
    ],
  }),
  denials: kind<DenialView>({
    fetch: (api, domain, filters) => api.request<DenialView[]>('GET', denialsUrl(domain, filters)),
    columns: [
      { header: 'AT', value: (d) => d.at },
      { header: 'COUNT', value: (d) => d.count },
      { header: 'KIND', value: (d) => d.kind },
      { header: 'CONTRACT', value: (d) => `${d.domain}/${d.contract}` },
      { header: 'ROLE', value: (d) => d.role },
      { header: 'SOURCE', value: (d) => nodeName(d.source) },
      { header: 'DESTINATION', value: (d) => nodeName(d.destination) },
      { header: 'BY', value: (d) => d.reportedBy },
      { header: 'CODE', value: (d) => d.code },
      { header: 'REASON', value: (d) => d.reason },
    ],
  }),
  // Node status changes (connected, unreachable, disconnected) and peer ejections, oldest first.
  events: kind<HealthEvent>({
    fetch: async (api, domain) => {
      const all = await api.request<HealthEvent[]>('GET', '/api/v1/events/recent');
      return domain
        ? all.filter((e) => e.domain === domain || (e.type === 'peer-health' && e.peerDomain === domain))
        : all;
    },
    columns: [
      { header: 'AT', value: (e) => e.at },
      { header: 'EVENT', value: (e) => e.type },
      { header: 'NODE', value: (e) => (e.type === 'node' ? e.name : e.node) },
      { header: 'STATUS', value: (e) => (e.type === 'node' ? e.status : e.state) },
      { header: 'PEER', value: (e) => (e.type === 'peer-health' ? e.peer : '') },
      { header: 'REASON', value: (e) => (e.type === 'peer-health' ? (e.reason ?? '') : '') },
    ],
  }),
  audit: kind<AuditEntry>({
    fetch: (api, domain) => api.audit(domain),
    columns: [
      { header: 'AT', value: (e) => e.at },
      { header: 'ACTOR', value: (e) => e.actor },
      { header: 'ACTION', value: (e) => e.action },
      { header: 'KIND', value: (e) => e.kind },
      { header: 'NAME', value: (e) => e.name },
      { header: 'DOMAIN', value: (e) => e.domain },
    ],
  }),
};

// Singular spellings are accepted too (`trellis get contract`), as kubectl does.
const ALIASES: Record<string, string> = {
  domain: 'domains',
  'resource-user': 'resource-users',
  contract: 'contracts',
  processor: 'processors',
  link: 'links',
  node: 'nodes',
  denial: 'denials',
  event: 'events',
};

async function getDomainTopology(
  api: ApiClient,
  domain: string | undefined,
  format: OutputFormat,
): Promise<void> {
  if (!domain)
    throw new TrellisError('TRELLIS_ERR_VALIDATION', 'which domain?', {
      hint: 'trellis get domain-topology DOMAIN',
    });
  const t = await api.domainTopology(domain);
  if (format !== 'table') {
    print(render({ nodes: t.nodes, edges: t.edges }, format, []));
    return;
  }
  print(render(t.nodes, 'table', [{ header: 'HOST OWNER', value: (n) => n.name }]));
  print('');
  print(
    render(t.edges, 'table', [
      { header: 'CONTRACT', value: (e) => e.contract },
      { header: 'CLIENT', value: (e) => e.client },
      { header: 'SERVER', value: (e) => e.server },
    ]),
  );
}

export function registerGet(program: Command): void {
  program
    .command('get')
    .description(`list resources: ${Object.keys(KINDS).join(' | ')} | domain-topology DOMAIN`)
    .argument('<kind>', 'what to list')
    .argument('[name]', 'only this one (for domain-topology: the domain)')
    .option('--domain <domain>', 'only this domain')
    .option('--contract <name>', 'denials: only this contract')
    .option('--node <name>', 'denials: only those this node reported or is the source or destination of')
    .option(
      '--reason <code>',
      'denials: only this reason code (no-server, no-path, not-in-role, … as in docs/metrics.md)',
    )
    .option('--since <time>', 'denials: from this ISO time, or this long ago (30s, 15m, 2h, 7d)')
    .option('--until <time>', 'denials: up to this ISO time, or this long ago')
    .option('--group', 'denials: one row per repeated refusal, with a count')
    .addOption(outputOption())
    .action(
      async (
        kindArg: string,
        name: string | undefined,
        opts: DenialFilters & { domain?: string; output: OutputFormat },
      ) => {
        const api = await client();
        if (kindArg === 'domain-topology') return getDomainTopology(api, name ?? opts.domain, opts.output);
        const k = KINDS[ALIASES[kindArg] ?? kindArg];
        if (!k) {
          throw new TrellisError('TRELLIS_ERR_VALIDATION', `unknown kind "${kindArg}"`, {
            hint: `one of: ${Object.keys(KINDS).join(', ')}, domain-topology`,
          });
        }
        const kindName = ALIASES[kindArg] ?? kindArg;
        const used = DENIAL_FILTERS.filter((f) => opts[f] !== undefined);
        if (kindName !== 'denials' && used.length > 0) {
          throw new TrellisError('TRELLIS_ERR_VALIDATION', `--${used[0]} filters denials only`, {
            hint: 'trellis get denials --contract C --node N --reason CODE --since 15m --group',
          });
        }
        let rows = await k.fetch(api, opts.domain, opts);
        if (name) {
          rows = rows.filter((r) => (r as { name?: string }).name === name);
          if (rows.length === 0)
            throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `${kindArg} "${name}" not found`);
        }
        print(render(rows, opts.output, k.columns));
      },
    );
}
