import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TrellisError } from '../../errors.js';
import { Name, PathAnswer } from '../../model/index.js';
import { requireAdmin, requireDomainAdmin, visibleDomains } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import { buildGraph, mergeRoleParams, type PathConstraints, routeFlow } from '../paths/index.js';
import { listContracts } from '../store/repos/contracts.js';
import { listLinks } from '../store/repos/links.js';
import { listProcessors } from '../store/repos/processors.js';
import { route } from './route.js';

const PathQuery = z.strictObject({
  from: Name,
  to: Name,
  contract: Name.optional(),
  domain: Name.optional(),
});

export function pathRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/paths',
    summary: "The cheapest path between two processors, honouring both roles' path params of a contract",
    tag: 'paths',
    query: PathQuery,
    response: PathAnswer,
    handler: async ({ principal, query }) => {
      requireAdmin(principal, 'compute paths');
      let constraints: PathConstraints = { waypoints: [], avoid: [] };
      let contractName: string | null = null;
      if (query.contract) {
        if (query.domain) requireDomainAdmin(principal, query.domain, 'read contracts');
        const candidates = (
          await listContracts(o.db, query.domain ? [query.domain] : visibleDomains(principal))
        ).filter((c) => c.name === query.contract);
        if (candidates.length === 0) {
          throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `contract "${query.contract}" not found`, {
            field: 'query.contract',
          });
        }
        if (candidates.length > 1) {
          throw new TrellisError(
            'TRELLIS_ERR_VALIDATION',
            `contract "${query.contract}" exists in several domains (${candidates.map((c) => c.domain).join(', ')}): add domain=`,
            { field: 'query.domain' },
          );
        }
        const c = candidates[0]!;
        const client = c.roles.find((r) => r.name === 'client')!.pathParams;
        const server = c.roles.find((r) => r.name === 'server')!.pathParams;
        constraints = mergeRoleParams(client, server);
        contractName = c.name;
      }
      const [processors, links] = await Promise.all([listProcessors(o.db), listLinks(o.db)]);
      const graph = buildGraph({ processors: processors.map((p) => p.name), links });
      // The path a flow would take, so what /paths says matches the bundles (ticket limit included).
      const res = routeFlow(graph, query.from, query.to, constraints);
      if (!res.ok) {
        throw new TrellisError(
          'TRELLIS_ERR_UNPROCESSABLE',
          contractName ? `contract "${contractName}": ${res.reason}` : res.reason,
          {
            field: res.constraint,
          },
        );
      }
      return {
        from: query.from,
        to: query.to,
        contract: contractName,
        path: res.path,
        cost: res.cost,
        hops: res.hops,
        constraints,
      };
    },
  });
}
