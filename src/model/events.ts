import { z } from 'zod';

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

export const FabricEventOnWire = z.discriminatedUnion('type', [
  HelloEvent,
  PolicyEvent,
  TicketKeysEvent,
  NodeEvent,
  PeerHealthEvent,
]);
export type FabricEventOnWire = z.infer<typeof FabricEventOnWire>;

/** A node status change (with when it was seen) or a peer ejection, as GET /events/recent lists it. */
export const HealthEvent = z.discriminatedUnion('type', [
  NodeEvent.extend({ at: z.string() }),
  PeerHealthEvent,
]);
export type HealthEvent = z.infer<typeof HealthEvent>;
