import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Processor, ProcessorUpdate } from '../../model/index.js';
import { requireAdmin, requireSystemAdmin } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import { changeProcessor, createProcessor, processorOr404, removeProcessor } from '../ops/processors.js';
import { listProcessors } from '../store/repos/processors.js';
import { write } from '../write.js';
import { route } from './route.js';

export function processorRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/processors',
    summary: 'List declared processors',
    tag: 'processors',
    response: z.array(Processor),
    handler: async ({ principal }) => {
      requireAdmin(principal, 'list processors');
      return listProcessors(o.db);
    },
  });

  route(app, o, {
    method: 'GET',
    url: '/api/v1/processors/:name',
    summary: 'Get a processor',
    tag: 'processors',
    response: Processor,
    handler: async ({ principal, params }) => {
      requireAdmin(principal, 'read processors');
      return processorOr404(o.db, params.name!);
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/processors',
    summary: 'Declare a processor (before its process registers)',
    tag: 'processors',
    body: Processor,
    status: 201,
    response: Processor,
    handler: async ({ principal, body }) => {
      requireSystemAdmin(principal, 'declare processors');
      return write(o, principal, (w) => createProcessor(w, body, 'body'));
    },
  });

  route(app, o, {
    method: 'PUT',
    url: '/api/v1/processors/:name',
    summary: "Update a processor's zone or description",
    tag: 'processors',
    body: ProcessorUpdate,
    response: Processor,
    handler: async ({ principal, params, body }) => {
      requireSystemAdmin(principal, 'update processors');
      return write(o, principal, (w) => changeProcessor(w, params.name!, body));
    },
  });

  route(app, o, {
    method: 'DELETE',
    url: '/api/v1/processors/:name',
    summary: 'Delete a processor no link, path param or connected node refers to',
    tag: 'processors',
    status: 204,
    handler: async ({ principal, params }) => {
      requireSystemAdmin(principal, 'delete processors');
      await write(o, principal, (w) => removeProcessor(w, params.name!));
    },
  });
}
