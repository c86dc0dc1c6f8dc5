import type { FabricNode } from '../model/index.js';
import { installedDeployments, type LabTarget } from './deploy.js';
import { withLabLock } from './lab-lock.js';
import { removeDeployment } from './manifest.js';
import { disconnectedLines } from './node-free.js';
import { waitForNodes } from './wait-nodes.js';

/**
 * `trellis purge [--domain D]`, the seed's secure purge: stop every service and agent deployed
 * (in one domain, or all), uninstall them, and wait until the orchestrator shows their nodes
 * `disconnected`. The nodes stay registered — deleting them is an admin's explicit step
 * (`trellis delete node NAME`, or the red ✕ in Resources), as in the seed.
 */
export interface PurgeResult {
  /** The nodes now disconnected, one per purged VM. */
  nodes: FabricNode[];
  lines: string[];
}

export async function purge(opts: { domain?: string }, t: LabTarget): Promise<PurgeResult> {
  return withLabLock(t.paths, () => purgeLocked(opts, t));
}

async function purgeLocked(opts: { domain?: string }, t: LabTarget): Promise<PurgeResult> {
  const t0 = Date.now();
  const targets = Object.values(await installedDeployments(t)).filter(
    (d) => opts.domain === undefined || d.domain === opts.domain,
  );
  const lines: string[] = [];
  // One VM at a time would take a grace period each; they are independent, so all at once.
  await Promise.all(
    targets.map(async (d) => {
      await t.control.stopVm(d.vm);
      await removeDeployment(t.paths.install(d.vm));
      lines.push(`stopped and uninstalled ${d.domain}/${d.hostOwner} on ${d.vm}`);
    }),
  );
  lines.sort();
  const nodes = await waitForNodes(
    t.admin,
    targets.map((d) => d.vm),
    (n) => n.status === 'disconnected',
    15_000,
    'disconnected',
  ).catch(async (err: unknown) => {
    // A node the agent never registered (it crashed at start) has nothing to disconnect.
    const registered = new Set((await t.admin.nodes()).map((n) => n.name));
    if (targets.every((d) => registered.has(d.vm))) throw err;
    return waitForNodes(
      t.admin,
      targets.map((d) => d.vm).filter((vm) => registered.has(vm)),
      (n) => n.status === 'disconnected',
      15_000,
      'disconnected',
    );
  });
  const scope = opts.domain === undefined ? 'the lab' : `domain ${opts.domain}`;
  if (targets.length === 0) {
    lines.push(`nothing deployed in ${scope}`);
  } else {
    lines.push(
      ...disconnectedLines(
        nodes.map((n) => n.name),
        t0,
      ),
    );
  }
  return { nodes, lines };
}
