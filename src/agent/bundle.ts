import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The agent's view of the orchestrator's bundle (GET /api/v1/nodes/:name/bundle). */
export interface AgentTarget {
  server: string;
  dstNodeId: string;
  token?: string;
  /** Processors in order with their endpoints; the first is where the flow enters the fabric. */
  path?: { name: string; endpoint: string }[];
  expiresAt?: number;
  /**
   * Tickets entering at the VM's other processors, preferred first: used when the first hop is
   * down, so failover needs no orchestrator. Absent from an older orchestrator.
   */
  fallbacks?: AgentTicket[];
  error?: string;
}

/** One way into the fabric for a flow to a server instance: a ticket and its processor path. */
export interface AgentTicket {
  token: string;
  path: { name: string; endpoint: string }[];
  expiresAt?: number;
}

export interface AgentClientEntry {
  contract: string;
  contractId: number;
  domain: string;
  mode: 'enforce' | 'audit';
  allowed: boolean;
  reason?: string;
  targets: AgentTarget[];
}

export interface AgentServerEntry {
  contract: string;
  contractId: number;
  proxyProtocol: boolean;
  clients: string[];
  mode: 'enforce' | 'audit';
}

export interface AgentBundle {
  node: string;
  nodeId: string;
  epoch: number;
  client: AgentClientEntry[];
  server: AgentServerEntry[];
  /** Host owners whose nodes matter to this bundle; absent from an older orchestrator. */
  peers?: string[];
  /** The keys tickets may be signed with (a rotation publishes two); absent from an older orchestrator. */
  ticketKeys?: { id: string; publicKeyPem: string }[];
}

/** The bundle is cached on disk so a restart while the orchestrator is down still serves. */
export async function saveBundle(dir: string, b: AgentBundle): Promise<void> {
  await mkdir(dir, { recursive: true });
  // Written aside, then renamed: a reader (or a restart after a crash mid-write) sees the old
  // bundle or the new one, never half of one. Refreshes come often when nodes come and go.
  const file = join(dir, 'bundle.json');
  await writeFile(`${file}.tmp`, JSON.stringify(b), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}

export async function loadCachedBundle(dir: string): Promise<AgentBundle | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'bundle.json'), 'utf8')) as AgentBundle;
  } catch {
    return undefined;
  }
}
