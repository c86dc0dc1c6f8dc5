import type { FabricNode, NodeKind, NodeStatus } from '../../../model/index.js';
import type { Sql } from '../db.js';
import { iso, json } from './time.js';

interface Row {
  name: string;
  kind: NodeKind;
  node_id: string;
  owner: string;
  domain: string;
  addresses: string[];
  processors: string[];
  endpoint: string;
  public_key: string;
  status: NodeStatus;
  last_seen: Date;
  registered_at: Date;
  cert_not_after: Date | null;
}

const toNode = (r: Row): FabricNode => ({
  name: r.name,
  kind: r.kind,
  nodeId: r.node_id,
  owner: r.owner,
  domain: r.domain,
  addresses: r.addresses,
  processors: r.processors,
  endpoint: r.endpoint,
  status: r.status,
  lastSeen: iso(r.last_seen),
  registeredAt: iso(r.registered_at),
  ...(r.cert_not_after && { certNotAfter: iso(r.cert_not_after) }),
});

export async function listNodes(sql: Sql, only: string[] | null): Promise<FabricNode[]> {
  const rows =
    only === null
      ? await sql.query<Row>('SELECT * FROM nodes ORDER BY kind, name')
      : await sql.query<Row>('SELECT * FROM nodes WHERE domain = ANY($1) ORDER BY kind, name', [only]);
  return rows.map(toNode);
}

export async function getNode(
  sql: Sql,
  name: string,
): Promise<(FabricNode & { publicKey: string }) | undefined> {
  const r = (await sql.query<Row>('SELECT * FROM nodes WHERE name = $1', [name]))[0];
  return r && { ...toNode(r), publicKey: r.public_key };
}

/** `certNotAfter`: the certificate issued for this registration (absent: left as it is). */
export async function upsertNode(
  sql: Sql,
  n: FabricNode,
  publicKey: string,
  certNotAfter?: string,
): Promise<void> {
  await sql.query(
    `INSERT INTO nodes (name, kind, node_id, owner, domain, addresses, processors, public_key, status, last_seen, registered_at, endpoint, cert_not_after)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $11, $12, $13)
     ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, node_id = EXCLUDED.node_id, owner = EXCLUDED.owner,
       domain = EXCLUDED.domain, addresses = EXCLUDED.addresses, processors = EXCLUDED.processors,
       public_key = EXCLUDED.public_key, status = EXCLUDED.status, last_seen = EXCLUDED.last_seen,
       endpoint = EXCLUDED.endpoint, cert_not_after = coalesce(EXCLUDED.cert_not_after, nodes.cert_not_after)`,
    [
      n.name,
      n.kind,
      n.nodeId,
      n.owner,
      n.domain,
      json(n.addresses),
      json(n.processors),
      publicKey,
      n.status,
      n.lastSeen,
      n.registeredAt,
      n.endpoint,
      certNotAfter ?? null,
    ],
  );
}

/** The notAfter of the certificate just issued to the node (registration or renewal). */
export async function setCertNotAfter(sql: Sql, name: string, iso: string): Promise<void> {
  await sql.query('UPDATE nodes SET cert_not_after = $2 WHERE name = $1', [name, iso]);
}

export async function touchNode(sql: Sql, name: string, at: Date): Promise<void> {
  await sql.query("UPDATE nodes SET last_seen = $2, status = 'connected' WHERE name = $1", [
    name,
    at.toISOString(),
  ]);
}

/** The nodes' `lastSeen` (beats, batched by liveness.ts): their status is liveness' to change, not this. */
export async function touchNodes(sql: Sql, names: string[], at: Date): Promise<void> {
  await sql.query('UPDATE nodes SET last_seen = $2 WHERE name = ANY($1)', [names, at.toISOString()]);
}

/** Marks nodes silent since `before` (except `alive` ones) as disconnected; returns them. */
export async function disconnectStale(
  sql: Sql,
  before: Date,
  alive: string[] = [],
): Promise<{ name: string; kind: NodeKind; domain: string; owner: string }[]> {
  return sql.query<{ name: string; kind: NodeKind; domain: string; owner: string }>(
    `UPDATE nodes SET status = 'disconnected'
     WHERE status = 'connected' AND last_seen < $1 AND NOT (name = ANY($2))
     RETURNING name, kind, domain, owner`,
    [before.toISOString(), alive],
  );
}

type NodeRefRow = { name: string; kind: NodeKind; domain: string; owner: string };

/** Marks connected nodes among `names` unreachable (they hold a stream but stopped beating); returns them. */
export async function markUnreachable(sql: Sql, names: string[]): Promise<NodeRefRow[]> {
  return sql.query<NodeRefRow>(
    `UPDATE nodes SET status = 'unreachable'
     WHERE status = 'connected' AND name = ANY($1)
     RETURNING name, kind, domain, owner`,
    [names],
  );
}

/** An unreachable node answered: connected again (and seen now); returns it, or nothing if it was not unreachable. */
export async function markReachable(sql: Sql, name: string): Promise<NodeRefRow[]> {
  return sql.query<NodeRefRow>(
    `UPDATE nodes SET status = 'connected', last_seen = $2
     WHERE status = 'unreachable' AND name = $1
     RETURNING name, kind, domain, owner`,
    [name, new Date().toISOString()],
  );
}

export async function setNodeStatus(sql: Sql, name: string, status: NodeStatus): Promise<void> {
  await sql.query('UPDATE nodes SET status = $2 WHERE name = $1', [name, status]);
}

export async function deleteNode(sql: Sql, name: string): Promise<void> {
  await sql.query('DELETE FROM nodes WHERE name = $1', [name]);
}

/** Frees a node's name from its key (an admin's `trellis node reset`): the next key to register binds it. */
export async function resetNodeKey(sql: Sql, name: string): Promise<void> {
  await sql.query("UPDATE nodes SET public_key = '', status = 'disconnected' WHERE name = $1", [name]);
}
