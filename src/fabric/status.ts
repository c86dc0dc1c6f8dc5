import type { ApiClient } from '../api-client/client.js';
import type { HostStatus } from '../host/host-status.js';
import type { Inventory } from '../inventory/inventory.js';
import type { Connection } from '../remote/connection.js';
import { remoteRemove, remoteStatus } from '../remote/remote-host.js';

/** One inventory host as `trellis fabric status` shows it. */
export interface HostReport {
  host: string;
  groups: string[];
  connection: string;
  /** null when the host could not be reached (then `error` says why). */
  status: HostStatus | null;
  error?: string;
  /** The orchestrator's view of the node of that name, when logged in. */
  node?: { kind: string; status: string; owner: string; domain: string };
}

export async function fabricStatus(
  inv: Inventory,
  connect: (h: Inventory['hosts'][number]) => Connection,
  admin?: ApiClient,
): Promise<HostReport[]> {
  const nodes = admin ? await admin.nodes().catch(() => []) : [];
  return Promise.all(
    inv.hosts.map(async (h): Promise<HostReport> => {
      const conn = connect(h);
      const node = nodes.find((n) => n.name === h.name);
      const base = {
        host: h.name,
        groups: h.groups,
        connection: conn.describe,
        ...(node && {
          node: { kind: node.kind, status: node.status, owner: node.owner, domain: node.domain },
        }),
      };
      try {
        return { ...base, status: await remoteStatus(conn) };
      } catch (err) {
        return { ...base, status: null, error: (err as Error).message };
      }
    }),
  );
}

/**
 * `trellis fabric down`: every unit on every host stops and is uninstalled — services and
 * agents first, then processors, the orchestrator last (so nodes see their orchestrator until
 * they are gone). Releases, data and every unit's state (the orchestrator's store and CA, node
 * keys and certificates) stay; `fabric up` starts it all again with the same identities.
 */
export async function fabricDown(
  inv: Inventory,
  connect: (h: Inventory['hosts'][number]) => Connection,
  out: (line: string) => void,
): Promise<void> {
  // What each host runs, read once: the stages below only remove what was there.
  const hosts = await Promise.all(
    inv.hosts.map(async (h) => {
      const conn = connect(h);
      return { h, conn, units: (await remoteStatus(conn)).units };
    }),
  );
  const order = ['workload', 'agent', 'processor', 'orchestrator'];
  const stage = async (kinds: string[]) =>
    Promise.all(
      hosts.map(async ({ h, conn, units }) => {
        const names = units
          .filter((u) => kinds.includes(u.kind))
          .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind))
          .map((u) => u.name);
        if (names.length === 0) return;
        // A stop, not an uninstall: the next `fabric up` resumes with the same store, CA and node keys.
        await remoteRemove(conn, names, { keepState: true });
        out(`${h.name}: stopped ${names.join(', ')}`);
      }),
    );
  await stage(['workload', 'agent']);
  await stage(['processor']);
  await stage(['orchestrator']);
}
