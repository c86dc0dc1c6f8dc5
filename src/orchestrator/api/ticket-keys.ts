import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RotateAnswer, TicketKeyInfo } from '../../model/ticket-keys.js';
import { requireSystemAdmin } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import { recordTicketKeys } from '../key-records.js';
import { PROPAGATION_MS } from '../tickets/keyring.js';
import { write } from '../write.js';
import { route } from './route.js';

export function ticketKeyRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/ca/ticket-keys',
    summary:
      'The flow-ticket keys: which one signs, which are still published, when each retires (systemAdmin)',
    tag: 'ca',
    response: z.array(TicketKeyInfo),
    handler: async ({ principal }) => {
      requireSystemAdmin(principal, 'read the ticket keys');
      return o.ticketKeys.describe();
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/ca/rotate-ticket-key',
    summary: `Rotate the flow-ticket signing key: the new key is published at once and signs after ${PROPAGATION_MS / 1000} s; the old one verifies until its tickets expired (systemAdmin)`,
    tag: 'ca',
    response: RotateAnswer,
    handler: async ({ principal }) => {
      requireSystemAdmin(principal, 'rotate the ticket key');
      const rotated = await write(o, principal, async (w) => {
        const r = await o.ticketKeys.rotate(o.ticketTtlSec);
        // The store's record of the ring, checked at every start (key-records.ts).
        await recordTicketKeys(w.sql, o.ticketKeys);
        // Public facts only: the key IDs and times, never key material.
        await w.audit({
          action: 'create',
          kind: 'ticket-key',
          name: r.keyId,
          domain: null,
          before: null,
          after: r,
        });
        return r;
      });
      o.log.info(rotated, 'ticket key rotated');
      // Every node refetches its verifying keys now; the key signs only after PROPAGATION_MS.
      o.events.publish({
        type: 'ticket-keys',
        keyId: rotated.keyId,
        activatesAt: rotated.activatesAt,
        at: new Date().toISOString(),
      });
      return { ...rotated, ticketKeys: o.ticketKeys.published() };
    },
  });
}
