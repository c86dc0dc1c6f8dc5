import { z } from 'zod';
import { Link } from './link.js';
import { FabricNode } from './node.js';

/** A processor as the topology shows it: declared, and (once registered) its node's state. */
export const ProcessorView = z.object({
  name: z.string(),
  zone: z.string(),
  status: z.enum(['connected', 'disconnected', 'unreachable', 'unregistered']),
  nodeId: z.string().nullable(),
  addresses: z.array(z.string()),
});

/** The fabric as the console draws it (GET /topology): processors, workloads, links, attachments. */
export const Topology = z.object({
  processors: z.array(ProcessorView),
  workloads: z.array(FabricNode),
  links: z.array(Link),
  attachments: z.array(z.object({ node: z.string(), processor: z.string() })),
});
export type Topology = z.infer<typeof Topology>;

/** A domain's service graph (GET /domains/D/topology): host owners and contracts between them. */
export const DomainTopology = z.object({
  domain: z.string(),
  nodes: z.array(z.object({ name: z.string(), kind: z.literal('hostOwner') })),
  edges: z.array(
    z.object({ contract: z.string(), contractId: z.number(), client: z.string(), server: z.string() }),
  ),
});
export type DomainTopology = z.infer<typeof DomainTopology>;

/** The cheapest path between two processors (GET /paths) and the constraints it honoured. */
export const PathAnswer = z.object({
  from: z.string(),
  to: z.string(),
  contract: z.string().nullable(),
  path: z.array(z.string()),
  cost: z.number(),
  hops: z.number(),
  constraints: z.object({
    waypoints: z.array(z.string()),
    avoid: z.array(z.string()),
    maxHops: z.number().optional(),
  }),
});
export type PathAnswer = z.infer<typeof PathAnswer>;

/** One change an apply made (or, in a dry run, would make). */
export const ChangeView = z.object({
  action: z.enum(['create', 'update', 'delete']),
  kind: z.enum(['domain', 'resourceUser', 'processor', 'link', 'contract', 'role']),
  /** domain, user, processor or contract name; `a--b` for a link; `contract/client` for a role. */
  name: z.string(),
  /** Set for resourceUser, contract and role. */
  domain: z.string().optional(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});

/** What POST /apply answers. */
export const ApplyAnswer = z.object({
  dryRun: z.boolean(),
  changes: z.array(ChangeView),
  generatedPasswords: z.record(z.string(), z.string()),
  /** Contracts written by this apply whose flows today's topology cannot route (accepted all the same). */
  warnings: z.array(z.string()),
});
export type ApplyAnswer = z.infer<typeof ApplyAnswer>;
