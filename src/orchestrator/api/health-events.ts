import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound } from '../../errors.js';
import { HealthEvent } from '../../model/events.js';
import { Name } from '../../model/index.js';
import type { Orchestrator } from '../context.js';
import { getNode } from '../store/repos/nodes.js';
import { eventVisibleTo } from './event-scope.js';
import { requireOwner } from './nodes.js';
import { route } from './route.js';

/** How many recent health events are kept (in memory: they are live observations, not state). */
const KEEP = 500;

const recent = new WeakMap<Orchestrator, HealthEvent[]>();

/** Keeps the last KEEP node and peer-health events of the hub, so `trellis get events` can list them. */
function recorder(o: Orchestrator): HealthEvent[] {
  let list = recent.get(o);
  if (!list) {
    const l: HealthEvent[] = [];
    recent.set(o, l);
    o.events.tap((e) => {
      if (e.type === 'node') l.push({ ...e, at: new Date().toISOString() });
      else if (e.type === 'peer-health') l.push(e);
      else return;
      if (l.length > KEEP) l.splice(0, l.length - KEEP);
    });
    list = l;
  }
  return list;
}

export function healthEventRoutes(app: FastifyInstance, o: Orchestrator): void {
  recorder(o);
  route(app, o, {
    method: 'POST',
    url: '/api/v1/nodes/:name/peer-health',
    summary:
      'A data-plane node reports that it ejected a peer that stopped answering PINGs, or took it back (owner only)',
    tag: 'data plane',
    body: z.strictObject({
      peer: Name,
      state: z.enum(['ejected', 'restored']),
      reason: z.enum(['ping-timeout', 'connect-timeout']).optional(),
    }),
    status: 204,
    handler: async ({ principal, params, body }) => {
      const node = await getNode(o.db, params.name!);
      if (!node) throw notFound('node', params.name!);
      requireOwner(principal, node, 'report peer health for');
      // Only a registered node can be named: the event never carries a string a reporter made up.
      const peer = await getNode(o.db, body.peer);
      if (!peer) throw notFound('node', body.peer);
      o.log.info({ node: node.name, peer: peer.name, state: body.state, reason: body.reason }, 'peer health');
      o.events.publish({
        type: 'peer-health',
        node: node.name,
        domain: node.domain,
        peer: peer.name,
        peerDomain: peer.domain,
        state: body.state,
        ...(body.reason && { reason: body.reason }),
        at: new Date().toISOString(),
      });
    },
  });

  route(app, o, {
    method: 'GET',
    url: '/api/v1/events/recent',
    summary:
      'The last node status changes (connected, unreachable, disconnected) and peer ejections, oldest first, that the caller may see',
    tag: 'events',
    response: z.array(HealthEvent),
    handler: async ({ principal }) => recorder(o).filter((e) => eventVisibleTo(principal, e)),
  });
}
