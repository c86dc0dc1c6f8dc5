import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AuditEntry, Name } from '../../model/index.js';
import { requireAdmin, requireDomainAdmin, visibleDomains } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import { listAudit } from '../store/repos/audit.js';
import { route } from './route.js';

export function auditRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/audit',
    summary: 'Who changed what, when, with before/after (newest first)',
    tag: 'audit',
    query: z.strictObject({
      domain: Name.optional(),
      limit: z.coerce.number().int().min(1).max(10_000).default(200),
    }),
    response: z.array(AuditEntry),
    handler: async ({ principal, query }) => {
      requireAdmin(principal, 'read the audit log');
      if (query.domain) requireDomainAdmin(principal, query.domain, 'read the audit log');
      return listAudit(o.db, query.domain ? [query.domain] : visibleDomains(principal), query.limit);
    },
  });
}
