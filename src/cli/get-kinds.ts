import type { ApiClient } from '../api-client/client.js';
import type { DenialNode, DenialView } from '../model/denial.js';
import type { HealthEvent } from '../model/events.js';
import type { NamedFlowEntry } from '../model/flow-table.js';
import type {
  AuditEntry,
  Contract,
  Domain,
  EnrolmentTokenInfo,
  FabricNode,
  Link,
  Processor,
  ResourceUser,
} from '../model/index.js';
import { formatContractId } from '../wire/node-id.js';
import type { Column } from './output.js';
import { contractDomain, resourceUserDomain } from './session.js';

/** The denials API's filters (`trellis get denials --contract … --node … --reason … --since …`). */
export interface DenialFilters {
  contract?: string;
  node?: string;
  reason?: string;
  since?: string;
  until?: string;
  group?: boolean;
}
export const DENIAL_FILTERS = ['contract', 'node', 'reason', 'since', 'until', 'group'] as const;

function denialsQuery(domain: string | undefined, f: DenialFilters): URLSearchParams {
  const q = new URLSearchParams();
  if (domain) q.set('domain', domain);
  for (const k of DENIAL_FILTERS) if (f[k] !== undefined) q.set(k, String(f[k]));
  return q;
}

/**
 * One entry per kind `trellis get` knows: how to list it, how to fetch one by name (a GET of
 * that one resource: kinds without such a route take no NAME), the table's columns and the
 * more `-o wide` adds. `singular` names one in messages ("link "x" not found").
 */
export interface Kind<T> {
  singular: string;
  /** `of`: for a kind listed per owner (`nameIs`), the NAME given. */
  list(api: ApiClient, domain: string | undefined, filters: DenialFilters, of?: string): Promise<T[]>;
  one?(api: ApiClient, name: string, domain: string | undefined): Promise<T>;
  /** What NAME means when it is not one object but whose list (a flow table's processor): required. */
  nameIs?: string;
  columns: Column<T>[];
  wide?: Column<T>[];
  /** How a row is told apart across refreshes (`--watch`): by default its JSON. */
  key?(row: T): string;
}

function kind<T>(k: Kind<T>): Kind<unknown> {
  return k as Kind<unknown>;
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

const roleParams = (c: Contract, role: 'client' | 'server') => {
  const p = c.roles.find((r) => r.name === role)?.pathParams;
  return p && Object.keys(p).length > 0 ? JSON.stringify(p) : '';
};

/** A flow-table entry's ID, with the name the orchestrator knows it by. */
const named = (id: string | number, name: string | null) => (name ? `${id}(${name})` : String(id));

export const KINDS: Record<string, Kind<unknown>> = {
  domains: kind<Domain>({
    singular: 'domain',
    list: (api) => api.domains(),
    one: (api, name) => api.domain(name),
    columns: [
      { header: 'NAME', value: (d) => d.name },
      { header: 'DESCRIPTION', value: (d) => d.description },
    ],
  }),
  'resource-users': kind<ResourceUser>({
    singular: 'resource user',
    list: (api, domain) => api.resourceUsers(domain),
    one: async (api, name, domain) => api.resourceUser(await resourceUserDomain(api, name, domain), name),
    columns: [
      { header: 'NAME', value: (u) => u.name },
      { header: 'DOMAIN', value: (u) => u.domain },
      { header: 'KIND', value: (u) => u.kind },
    ],
  }),
  contracts: kind<Contract>({
    singular: 'contract',
    list: (api, domain) => api.contracts(domain),
    one: async (api, name, domain) => api.contract(await contractDomain(api, name, domain), name),
    columns: [
      { header: 'NAME', value: (c) => c.name },
      { header: 'DOMAIN', value: (c) => c.domain },
      { header: 'CONTRACT ID', value: (c) => formatContractId(c.id) },
      { header: 'MODE', value: (c) => c.mode },
      { header: 'CLIENT', value: (c) => roleUsers(c, 'client') },
      { header: 'SERVER', value: (c) => roleUsers(c, 'server') },
    ],
    wide: [
      { header: 'CLIENT PATH', value: (c) => roleParams(c, 'client') },
      { header: 'SERVER PATH', value: (c) => roleParams(c, 'server') },
      { header: 'DESCRIPTION', value: (c) => c.description },
    ],
  }),
  tokens: kind<EnrolmentTokenInfo>({
    singular: 'token',
    list: (api) => api.tokens(),
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
    singular: 'processor',
    list: (api) => api.processors(),
    one: (api, name) => api.processor(name),
    columns: [
      { header: 'NAME', value: (p) => p.name },
      { header: 'ZONE', value: (p) => p.zone },
      { header: 'DESCRIPTION', value: (p) => p.description },
    ],
  }),
  links: kind<Link>({
    singular: 'link',
    list: (api) => api.links(),
    one: (api, name) => api.link(name),
    columns: [
      { header: 'NAME', value: (l) => l.name },
      { header: 'A', value: (l) => l.a },
      { header: 'B', value: (l) => l.b },
      { header: 'COST', value: (l) => l.cost },
      { header: 'STATUS', value: (l) => l.status },
    ],
  }),
  nodes: kind<FabricNode>({
    singular: 'node',
    list: (api, domain) => api.nodes(domain),
    one: (api, name) => api.node(name),
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
    wide: [
      { header: 'ADDRESSES', value: (n) => n.addresses.join(',') },
      { header: 'PROCESSORS', value: (n) => n.processors.join(',') },
      { header: 'ENDPOINT', value: (n) => n.endpoint },
      { header: 'CERT EXPIRES', value: (n) => n.certNotAfter ?? '' },
    ],
    key: (n) => n.name,
  }),
  denials: kind<DenialView>({
    singular: 'denial',
    list: (api, domain, filters) => api.denials(denialsQuery(domain, filters)),
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
    wide: [
      { header: 'FIRST AT', value: (d) => d.firstAt },
      { header: 'SOURCE ID', value: (d) => d.src ?? '' },
      { header: 'DESTINATION ID', value: (d) => d.dst ?? '' },
      { header: 'CONTRACT ID', value: (d) => formatContractId(d.contractId) },
    ],
  }),
  // One processor's table 50 (`trellis get flows aws-p1`); `trellis flows` dumps both tables.
  flows: kind<NamedFlowEntry>({
    singular: 'flow table',
    nameIs: 'processor',
    list: async (api, _domain, _filters, processor) => (await api.flows(processor ?? '')).table50,
    columns: [
      { header: 'SOURCE', value: (e) => named(e.srcNodeId, e.srcNode) },
      { header: 'DESTINATION', value: (e) => named(e.dstNodeId, e.dstNode) },
      { header: 'CONTRACT', value: (e) => named(formatContractId(e.contractId), e.contract) },
      { header: 'LABEL', value: (e) => `0x${e.flowLabel.toString(16).padStart(5, '0')}` },
      { header: 'PACKETS', value: (e) => e.packets },
      { header: 'BYTES', value: (e) => e.bytes },
      { header: 'IDLE', value: (e) => `${e.idleAge}s` },
    ],
    wide: [
      { header: 'IN PORT', value: (e) => e.inPort },
      { header: 'OUT PORT', value: (e) => e.outPort },
      { header: 'IDLE TIMEOUT', value: (e) => `${e.idleTimeout}s` },
    ],
    key: (e) => `${e.srcNodeId} ${e.contractId} ${e.flowLabel}`,
  }),
  // Node status changes (connected, unreachable, disconnected) and peer ejections, oldest first.
  events: kind<HealthEvent>({
    singular: 'event',
    list: async (api, domain) => {
      const all = await api.recentEvents();
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
    singular: 'audit entry',
    list: (api, domain) => api.audit(domain),
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
export const ALIASES: Record<string, string> = {
  domain: 'domains',
  'resource-user': 'resource-users',
  contract: 'contracts',
  token: 'tokens',
  processor: 'processors',
  link: 'links',
  node: 'nodes',
  denial: 'denials',
  flow: 'flows',
  event: 'events',
};

/** The kinds `--watch` follows over the event stream. */
export const WATCHABLE = ['nodes', 'denials', 'flows'] as const;
