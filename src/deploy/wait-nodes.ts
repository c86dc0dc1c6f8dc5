import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '../api-client/client.js';
import { TrellisError } from '../errors.js';
import type { FabricNode } from '../model/index.js';

/** Polls the orchestrator until every named node passes `ok`; the error names those that did not. */
export async function waitForNodes(
  admin: ApiClient,
  names: string[],
  ok: (n: FabricNode) => boolean,
  timeoutMs: number,
  what: string,
  /** Gives up at once when this says so (the lab is stopping). */
  abandoned: () => boolean = () => false,
): Promise<FabricNode[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (abandoned()) throw new TrellisError('TRELLIS_ERR_UNAVAILABLE', 'the lab is stopping');
    const nodes = await admin.nodes().catch(() => [] as FabricNode[]);
    const found = names.map((name) => nodes.find((n) => n.name === name));
    const missing = names.filter((_, i) => !found[i] || !ok(found[i]!));
    if (missing.length === 0) return found as FabricNode[];
    if (Date.now() >= deadline) {
      throw new TrellisError(
        'TRELLIS_ERR_UNAVAILABLE',
        `node(s) not ${what} after ${timeoutMs / 1000} s: ${missing
          .map((m) => `${m} (${nodes.find((n) => n.name === m)?.status ?? 'not registered'})`)
          .join(', ')}`,
        { hint: 'their logs are in the lab directory (`trellis lab status` shows where)' },
      );
    }
    await sleep(200);
  }
}
