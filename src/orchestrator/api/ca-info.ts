import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { caFingerprint } from '../../wire/fingerprint.js';
import type { Orchestrator } from '../context.js';
import { route } from './route.js';

/**
 * The fabric CA is public (every node certificate names it); serving it unauthenticated lets a
 * client that holds only a fingerprint — from the orchestrator's start-up line or an enrolment
 * token — fetch the CA and check it before it sends anything secret.
 */
export function caRoutes(app: FastifyInstance, o: Orchestrator): void {
  const fingerprint = caFingerprint(o.ca.certPem);
  route(app, o, {
    method: 'GET',
    url: '/api/v1/ca',
    summary: 'The fabric CA certificate and its SHA-256 fingerprint (what clients pin)',
    tag: 'meta',
    auth: 'none',
    response: z.object({ caPem: z.string(), fingerprint: z.string() }),
    handler: async () => ({ caPem: o.ca.certPem, fingerprint }),
  });
}
