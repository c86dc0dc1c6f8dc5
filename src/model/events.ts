import { z } from 'zod';
import { DenialView } from './denial.js';

/**
 * The orchestrator's server-sent events (GET /events) as they go on the wire: one schema for the
 * orchestrator that writes them, the nodes and the console that read them, and the OpenAPI
 * document. `at` is when the event was published (ISO 8601): nodes measure their event lag from it.
 */

/** The first event of every stream: the snapshot a (re)connecting subscriber resyncs from. */
export const HelloEvent = z.object({ type: z.literal('hello'), epoch: z.number().int() });

/**
 * The policy epoch moved. To a workload's agent, `bundle: "unchanged"` says its own bundle is
 * not among those the change may alter: it keeps the one it holds.
 */
export const PolicyEvent = z.object({
  type: z.literal('policy'),
  epoch: z.number().int(),
  at: z.string(),
  bundle: z.literal('unchanged').optional(),
});

/** A new ticket key was published: nodes refetch their verifying keys (`ticketKeys`). */
export const TicketKeysEvent = z.object({
  type: z.literal('ticket-keys'),
  keyId: z.string(),
  activatesAt: z.string(),
  at: z.string(),
});

export const NodeEvent = z.object({
  type: z.literal('node'),
  name: z.string(),
  kind: z.string(),
  domain: z.string(),
  /** Agents refresh only for nodes whose owner is one of their bundle's `peers`. */
  owner: z.string(),
  status: z.enum(['connected', 'disconnected', 'unreachable', 'deleted']),
});
export type NodeEvent = z.infer<typeof NodeEvent>;

/**
 * A data-plane node ejected a peer that stopped answering PINGs (its flows fail over), or took
 * it back. `domain`: the reporter's; `peerDomain`: the peer's (who may see it, both).
 */
export const PeerHealthEvent = z.object({
  type: z.literal('peer-health'),
  node: z.string(),
  domain: z.string(),
  peer: z.string(),
  peerDomain: z.string(),
  state: z.enum(['ejected', 'restored']),
  reason: z.enum(['ping-timeout', 'connect-timeout']).optional(),
  at: z.string(),
});

/**
 * Flows one node reported refusing (or, in audit mode, would have refused), as GET /denials
 * lists them: one event per report and domain, so a domainAdmin gets its domain's only.
 */
export const DenialEvent = z.object({
  type: z.literal('denial'),
  domain: z.string(),
  reportedBy: z.string(),
  denials: z.array(DenialView),
  at: z.string(),
});
export type DenialEvent = z.infer<typeof DenialEvent>;

/**
 * A processor's flow table changed (beyond idle ages): read it again (GET /processors/NAME/flows,
 * which names its entries for the caller). At most one a second per processor: `revision`
 * counts the changed reports, so a jump of more than one says reports were coalesced.
 */
export const FlowsEvent = z.object({
  type: z.literal('flows'),
  processor: z.string(),
  revision: z.number().int().min(1),
  reportedAt: z.string(),
  table50Total: z.number().int().min(0),
  at: z.string(),
});
export type FlowsEvent = z.infer<typeof FlowsEvent>;

/**
 * Events a stream carries only when it names them (`GET /events?kinds=denial,flows`), and only
 * to admins: observations an operator watches, not state a node acts on — a node never gets
 * them, and a stream that did not ask pays nothing for a processor's table changing every second.
 */
export const ON_REQUEST_EVENTS = ['denial', 'flows'] as const;
export type OnRequestEvent = (typeof ON_REQUEST_EVENTS)[number];

export const FabricEventOnWire = z.discriminatedUnion('type', [
  HelloEvent,
  PolicyEvent,
  TicketKeysEvent,
  NodeEvent,
  PeerHealthEvent,
  DenialEvent,
  FlowsEvent,
]);
export type FabricEventOnWire = z.infer<typeof FabricEventOnWire>;

/** A node status change (with when it was seen) or a peer ejection, as GET /events/recent lists it. */
export const HealthEvent = z.discriminatedUnion('type', [
  NodeEvent.extend({ at: z.string() }),
  PeerHealthEvent,
]);
export type HealthEvent = z.infer<typeof HealthEvent>;
