import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound, TrellisError } from '../../errors.js';
import { FabricNode, Name, NodeRegistered, NodeRegistration } from '../../model/index.js';
import type { Principal } from '../auth/principal.js';
import { requireAdmin, requireDomainAdmin, requireSystemAdmin, visibleDomains } from '../auth/rbac.js';
import { deleteSessionsOf } from '../auth/sessions.js';
import type { Orchestrator } from '../context.js';
import { recordBeat } from '../liveness.js';
import { nodeStatusChanged } from '../node-status.js';
import { registerNode } from '../ops/register-node.js';
import { NodePublicKey } from '../pki/node-key.js';
import { getMeta } from '../store/repos/meta.js';
import {
  deleteNode,
  getNode,
  listNodes,
  resetNodeKey,
  setCertNotAfter,
  setNodeStatus,
  touchNode,
} from '../store/repos/nodes.js';
import { write } from '../write.js';
import { route } from './route.js';

/** Only the resource user that registered a node may speak for it. */
export function requireOwner(
  p: Principal,
  node: Pick<FabricNode, 'name' | 'owner' | 'domain'>,
  what: string,
): void {
  // A session opened with a node's key speaks for that node, not for its owner's other nodes.
  const sameNode = p.type !== 'resource' || p.node === undefined || p.node === node.name;
  if (p.type === 'resource' && p.name === node.owner && p.domain === node.domain && sameNode) return;
  throw new TrellisError(
    'TRELLIS_ERR_FORBIDDEN',
    `only its owner "${node.domain}/${node.owner}" may ${what} node "${node.name}"`,
  );
}

/** Admins of the node's domain may manage it; processor nodes belong to systemAdmins. */
function requireNodeAdmin(p: Principal, node: FabricNode, what: string): void {
  if (node.kind === 'processor') requireSystemAdmin(p, what);
  else requireDomainAdmin(p, node.domain, what);
}

export function nodeRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/nodes',
    summary: 'List registered nodes (processors and workload nodes)',
    tag: 'nodes',
    query: z.strictObject({ domain: Name.optional() }),
    response: z.array(FabricNode),
    handler: async ({ principal, query }) => {
      requireAdmin(principal, 'list nodes');
      if (query.domain) requireDomainAdmin(principal, query.domain, 'list nodes');
      const nodes = await listNodes(o.db, query.domain ? [query.domain] : visibleDomains(principal));
      // Processors serve every domain: a domainAdmin sees them too.
      if (visibleDomains(principal) !== null && !query.domain) {
        const procs = (await listNodes(o.db, null)).filter((n) => n.kind === 'processor');
        return [...procs, ...nodes.filter((n) => n.kind !== 'processor')];
      }
      return nodes;
    },
  });

  route(app, o, {
    method: 'GET',
    url: '/api/v1/nodes/:name',
    summary: 'Get a node',
    tag: 'nodes',
    response: FabricNode,
    handler: async ({ principal, params }) => {
      const node = await getNode(o.db, params.name!);
      if (!node) throw notFound('node', params.name!);
      if (principal.type === 'resource') requireOwner(principal, node, 'read');
      else if (node.kind === 'workload') requireDomainAdmin(principal, node.domain, 'read nodes');
      const { publicKey: _, ...shown } = node;
      return shown;
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/nodes/register',
    summary: 'Register the calling processor (switchOwner) or workload node (hostOwner)',
    tag: 'nodes',
    body: NodeRegistration,
    response: NodeRegistered,
    handler: async ({ principal, body }) => {
      if (principal.type !== 'resource') {
        throw new TrellisError(
          'TRELLIS_ERR_FORBIDDEN',
          'nodes register with a hostOwner or switchOwner login, not an admin login',
        );
      }
      return registerNode(o, principal, body);
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/nodes/:name/certificate',
    summary:
      "Renew the node's certificate (its owner only), for the key it registered; nodes renew at 2/3 of its life",
    tag: 'nodes',
    body: z.strictObject({ publicKey: z.string().min(1).max(4096).describe('PEM SPKI: the registered key') }),
    response: z.object({ certPem: z.string(), certNotAfter: z.string() }),
    handler: async ({ principal, params, body }) => {
      const node = await getNode(o.db, params.name!);
      if (!node) throw notFound('node', params.name!, '; register it again');
      requireOwner(principal, node, 'renew the certificate of');
      if (node.publicKey === '') {
        throw new TrellisError(
          'TRELLIS_ERR_CONFLICT',
          `node "${node.name}" was reset by an admin: it must register again`,
        );
      }
      // The same key, compared as DER: PEM line breaks or a trailing newline must not matter,
      // and a certificate for any other key would let a password holder take the name over.
      const registered = NodePublicKey.stored(node.publicKey);
      if (!registered || !NodePublicKey.parse(body.publicKey, 'body.publicKey').equals(registered)) {
        throw new TrellisError(
          'TRELLIS_ERR_CONFLICT',
          `node "${node.name}" is registered with another key; a certificate is renewed only for the key the node registered`,
          {
            field: 'body.publicKey',
            hint: "send the key of the node's node.key (its node.pub); a new key must register the node again",
          },
        );
      }
      const { certPem, notAfter } = await o.crypto.issueCertificate(o.ca, {
        publicKey: registered,
        name: node.name,
        kind: node.kind,
        domain: node.domain,
        addresses: node.addresses,
        validForMs: o.nodeCertTtlMs,
      });
      await setCertNotAfter(o.db, node.name, notAfter);
      await touchNode(o.db, node.name, new Date());
      o.log.info({ node: node.name, certNotAfter: notAfter }, 'node certificate renewed');
      return { certPem, certNotAfter: notAfter };
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/nodes/:name/heartbeat',
    summary: 'Tell the orchestrator the node is alive (owner only)',
    tag: 'nodes',
    response: z.object({ status: z.string(), policyEpoch: z.number() }),
    handler: async ({ principal, params }) => {
      const node = await getNode(o.db, params.name!);
      if (!node) throw notFound('node', params.name!, '; register it again');
      requireOwner(principal, node, 'heartbeat for');
      // A node holding its event stream beats every BEAT_MS: judged in memory (liveness.ts), its
      // `lastSeen` written with everyone's every few seconds. Nodes of this release beat on
      // their beat stream instead (api/beats.ts): this is the older releases' way.
      if (o.liveStreams.has(node.name)) await recordBeat(o, node.name);
      else await touchNode(o.db, node.name, new Date());
      return { status: 'connected', policyEpoch: (await getMeta<number>(o.db, 'policyEpoch')) ?? 0 };
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/nodes/:name/disconnect',
    summary: 'Mark a node disconnected (its owner on shutdown, or an admin on purge)',
    tag: 'nodes',
    response: FabricNode,
    handler: async ({ principal, params }) => {
      return write(o, principal, async (w) => {
        const before = await getNode(w.sql, params.name!);
        if (!before) throw notFound('node', params.name!);
        if (principal.type === 'resource') requireOwner(principal, before, 'disconnect');
        else requireNodeAdmin(principal, before, 'disconnect nodes');
        await setNodeStatus(w.sql, before.name, 'disconnected');
        const { publicKey: _, ...shown } = before;
        const after: FabricNode = { ...shown, status: 'disconnected' };
        await w.audit({
          action: 'update',
          kind: 'node',
          name: before.name,
          domain: before.domain,
          before: shown,
          after,
        });
        return after;
      }).then(async (after) => {
        await nodeStatusChanged(o, [after], 'disconnected');
        return after;
      });
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/nodes/:name/reset',
    summary:
      "Free a node's name from its key (a rebuilt VM): its sessions end, the next registration binds a new key",
    tag: 'nodes',
    response: FabricNode,
    handler: async ({ principal, params }) => {
      const after = await write(o, principal, async (w) => {
        const node = await getNode(w.sql, params.name!);
        if (!node) throw notFound('node', params.name!);
        requireNodeAdmin(principal, node, 'reset nodes');
        await resetNodeKey(w.sql, node.name);
        // Sessions opened with the old key speak for a node that no longer holds its name.
        await deleteSessionsOf(w.sql, (p) => p.type === 'resource' && p.node === node.name);
        const { publicKey: _, ...shown } = node;
        const after: FabricNode = { ...shown, status: 'disconnected' };
        await w.audit({
          action: 'update',
          kind: 'node',
          name: node.name,
          domain: node.domain,
          before: shown,
          after: { ...after, keyReset: true },
        });
        return after;
      });
      await nodeStatusChanged(o, [after], 'disconnected');
      return after;
    },
  });

  route(app, o, {
    method: 'DELETE',
    url: '/api/v1/nodes/:name',
    summary: 'Delete a disconnected node (a connected one is refused with 409)',
    tag: 'nodes',
    status: 204,
    handler: async ({ principal, params }) => {
      await write(o, principal, async (w) => {
        const node = await getNode(w.sql, params.name!);
        if (!node) throw notFound('node', params.name!);
        requireNodeAdmin(principal, node, 'delete nodes');
        if (node.status === 'connected') {
          throw new TrellisError(
            'TRELLIS_ERR_CONFLICT',
            `node "${node.name}" is connected (last seen ${node.lastSeen}); only a disconnected node can be deleted`,
            { hint: "stop its agent or processor first (trellis purge stops a domain's workloads)" },
          );
        }
        await deleteNode(w.sql, node.name);
        const { publicKey: _, ...shown } = node;
        await w.audit({
          action: 'delete',
          kind: 'node',
          name: node.name,
          domain: node.domain,
          before: shown,
          after: null,
        });
        return node;
      }).then((node) => nodeStatusChanged(o, [node], 'deleted'));
    },
  });
}
