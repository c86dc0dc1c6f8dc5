import type { AgentBundle, BundleClientEntry, BundleServerEntry, BundleTarget } from '../../model/bundle.js';
import type { Contract, FabricNode, Link, RoleName } from '../../model/index.js';
import type { FlowTicket, Hop } from '../../wire/ticket.js';
import { buildGraph, mergeRoleParams, routeFlow } from '../paths/index.js';

export type NodeView = FabricNode & { endpoint: string };

/**
 * The bundle as computed, before signing: the wire schema's entries (model/bundle.ts) with each
 * target's tickets still unsigned. The bundle route signs them into tokens.
 */
export type Target = Omit<BundleTarget, 'token' | 'path' | 'expiresAt' | 'fallbacks'> & {
  ticket?: FlowTicket;
  /**
   * Tickets entering the fabric at the VM's other processors, in its order of preference: the
   * agent falls back to them at once when the first hop is down, with no orchestrator to ask.
   * Each avoids the processors preferred before it (the agent uses it because those are down).
   */
  fallbacks?: FlowTicket[];
};

export type ClientEntry = Omit<BundleClientEntry, 'targets'> & { targets: Target[] };
export type ServerEntry = BundleServerEntry;

/** What an agent needs to attach its workload: computed for one workload node. */
export type Bundle = Omit<AgentBundle, 'client' | 'peers' | 'ticketKeys'> & {
  client: ClientEntry[];
  peers: string[];
};

export interface BundleInput {
  node: NodeView;
  contracts: Contract[];
  nodes: NodeView[];
  links: Link[];
  epoch: number;
  nowSec: number;
  ttlSec: number;
}

const users = (c: Contract, role: RoleName) => c.roles.find((r) => r.name === role)?.users ?? [];

export function notInRole(owner: string, role: RoleName, contract: string): string {
  return `denied: host owner "${owner}" is not in the ${role} role of contract "${contract}"`;
}

/**
 * The host owners whose workload nodes a bundle of `owner` depends on: the servers of the
 * contracts it may use (or audits), the clients of those it serves. The orchestrator sends a
 * workload's agent only these owners' node events, and the agent refetches only for them.
 */
export function bundlePeers(contracts: Contract[], owner: string): string[] {
  const peers = new Set<string>();
  for (const c of contracts) {
    if (users(c, 'server').includes(owner)) for (const u of users(c, 'client')) peers.add(u);
    if (users(c, 'client').includes(owner) || c.mode === 'audit')
      for (const u of users(c, 'server')) peers.add(u);
  }
  return [...peers].sort();
}

/**
 * Pure policy: which flows a workload node may open and accept, with a signed-to-be ticket
 * for each (contract, this node, server node) and the processor path it must follow.
 * Deny by default: a contract appears with `allowed: false` and the reason when the node's
 * owner is not in its client role.
 */
export function computeBundle(input: BundleInput): Bundle {
  const { node, contracts, nodes } = input;
  const processors = nodes.filter((n) => n.kind === 'processor' && n.status === 'connected');
  // Only live processors carry traffic: a down processor is routed around, and a transit
  // that is down fails the path (fail closed) instead of being skipped.
  const graph = buildGraph({ processors: processors.map((p) => p.name), links: input.links });
  const endpoints = new Map(processors.map((p) => [p.name, p.endpoint]));
  const attach = (n: NodeView) => n.processors.find((p) => endpoints.has(p));

  const client: ClientEntry[] = [];
  const server: ServerEntry[] = [];
  for (const c of contracts) {
    const isClient = users(c, 'client').includes(node.owner);
    const isServer = users(c, 'server').includes(node.owner);
    if (isServer) {
      const clientOwners = new Set(users(c, 'client'));
      server.push({
        contract: c.name,
        contractId: c.id,
        proxyProtocol: c.proxyProtocol,
        mode: c.mode,
        clients: nodes
          .filter((n) => n.kind === 'workload' && n.domain === c.domain && clientOwners.has(n.owner))
          .map((n) => n.nodeId),
      });
    }
    const reason = isClient ? undefined : notInRole(node.owner, 'client', c.name);
    const allowed = isClient;
    // Audit mode: the flow passes, carrying the reason it would have been denied.
    const issue = isClient || c.mode === 'audit';
    const entry: ClientEntry = {
      contract: c.name,
      contractId: c.id,
      domain: c.domain,
      mode: c.mode,
      allowed,
      targets: [],
    };
    if (reason) entry.reason = reason;
    if (issue) {
      const serverOwners = new Set(users(c, 'server'));
      const servers = nodes.filter(
        (n) =>
          n.kind === 'workload' &&
          n.status === 'connected' &&
          n.domain === c.domain &&
          serverOwners.has(n.owner) &&
          n.name !== node.name,
      );
      for (const s of servers) entry.targets.push(target(c, node, s, reason ?? null));
    }
    client.push(entry);
  }
  return {
    node: node.name,
    nodeId: node.nodeId,
    epoch: input.epoch,
    client,
    server,
    peers: bundlePeers(contracts, node.owner),
  };

  function target(c: Contract, src: NodeView, dst: NodeView, wouldDeny: string | null): Target {
    const base = { server: dst.name, dstNodeId: dst.nodeId };
    const from = attach(src);
    const to = attach(dst);
    if (!from)
      return {
        ...base,
        error: `no connected processor for ${src.name} among [${src.processors.join(', ')}]`,
      };
    if (!to)
      return {
        ...base,
        error: `no connected processor for ${dst.name} among [${dst.processors.join(', ')}]`,
      };
    const clientParams = c.roles.find((r) => r.name === 'client')?.pathParams ?? {};
    const serverParams = c.roles.find((r) => r.name === 'server')?.pathParams ?? {};
    const constraints = mergeRoleParams(clientParams, serverParams);
    // routeFlow, not computePath: a path longer than a ticket carries is this target's refusal,
    // never an exception that fails the whole bundle when the tickets are signed.
    const res = routeFlow(graph, from, to, constraints);
    if (!res.ok) return { ...base, error: `contract "${c.name}": ${res.reason}` };
    const ticketFor = (names: string[]): FlowTicket => ({
      version: 2,
      // Set by the signer: the orchestrator's active ticket key (tickets/keyring.ts).
      keyId: 0,
      contractId: c.id,
      policyEpoch: input.epoch,
      issuedAt: input.nowSec,
      expiresAt: input.nowSec + input.ttlSec,
      srcNodeId: src.nodeId,
      dstNodeId: dst.nodeId,
      domain: c.domain,
      contract: c.name,
      src: src.name,
      dst: dst.name,
      path: names.map((name): Hop => ({ name, endpoint: endpoints.get(name)! })),
      dstEndpoint: dst.endpoint,
      wouldDeny,
      proxyProtocol: c.proxyProtocol,
    });
    const fallbacks: FlowTicket[] = [];
    const mine = src.processors.filter((p) => endpoints.has(p));
    for (let i = 1; i < mine.length; i++) {
      const down = mine.slice(0, i);
      const exit = dst.processors.find((p) => endpoints.has(p) && !down.includes(p));
      if (!exit) continue;
      const alt = routeFlow(graph, mine[i]!, exit, {
        ...constraints,
        avoid: [...new Set([...constraints.avoid, ...down])],
      });
      // Infeasible without the preferred processors (a transit through them): none, fail closed.
      if (alt.ok) fallbacks.push(ticketFor(alt.path));
    }
    return { ...base, ticket: ticketFor(res.path), ...(fallbacks.length > 0 && { fallbacks }) };
  }
}
