import { z } from 'zod';
import { Name } from './names.js';

export const NodeKind = z.enum(['processor', 'workload']);
export type NodeKind = z.infer<typeof NodeKind>;

/** unreachable: its event stream is open but it stopped answering (docs/dataplane.md, Health). */
export const NodeStatus = z.enum(['connected', 'disconnected', 'unreachable']);
export type NodeStatus = z.infer<typeof NodeStatus>;

/**
 * A registered processor or workload node. Nodes are created only by the data plane
 * registering; an operator may delete a disconnected one (the seed's red ✕ in Resources).
 */
export const FabricNode = z.strictObject({
  name: Name,
  kind: NodeKind,
  nodeId: z.string().describe('IPv6 ULA: fabric /64 prefix + 64 bits from a hash of the public key'),
  owner: Name,
  domain: Name,
  addresses: z.array(z.string()),
  processors: z.array(Name).describe('for a workload node, the processors it attaches to'),
  endpoint: z.string().describe('host:port where its data plane listens (processor port or agent inbound)'),
  status: NodeStatus,
  lastSeen: z.string().describe('ISO 8601'),
  registeredAt: z.string(),
  certNotAfter: z
    .string()
    .optional()
    .describe('ISO 8601: when its current certificate expires; moves forward at every renewal'),
});
export type FabricNode = z.infer<typeof FabricNode>;

export const NodeRegistration = z.strictObject({
  name: Name,
  addresses: z.array(z.string().min(1).max(64)).min(1).max(16),
  publicKey: z.string().min(1).max(4096).describe('PEM SPKI'),
  processors: z.array(Name).max(8).default([]),
  endpoint: z
    .string()
    .max(80)
    .regex(/^(\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/, 'must be IP:PORT or [IPv6]:PORT')
    .optional(),
});
export type NodeRegistration = z.infer<typeof NodeRegistration>;

/** One flow-ticket key as nodes see it: they verify with every key published. */
export const PublishedTicketKey = z.strictObject({ id: z.string(), publicKeyPem: z.string() });
export type PublishedTicketKey = z.infer<typeof PublishedTicketKey>;

/** What a node gets back when it registers: its record, its certificate and what it trusts. */
export const NodeRegistered = z.strictObject({
  node: FabricNode,
  certPem: z.string(),
  certNotAfter: z.string(),
  caPem: z.string(),
  /** The signing key alone, kept for nodes that predate `ticketKeys`. */
  ticketPublicKeyPem: z.string(),
  ticketKeys: z.array(PublishedTicketKey),
});
export type NodeRegistered = z.infer<typeof NodeRegistered>;

/** Enrolment with a one-time token registers the node and logs it in: the answer carries the session. */
export const NodeEnrolled = z.strictObject({
  ...NodeRegistered.shape,
  session: z.strictObject({ token: z.string(), expiresAt: z.string() }),
});
export type NodeEnrolled = z.infer<typeof NodeEnrolled>;
