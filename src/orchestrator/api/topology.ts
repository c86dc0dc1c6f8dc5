import type { FastifyInstance } from 'fastify';
import { DomainTopology, Topology } from '../../model/index.js';
import { requireAdmin, requireDomainAdmin, visibleDomains } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import { domainOr404 } from '../ops/domains.js';
import { listContracts } from '../store/repos/contracts.js';
import { listLinks } from '../store/repos/links.js';
import { listNodes } from '../store/repos/nodes.js';
import { listProcessors } from '../store/repos/processors.js';
import { listResourceUsers } from '../store/repos/resource-users.js';
import { route } from './route.js';

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
