import { realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import { AppSpec } from '../app/app-file.js';
import { TrellisError } from '../errors.js';
import type { InventoryHost } from '../inventory/inventory.js';
import { Name } from '../model/index.js';
import { type ApplyResult, applyLocked, hostStatus, prepareRoot } from './apply.js';
import type { InstalledRelease } from './layout.js';
import { type HostLayout, hostLayout } from './layout.js';
import { withHostLock } from './lock.js';
import { HostApply, parseHostDocument, unitHash } from './unit.js';
import { type VmUnits, vmUnits } from './units.js';

/**
 * `trellis host attach -f -`: attach one host owner's service to the fabric on THIS host — the
 * on-host half of `trellis deploy` and of the Ansible role (deploy/ansible), so both build the
 * agent and workload units the same way, from the app file, with this host's own release and
 * node. The token (minted by the controller) is written only when something must (re)enrol.
 */
export const HostAttach = z.strictObject({
  apiVersion: z.literal('trellis/v1'),
  kind: z.literal('HostAttach'),
  app: AppSpec,
  hostOwner: Name,
  host: z.strictObject({
    name: Name,
    address: z.string().min(1),
    advertise: z.string().min(1),
    connection: z.enum(['ssh', 'local']).default('ssh'),
    processors: z.array(Name).min(1),
    /** trellis_listen, trellis_workload_address… as in the inventory. */
    vars: z.record(z.string(), z.unknown()).default({}),
  }),
  /** Where the app package is on this host (R/apps/<id>, or the lab's checkout): `{app}`. */
  appDir: z.string().regex(/^\//, 'must be an absolute path').optional(),
  /** An enrolment token for hostOwner and this VM; needed unless the units already run. */
  token: z.string().optional(),
  /** Only say whether anything would change (the controller then mints a token, or not). */
  dryRun: z.boolean().default(false),
});
export type HostAttach = z.input<typeof HostAttach>;

export interface AttachResult {
  /** Whether units had to be written (false: the same units already run). */
  wouldChange: boolean;
  apply: ApplyResult | null;
  serve: string[];
  urls: string[];
}

/** The release this command runs from: R/releases/<id>/bin/trellis.js, with this node. */
export function thisRelease(root: string): InstalledRelease {
  const bin = realpathSync(process.argv[1]!);
  return { id: basename(dirname(dirname(bin))), node: process.execPath, bin, wrapper: `${root}/bin/trellis` };
}

export async function hostAttach(root: string, input: unknown): Promise<AttachResult> {
  const req = parseHostDocument(HostAttach, input, 'host attach');
  const layout = hostLayout(root);
  await prepareRoot(layout);
  return withHostLock(layout, () => attachLocked(layout, req));
}

async function attachLocked(layout: HostLayout, req: z.output<typeof HostAttach>): Promise<AttachResult> {
  const root = layout.root;
  const service = req.app.services[req.hostOwner];
  if (!service) {
    throw new TrellisError(
      'TRELLIS_ERR_NOT_FOUND',
      `the app describes no service for host owner "${req.hostOwner}"`,
    );
  }
  const host: InventoryHost = { ...req.host, groups: ['vms'], port: 22, sshArgs: [], root };
  const units: VmUnits = vmUnits(host, thisRelease(root), req.app, req.hostOwner, service, req.appDir);
  const wanted = [units.agent, ...(units.workload ? [units.workload] : [])];
  const running = new Map((await hostStatus(root)).units.map((u) => [u.name, u]));
  // Checked here too, under the host's lock: two deploys at once both passed the controller's check.
  const other = running.get(units.agent.name);
  if (other && (other.labels.hostOwner !== req.hostOwner || other.labels.domain !== req.app.domain)) {
    throw new TrellisError(
      'TRELLIS_ERR_CONFLICT',
      `virtual machine "${req.host.name}" already runs host owner "${other.labels.hostOwner}" (domain ${other.labels.domain})`,
      { hint: 'one host owner per VM: purge it first' },
    );
  }
  const wouldChange = !wanted.every((u) => {
    const r = running.get(u.name);
    return r !== undefined && r.hash === unitHash(u) && r.pid !== null;
  });
  if (req.dryRun) return { wouldChange, apply: null, serve: units.serve, urls: units.urls };
  if (wouldChange && !req.token) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `host attach: ${units.agent.name} must (re)enrol: give a token`,
      {
        hint: 'trellis token create --hostowner H --vm VM mints one',
      },
    );
  }
  const apply = await applyLocked(
    layout,
    HostApply.parse({
      apiVersion: 'trellis/v1',
      kind: 'HostApply',
      units: wanted,
      files: req.token
        ? [{ path: `secrets/${units.agent.name}.token`, mode: 0o600, content: `${req.token.trim()}\n` }]
        : [],
      readyTimeoutMs: 120_000,
    }),
  );
  return { wouldChange, apply, serve: units.serve, urls: units.urls };
}
