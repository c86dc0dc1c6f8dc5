import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { FabricNode, Link } from '../../model/index.js';
import { requireAdmin, requireDomainAdmin, visibleDomains } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import { domainOr404 } from '../ops/domains.js';
import { listContracts } from '../store/repos/contracts.js';
import { listLinks } from '../store/repos/links.js';
import { listNodes } from '../store/repos/nodes.js';
import { listProcessors } from '../store/repos/processors.js';
import { listResourceUsers } from '../store/repos/resource-users.js';
import { route } from './route.js';

const ProcessorView = z.object({
  name: z.string(),
  zone: z.string(),
  status: z.enum(['connected', 'disconnected', 'unreachable', 'unregistered']),
  nodeId: z.string().nullable(),
  addresses: z.array(z.string()),
});

export const Topology = z.object({
  processors: z.array(ProcessorView),
  workloads: z.array(FabricNode),
  links: z.array(Link),
  attachments: z.array(z.object({ node: z.string(), processor: z.string() })),
});

export const DomainTopology = z.object({
  domain: z.string(),
  nodes: z.array(z.object({ name: z.string(), kind: z.literal('hostOwner') })),
  edges: z.array(
    z.object({ contract: z.string(), contractId: z.number(), client: z.string(), server: z.string() }),
  ),
});

export function topologyRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/topology',
    summary: 'The fabric: processors (with status), workload nodes, links and attachments',
    tag: 'topology',
    response: Topology,
    handler: async ({ principal }) => {
      requireAdmin(principal, 'read the topology');
      const [processors, nodes, links] = await Promise.all([
        listProcessors(o.db),
        listNodes(o.db, null),
        listLinks(o.db),
      ]);
      const byName = new Map(nodes.map((n) => [n.name, n]));
      const visible = visibleDomains(principal);
      const workloads = nodes.filter(
        (n) => n.kind === 'workload' && (visible === null || visible.includes(n.domain)),
      );
      return {
        processors: processors.map((p) => {
          const n = byName.get(p.name);
          return {
            name: p.name,
            zone: p.zone,
            status: n?.kind === 'processor' ? n.status : 'unregistered',
            nodeId: n?.kind === 'processor' ? n.nodeId : null,
            addresses: n?.kind === 'processor' ? n.addresses : [],
          };
        }),
        workloads,
        links,
        attachments: workloads.flatMap((w) => w.processors.map((processor) => ({ node: w.name, processor }))),
      };
    },
  });

  route(app, o, {
    method: 'GET',
    url: '/api/v1/domains/:domain/topology',
    summary: 'The service graph of a domain: host owners as nodes, contracts as edges client → server',
    tag: 'topology',
    response: DomainTopology,
    handler: async ({ principal, params }) => {
      const domain = params.domain!;
      requireDomainAdmin(principal, domain, 'read the domain topology');
      await domainOr404(o.db, domain);
      const [users, contracts] = await Promise.all([
        listResourceUsers(o.db, [domain]),
        listContracts(o.db, [domain]),
      ]);
      const edges = contracts.flatMap((c) => {
        const clients = c.roles.find((r) => r.name === 'client')?.users ?? [];
        const servers = c.roles.find((r) => r.name === 'server')?.users ?? [];
        return clients.flatMap((client) =>
          servers.map((server) => ({ contract: c.name, contractId: c.id, client, server })),
        );
      });
      return {
        domain,
        nodes: users
          .filter((u) => u.kind === 'hostOwner')
          .map((u) => ({ name: u.name, kind: 'hostOwner' as const })),
        edges,
      };
    },
  });
}
