import { TrellisError } from '../../errors.js';
import type { FabricNode, NodeRegistration } from '../../model/index.js';
import { nodeIdFor } from '../../wire/node-id.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import type { Orchestrator } from '../context.js';
import { nodeStatusChanged } from '../node-status.js';
import { NodePublicKey } from '../pki/node-key.js';
import { insertAudit } from '../store/repos/audit.js';
import { getNode, upsertNode } from '../store/repos/nodes.js';
import { declaredProcessors } from '../store/repos/processors.js';
import { type WriteTx, write } from '../write.js';
import { endpointOnOwnAddress } from './endpoint-host.js';

type ResourcePrincipal = Extract<Principal, { type: 'resource' }>;

/** What a node gets back from registering (or enrolling): its record, its certificate, what to trust. */
export interface RegistrationAnswer {
  node: FabricNode;
  certPem: string;
  certNotAfter: string;
  caPem: string;
  ticketPublicKeyPem: string;
  ticketKeys: { id: string; publicKeyPem: string }[];
}

/** A node name is held by the key that registered it; the refusal says how an admin frees it. */
class TakeoverRefused extends TrellisError {
  constructor(readonly node: FabricNode) {
    super(
      'TRELLIS_ERR_CONFLICT',
      `node "${node.name}" is registered with another key: a node name belongs to the key that first registered it`,
      {
        field: 'body.publicKey',
        hint: `if ${node.name} was really rebuilt, an admin frees the name with \`trellis node reset ${node.name}\` (or \`trellis delete node ${node.name}\` once it is disconnected)`,
      },
    );
  }
}

/**
 * Registers the calling processor (switchOwner) or workload node (hostOwner) in one
 * transaction; `inTx` runs inside it (an enrolment counts its token use there, so a token is
 * spent exactly when a node got in). Re-registering a name is allowed only with the same key:
 * the owner's password alone must not let anyone move a node's endpoint or take its certificate.
 */
export async function registerNode(
  o: Orchestrator,
  principal: ResourcePrincipal,
  body: NodeRegistration,
  inTx?: (w: WriteTx, node: FabricNode, existed: boolean) => Promise<void>,
): Promise<RegistrationAnswer> {
  // Checked before the transaction: a key the CA would refuse must leave nothing stored.
  const key = NodePublicKey.parse(body.publicKey, 'body.publicKey');
  if (principal.node !== undefined && principal.node !== body.name) {
    throw new TrellisError(
      'TRELLIS_ERR_FORBIDDEN',
      `this session belongs to node "${principal.node}"; it may not register "${body.name}"`,
    );
  }
  if (body.endpoint !== undefined && !endpointOnOwnAddress(body.endpoint, body.addresses)) {
    throw new TrellisError(
      'TRELLIS_ERR_UNPROCESSABLE',
      `endpoint ${body.endpoint} is not on one of the node's addresses (${body.addresses.join(', ')})`,
      {
        field: 'body.endpoint',
        hint: 'a node registers the endpoint it listens on itself: its host must be one of body.addresses',
      },
    );
  }
  const kind = principal.kind === 'switchOwner' ? 'processor' : 'workload';
  // The certificate binds the node's own key to its name: every data-plane link checks it.
  // Issued before the transaction (in the crypto thread, while this thread serves others), so
  // its notAfter lands in the node's row with it — one statement less per registration — and
  // returned only if the transaction commits: a refused registration's certificate is dropped.
  const { certPem, notAfter } = await o.crypto.issueCertificate(o.ca, {
    publicKey: key,
    name: body.name,
    kind,
    domain: principal.domain,
    addresses: body.addresses,
    validForMs: o.nodeCertTtlMs,
  });
  let registered: FabricNode;
  try {
    registered = await write(o, principal, async (w) => {
      // One query for the node's own name and the processors it attaches to.
      const known = await declaredProcessors(w.sql, [body.name, ...body.processors]);
      const declared = known.has(body.name);
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
        if (!known.has(p)) {
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
      // An empty key: an admin reset the node, so the next key to register binds the name.
      if (existing && existing.publicKey !== '' && !NodePublicKey.stored(existing.publicKey)?.equals(key)) {
        const { publicKey: _, ...shown } = existing;
        throw new TakeoverRefused(shown);
      }
      // Read from the store at start-up (bootstrap.ts) and never changed after: node IDs derive from it.
      const prefix = o.fabricPrefix;
      const now = new Date().toISOString();
      const node: FabricNode = {
        name: body.name,
        kind,
        nodeId: nodeIdFor(prefix, key.der),
        owner: principal.name,
        domain: principal.domain,
        addresses: body.addresses,
        processors: body.processors,
        endpoint: body.endpoint ?? '',
        status: 'connected',
        lastSeen: now,
        registeredAt: existing?.registeredAt ?? now,
      };
      await upsertNode(w.sql, node, body.publicKey, notAfter);
      const before = existing ? (({ publicKey: _, ...rest }) => rest)(existing) : null;
      await w.audit({
        action: existing ? 'update' : 'create',
        kind: 'node',
        name: node.name,
        domain: node.domain,
        before,
        after: node,
      });
      await inTx?.(w, node, existing !== undefined);
      return node;
    });
  } catch (err) {
    if (err instanceof TakeoverRefused) {
      // Recorded outside the rolled-back transaction: the refusal is the point of the record.
      await insertAudit(o.db, {
        actor: describePrincipal(principal),
        action: 'refuse',
        kind: 'node',
        name: err.node.name,
        domain: err.node.domain,
        before: err.node,
        after: {
          reason: 'registration with another key',
          addresses: body.addresses,
          endpoint: body.endpoint ?? '',
        },
      });
      o.log.warn({ node: err.node.name, by: describePrincipal(principal) }, 'node takeover refused');
    }
    throw err;
  }
  // A workload node's peers learn it from the node event, without a fabric-wide epoch bump
  // (which made every agent refetch on every registration).
  await nodeStatusChanged(o, [registered], 'connected');
  return {
    node: { ...registered, certNotAfter: notAfter },
    certPem,
    certNotAfter: notAfter,
    caPem: o.ca.certPem,
    // ticketPublicKeyPem (the signing key) is kept for nodes that predate ticketKeys.
    ticketPublicKeyPem: o.ticketKeys.published()[0]!.publicKeyPem,
    ticketKeys: o.ticketKeys.published(),
  };
}
