import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DENY_CODE_LIST, denyCodeOf, denyLabel } from '../../deny-codes.js';
import { notFound, TrellisError } from '../../errors.js';
import { AgentBundle, ProcessorPolicy } from '../../model/bundle.js';
import { DenialReport, DenialView } from '../../model/denial.js';
import { FlowTable, NamedFlowTableReport } from '../../model/flow-table.js';
import { Name } from '../../model/index.js';
import type { FlowTicket } from '../../wire/ticket.js';
import type { Principal } from '../auth/principal.js';
import { requireAdmin, requireDomainAdmin, visibleDomains } from '../auth/rbac.js';
import type { FlowTableReport, Orchestrator } from '../context.js';
import { computeBundle, type NodeView } from '../policy/bundle.js';
import { parseTimeBound, viewDenials } from '../policy/denial-view.js';
import { nameFlows } from '../policy/flow-names.js';
import { fabricSnapshot } from '../policy/snapshot.js';
import { contractEpochs, listContracts } from '../store/repos/contracts.js';
import { insertDenials, listDenials } from '../store/repos/denials.js';
import { getMeta } from '../store/repos/meta.js';
import { getNode, listNodes } from '../store/repos/nodes.js';
import { publishDenials } from './denial-events.js';
import { FlowTableEvents } from './flow-table-events.js';
import { requireOwner } from './nodes.js';
import { route } from './route.js';

/** Only the resource user that registered a node may fetch what that node needs. */
async function ownNode(o: Orchestrator, p: Principal, name: string) {
  const node = await getNode(o.db, name);
  if (!node) throw notFound('node', name, '; register it first');
  requireOwner(p, node, 'read the data of');
  return node;
}

/**
 * A processor's own endpoints (its policy epochs, its flow tables) answer only the switchOwner
 * that registered a processor of that name: a host owner's workload node is not one, and the
 * epochs of every domain's contracts are not its business.
 */
async function ownProcessor(o: Orchestrator, p: Principal, name: string) {
  const node = await ownNode(o, p, name);
  if (node.kind !== 'processor' || p.type !== 'resource' || p.kind !== 'switchOwner') {
    throw new TrellisError(
      'TRELLIS_ERR_FORBIDDEN',
      `"${node.name}" is a ${node.kind} node: only the switchOwner of a processor of that name may use this endpoint`,
    );
  }
  return node;
}

/**
 * A workload node refuses flows only for contracts of its own domain, so it may report denials
 * only there; a processor serves every domain and may name any.
 */
export function checkDenialDomains(
  node: { name: string; kind: string; domain: string },
  domains: string[],
): void {
  if (node.kind === 'processor') return;
  const i = domains.findIndex((d) => d !== node.domain);
  if (i < 0) return;
  throw new TrellisError(
    'TRELLIS_ERR_FORBIDDEN',
    `node "${node.name}" of domain "${node.domain}" may not report denials in domain "${domains[i]}"`,
    { field: `body.denials[${i}].domain`, hint: 'a workload node reports only the flows of its own domain' },
  );
}

/** The most denials one listing reads from the store before filtering by code or node and grouping. */
const DENIAL_SCAN = 10_000;

const DenialsQuery = z.strictObject({
  domain: Name.optional(),
  contract: Name.optional(),
  /** A node name: denials it reported, or whose source or destination it is. */
  node: Name.optional(),
  /** A refusal code (src/deny-codes.ts), or its metric label (`no-server`, as before codes). */
  reason: z.enum([...DENY_CODE_LIST, ...DENY_CODE_LIST.map(denyLabel)]).optional(),
  since: z.string().max(64).optional(),
  until: z.string().max(64).optional(),
  /** Collapse repeats of one refusal into one row with a count and its first and last time. */
  group: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(200),
});

export function dataPlaneRoutes(app: FastifyInstance, o: Orchestrator): void {
  const flowEvents = new FlowTableEvents((e) => o.events.publish(e));
  app.addHook('onClose', async () => flowEvents.close());
  route(app, o, {
    method: 'GET',
    url: '/api/v1/nodes/:name/bundle',
    summary:
      "A workload node's policy bundle: signed flow tickets per contract it may use, and what it serves",
    tag: 'data plane',
    response: AgentBundle,
    handler: async ({ principal, params }) => {
      const snap = await fabricSnapshot(o);
      // The node as the snapshot holds it (a store read saved per fetch: two per agent in a
      // rollout): its record changes only by registering or being deleted, and both publish a
      // node event, which patches the snapshot before this read. Not there yet: the store.
      const known = snap.nodeByName.get(params.name!);
      if (known) requireOwner(principal, known, 'read the data of');
      const node = known ?? (await ownNode(o, principal, params.name!));
      if (node.kind !== 'workload')
        throw new TrellisError('TRELLIS_ERR_VALIDATION', `"${node.name}" is a processor: it has no bundle`);
      const nowSec = Math.floor(Date.now() / 1000);
      const bundle = computeBundle({
        node: node as NodeView,
        contracts: snap.contractsByDomain.get(node.domain) ?? [],
        nodes: snap.nodes,
        links: snap.links,
        epoch: snap.epoch,
        nowSec,
        ttlSec: o.ticketTtlSec,
      });
      // Sign here, at the edge of the pure policy: the bundle's tickets become opaque tokens,
      // all of the bundle's at once (those not reused are signed in one batch, off this thread).
      const tickets: FlowTicket[] = [];
      for (const c of bundle.client)
        for (const t of c.targets) if (t.ticket) tickets.push(t.ticket, ...(t.fallbacks ?? []));
      const signed = await o.signedTickets.tokens(
        tickets,
        (t) => snap.contractEpochs[t.contractId] ?? 0,
        nowSec,
        o.ticketTtlSec,
        (batch) => o.crypto.signTickets(batch, o.ticketKeys.signing()),
      );
      let next = 0;
      const take = () => signed[next++]!;
      return {
        ...bundle,
        // The keys its inbound side verifies with: a rotation reaches it with the next bundle.
        ticketKeys: o.ticketKeys.published(),
        client: bundle.client.map((c) => ({
          ...c,
          targets: c.targets.map(({ ticket, fallbacks, ...t }) => {
            if (!ticket) return t;
            const main = take();
            const alt = fallbacks
              ?.map(() => take())
              .map((f) => ({
                token: f.token,
                path: f.ticket.path,
                expiresAt: f.ticket.expiresAt,
              }));
            return {
              ...t,
              token: main.token,
              path: main.ticket.path,
              expiresAt: main.ticket.expiresAt,
              ...(alt && { fallbacks: alt }),
            };
          }),
        })),
      };
    },
  });

  route(app, o, {
    method: 'GET',
    url: '/api/v1/processors/:name/policy',
    summary: "What a processor checks tickets against: each contract's last-change epoch",
    tag: 'data plane',
    response: ProcessorPolicy,
    handler: async ({ principal, params }) => {
      await ownProcessor(o, principal, params.name!);
      return {
        epoch: (await getMeta<number>(o.db, 'policyEpoch')) ?? 0,
        contractEpochs: await contractEpochs(o.db),
        ticketKeys: o.ticketKeys.published(),
      };
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/nodes/:name/denials',
    summary: 'A node reports flows it refused (or, in audit mode, would have refused)',
    tag: 'data plane',
    body: z.strictObject({ denials: z.array(DenialReport).max(1000) }),
    status: 204,
    handler: async ({ principal, params, body }) => {
      const node = await ownNode(o, principal, params.name!);
      checkDenialDomains(
        node,
        body.denials.map((d) => d.domain),
      );
      const denials = body.denials.map((d) => ({ ...d, reportedBy: node.name }));
      await o.db.transaction((sql) => insertDenials(sql, denials));
      // Stored first: a watch that re-reads on this event finds them. The node's answer does not wait.
      void publishDenials(o, node.name, denials).catch((err: unknown) =>
        o.log.warn({ err }, 'publishing denial events failed'),
      );
    },
  });

  route(app, o, {
    method: 'GET',
    url: '/api/v1/denials',
    summary:
      'Recent refused and would-deny flows with their reasons, codes and node names (newest first); filters, time range and grouping of repeats',
    tag: 'data plane',
    query: DenialsQuery,
    response: z.array(DenialView),
    handler: async ({ principal, query }) => {
      requireAdmin(principal, 'read denials');
      if (query.domain) requireDomainAdmin(principal, query.domain, 'read denials');
      const only = query.domain ? [query.domain] : visibleDomains(principal);
      const now = Date.now();
      const bound = (field: 'since' | 'until') => {
        const v = query[field];
        if (v === undefined) return undefined;
        const d = parseTimeBound(v, now);
        if (d) return d;
        throw new TrellisError(
          'TRELLIS_ERR_VALIDATION',
          `${field} "${v}" is neither an ISO time nor a duration`,
          {
            field: `query.${field}`,
            hint: 'an ISO 8601 time (2026-01-01T10:00:00Z) or a duration back from now: 30s, 15m, 2h, 7d',
          },
        );
      };
      const nodeRow = query.node ? await getNode(o.db, query.node) : undefined;
      const nodes = await listNodes(o.db, null);
      // Code, node names and grouping are decided after the store's filters: scan more rows
      // than asked for when they will be narrowed or collapsed.
      const narrowed = query.reason !== undefined || query.node !== undefined || query.group === 'true';
      const rows = await listDenials(o.db, {
        only,
        contract: query.contract,
        since: bound('since'),
        until: bound('until'),
        node: query.node ? { name: query.node, nodeId: nodeRow?.nodeId } : undefined,
        limit: narrowed ? DENIAL_SCAN : query.limit,
      });
      return viewDenials(rows, nodes, {
        code: query.reason === undefined ? undefined : denyCodeOf(query.reason),
        node: query.node,
        group: query.group === 'true',
        limit: query.limit,
      });
    },
  });

  route(app, o, {
    method: 'PUT',
    url: '/api/v1/processors/:name/flows',
    summary: 'A processor reports its flow tables (table 30 counters, table 50 entries)',
    tag: 'data plane',
    body: FlowTable,
    status: 204,
    handler: async ({ principal, params, body }) => {
      const node = await ownProcessor(o, principal, params.name!);
      const report = { processor: node.name, reportedAt: new Date().toISOString(), ...body };
      o.flowTables.set(node.name, report);
      flowEvents.reported(report);
    },
  });

  route(app, o, {
    method: 'GET',
    url: '/api/v1/processors/:name/flows',
    summary: "A processor's flow tables as it last reported them (at most a second old while it runs)",
    tag: 'data plane',
    response: NamedFlowTableReport,
    handler: async ({ principal, params }) => {
      requireAdmin(principal, 'read flow tables');
      const report: FlowTableReport | undefined = o.flowTables.get(params.name!);
      if (!report) {
        const node = await getNode(o.db, params.name!);
        if (node?.kind !== 'processor') throw notFound('processor node', params.name!);
        return {
          processor: node.name,
          reportedAt: null,
          table30: { packets: 0, bytes: 0, flows: 0 },
          table50Total: 0,
          table50: [],
        };
      }
      if (report.table50.length === 0) return report;
      const visible = visibleDomains(principal);
      return nameFlows(report, await listNodes(o.db, null), await listContracts(o.db, visible), visible);
    },
  });
}
