import { z } from 'zod';
import { PublishedTicketKey } from './node.js';

/**
 * A workload node's policy bundle (GET /nodes/NAME/bundle) as it goes on the wire: one schema
 * for the orchestrator that computes and signs it (policy/bundle.ts keeps the same entries with
 * unsigned tickets) and the agent that holds it.
 */

/** A processor on a ticket's path, with the endpoint the previous hop dials. */
export const PathHop = z.object({ name: z.string(), endpoint: z.string() });

/** One way into the fabric for a flow to a server instance: a signed ticket and its processor path. */
export const BundleTicket = z.object({
  token: z.string(),
  path: z.array(PathHop),
  expiresAt: z.number().optional(),
});
export type BundleTicket = z.infer<typeof BundleTicket>;

/** One server instance a client may reach over a contract: a ticket, or why there is none. */
export const BundleTarget = z.object({
  server: z.string(),
  dstNodeId: z.string(),
  token: z.string().optional(),
  /** Processors in order with their endpoints; the first is where the flow enters the fabric. */
  path: z.array(PathHop).optional(),
  expiresAt: z.number().optional(),
  /**
   * Tickets entering at the VM's other processors, preferred first: used when the first hop is
   * down, so failover needs no orchestrator.
   */
  fallbacks: z.array(BundleTicket).optional(),
  error: z.string().optional(),
});
export type BundleTarget = z.infer<typeof BundleTarget>;

const ContractMode = z.enum(['enforce', 'audit']);

export const BundleClientEntry = z.object({
  contract: z.string(),
  contractId: z.number().int(),
  domain: z.string(),
  mode: ContractMode,
  /** False when the node's owner does not hold the client role (and the contract enforces). */
  allowed: z.boolean(),
  /** Why a flow would be or was refused, naming the contract, the role and the rule. */
  reason: z.string().optional(),
  targets: z.array(BundleTarget),
});
export type BundleClientEntry = z.infer<typeof BundleClientEntry>;

export const BundleServerEntry = z.object({
  contract: z.string(),
  contractId: z.number().int(),
  proxyProtocol: z.boolean(),
  /** Node IDs whose owner holds the client role: the only sources a server accepts. */
  clients: z.array(z.string()),
  mode: ContractMode,
});
export type BundleServerEntry = z.infer<typeof BundleServerEntry>;

export const AgentBundle = z.object({
  node: z.string(),
  nodeId: z.string(),
  epoch: z.number().int(),
  client: z.array(BundleClientEntry),
  server: z.array(BundleServerEntry),
  /**
   * Host owners whose workload nodes appear in this bundle (servers it may reach, clients it
   * accepts): a node event of any other owner cannot change it. Absent from an older orchestrator.
   */
  peers: z.array(z.string()).optional(),
  /** The keys tickets may be signed with (a rotation publishes two); absent from an older orchestrator. */
  ticketKeys: z.array(PublishedTicketKey).optional(),
});
export type AgentBundle = z.infer<typeof AgentBundle>;

/** What a processor checks tickets against (GET /processors/NAME/policy). */
export const ProcessorPolicy = z.object({
  epoch: z.number().int(),
  /** Per contract ID, the epoch of its last change: a ticket signed before it is stale. */
  contractEpochs: z.record(z.string(), z.number().int()),
  ticketKeys: z.array(PublishedTicketKey),
});
export type ProcessorPolicy = z.infer<typeof ProcessorPolicy>;
