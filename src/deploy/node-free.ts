import type { ApiClient } from '../api-client/client.js';
import { TrellisError } from '../errors.js';

/**
 * A node name belongs to the host owner that registered it until an admin deletes it: say so
 * before anything is installed, rather than as an agent that exits while starting.
 */
export async function checkNodeFree(
  admin: ApiClient,
  vm: string,
  hostOwner: string,
  domain: string,
): Promise<void> {
  const node = (await admin.nodes()).find((n) => n.name === vm);
  if (node && (node.owner !== hostOwner || node.domain !== domain)) {
    throw new TrellisError(
      'TRELLIS_ERR_CONFLICT',
      `node "${vm}" is registered to host owner "${node.owner}" (domain ${node.domain}, ${node.status})`,
      { hint: `once it is disconnected, \`trellis delete node ${vm}\` frees the name` },
    );
  }
}

/** The lines purge ends with: which nodes are now disconnected, and how to delete them. */
export function disconnectedLines(nodes: string[], t0: number): string[] {
  return [
    `${nodes.length} node(s) disconnected: ${nodes.join(' ')} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    `remove them with: ${nodes.map((n) => `trellis delete node ${n}`).join('; ')}`,
  ];
}
