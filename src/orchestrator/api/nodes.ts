import { createPublicKey } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound, TrellisError } from '../../errors.js';
import { FabricNode, Name, NodeRegistration } from '../../model/index.js';
import { nodeIdFor } from '../../wire/node-id.js';
import type { Principal } from '../auth/principal.js';
import { requireAdmin, requireDomainAdmin, requireSystemAdmin, visibleDomains } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import { issueNodeCertificate } from '../pki/ca.js';
import { getMeta } from '../store/repos/meta.js';
import {
  deleteNode,
  getNode,
  listNodes,
  setCertNotAfter,
  setNodeStatus,
  touchNode,
  upsertNode,
} from '../store/repos/nodes.js';
import { getProcessor } from '../store/repos/processors.js';
import { write } from '../write.js';
import { route } from './route.js';

function publicKeyDer(pem: string): Buffer {
  try {
    return createPublicKey(pem).export({ type: 'spki', format: 'der' });
  } catch {
    throw new TrellisError('TRELLIS_ERR_VALIDATION', 'publicKey is not a PEM public key', {
      field: 'body.publicKey',
    });
  }
}

/** Only the resource user that registered a node may speak for it. */
function requireOwner(p: Principal, node: FabricNode, what: string): void {
  if (p.type === 'resource' && p.name === node.owner && p.domain === node.domain) return;
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
    response: FabricNode,
    handler: async ({ principal, body }) => {
      if (principal.type !== 'resource') {
        throw new TrellisError(
          'TRELLIS_ERR_FORBIDDEN',
          'nodes register with a hostOwner or switchOwner login, not an admin login',
        );
      }
      const der = publicKeyDer(body.publicKey);
      const registered = await write(o, principal, async (w) => {
        const kind = principal.kind === 'switchOwner' ? 'processor' : 'workload';
        const declared = await getProcessor(w.sql, body.name);
        if (kind === 'processor' && !declared) {
          throw new TrellisError('TRELLIS_ERR_UNPROCESSABLE', `processor "${body.name}" is not declared`, {
            field: 'body.name',
            hint: 'declare it first (fabric.yaml processors, or POST /api/v1/processors)',
          });
        }
        if (kind === 'workload' && declared) {
          throw new TrellisError('TRELLIS_ERR_CONFLICT', `"${body.name}" is a processor's name`, {
            field: 'body.name',
          });
        }
        for (const [i, p] of body.processors.entries()) {
          if (!(await getProcessor(w.sql, p))) {
            throw new TrellisError('TRELLIS_ERR_UNPROCESSABLE', `unknown processor "${p}"`, {
              field: `body.processors[${i}]`,
            });
          }
        }
        const existing = await getNode(w.sql, body.name);
        if (existing && (existing.owner !== principal.name || existing.domain !== principal.domain)) {
          throw new TrellisError(
            'TRELLIS_ERR_CONFLICT',
            `node "${body.name}" is registered to ${existing.domain}/${existing.owner}`,
            {
              hint: 'an admin must delete that node (once disconnected) before another owner can use the name',
            },
          );
        }
        const prefix = (await getMeta<string>(w.sql, 'fabricPrefix')) ?? o.fabricPrefix;
        const now = new Date().toISOString();
        const node: FabricNode = {
          name: body.name,
          kind,
          nodeId: nodeIdFor(prefix, der),
          owner: principal.name,
          domain: principal.domain,
          addresses: body.addresses,
          processors: body.processors,
          endpoint: body.endpoint ?? '',
          status: 'connected',
          lastSeen: now,
          registeredAt: existing?.registeredAt ?? now,
        };
        await upsertNode(w.sql, node, body.publicKey);
        const before = existing ? (({ publicKey: _, ...rest }) => rest)(existing) : null;
        await w.audit({
          action: existing ? 'update' : 'create',
          kind: 'node',
          name: node.name,
          domain: node.domain,
          before,
          after: node,
        });
        return node;
      });
      // The certificate binds the node's own key to its name: every data-plane link checks it.
      const { certPem, notAfter } = await issueNodeCertificate(o.ca, {
        publicKeyPem: body.publicKey,
        name: registered.name,
        kind: registered.kind,
        domain: registered.domain,
        addresses: registered.addresses,
        validForMs: o.nodeCertTtlMs,
      });
      await setCertNotAfter(o.db, registered.name, notAfter);
      o.events.publish({
        type: 'node',
        name: registered.name,
        kind: registered.kind,
        domain: registered.domain,
        owner: registered.owner,
        status: 'connected',
      });
      // A processor changes paths: every ticket may change. A workload node only adds a server
      // instance or a client: agents of its domain learn it from this node event, without a
      // fabric-wide epoch bump (which made every agent refetch on every registration).
      if (registered.kind === 'processor') await o.bumpEpoch();
      return {
        node: { ...registered, certNotAfter: notAfter },
        certPem,
        certNotAfter: notAfter,
        caPem: o.ca.certPem,
        // ticketPublicKeyPem (the signing key) is kept for nodes that predate ticketKeys.
        ticketPublicKeyPem: o.ticketKeys.published()[0]!.publicKeyPem,
        ticketKeys: o.ticketKeys.published(),
      };
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
      // The same key, compared as DER: PEM line breaks or a trailing newline must not matter,
      // and a certificate for any other key would let a password holder take the name over.
      if (!publicKeyDer(body.publicKey).equals(publicKeyDer(node.publicKey))) {
        throw new TrellisError(
          'TRELLIS_ERR_CONFLICT',
          `node "${node.name}" is registered with another key; a certificate is renewed only for the key the node registered`,
          {
            field: 'body.publicKey',
            hint: "send the key of the node's node.key (its node.pub); a new key must register the node again",
          },
        );
      }
      const { certPem, notAfter } = await issueNodeCertificate(o.ca, {
        publicKeyPem: node.publicKey,
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
      await touchNode(o.db, node.name, new Date());
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
        o.events.publish({
          type: 'node',
          name: after.name,
          kind: after.kind,
          domain: after.domain,
          owner: after.owner,
          status: 'disconnected',
        });
        if (after.kind === 'processor') await o.bumpEpoch();
        return after;
      });
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
      }).then((node) => {
        o.events.publish({
          type: 'node',
          name: node.name,
          kind: node.kind,
          domain: node.domain,
          owner: node.owner,
          status: 'deleted',
        });
      });
    },
  });
}
