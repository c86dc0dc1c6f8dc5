import { dirname } from 'node:path';
import { type ApiClient, ApiError } from '../api-client/client.js';
import { readSecrets } from '../apply/secrets.js';
import { TrellisError } from '../errors.js';
import type { LabControl } from '../lab/control.js';
import type { LoadedLab } from '../lab/lab-file.js';
import type { LabPaths } from '../lab/state.js';
import { vmDataDir } from './data-dir.js';
import { withLabLock } from './lab-lock.js';
import { type Deployment, readDeployment, removeDeployment, writeDeployment } from './manifest.js';
import { checkNodeFree } from './node-free.js';
import { type DeployRequest, planDeploy } from './plan.js';
import { waitForNodes } from './wait-nodes.js';

/**
 * `trellis deploy --hostowner=H --virtualmachine=V`, the seed's per-service deploy script:
 * check everything first (host owner, VM, password), install the service bundle onto the VM,
 * have the VM's supervisor start the agent and the service, and wait until the agent is
 * registered and connected and the service ready. Idempotent; a failed start uninstalls.
 */

export interface LabTarget {
  paths: LabPaths;
  lab: LoadedLab;
  vmAddress(vm: string): string | undefined;
  orchestratorUrl: string;
  caFingerprint?: string;
  /** Anonymous, verifying the orchestrator (checks a password before anything is installed). */
  api: ApiClient;
  /** An admin session, to watch the node register. */
  admin: ApiClient;
  control: LabControl;
  /** The lab supervisor's own deploys stop waiting when the lab is asked to stop. */
  stopping?: () => boolean;
}

export interface DeployResult {
  deployment: Deployment;
  /** False when the same deployment was already installed (then only its start was checked). */
  changed: boolean;
  /** What was done, one line each, for the CLI to print. */
  lines: string[];
}

export async function deploy(req: DeployRequest, t: LabTarget): Promise<DeployResult> {
  // Two deploys (or a deploy and a purge) at once would both pass the "VM is free" check.
  return withLabLock(t.paths, () => deployLocked(req, t));
}

async function deployLocked(req: DeployRequest, t: LabTarget): Promise<DeployResult> {
  const t0 = Date.now();
  const installed = await installedDeployments(t);
  const plan = planDeploy(req, {
    lab: t.lab.spec,
    resolvePath: t.lab.resolvePath,
    labFileDir: dirname(t.lab.file),
    vmAddress: t.vmAddress,
    orchestratorUrl: t.orchestratorUrl,
    ...(t.caFingerprint && { caFingerprint: t.caFingerprint }),
    secrets: await readSecrets(t.paths.secrets),
    installed: Object.fromEntries(
      Object.entries(installed).map(([vm, d]) => [vm, { hostOwner: d.hostOwner, domain: d.domain }]),
    ),
  });
  const who = `${plan.deployment.domain}/${plan.deployment.hostOwner}`;
  await checkPassword(t.api, plan.deployment, plan.password);
  await checkNodeFree(t.admin, plan.deployment.vm, plan.deployment.hostOwner, plan.deployment.domain);
  const d = await withDataDir(t, plan.deployment);

  const lines: string[] = [];
  const before = installed[d.vm];
  const changed = !before || !sameDeployment(before, d);
  const install = t.paths.install(d.vm);
  if (changed) {
    // The same host owner with a different bundle (the lab file changed): replace it whole.
    if (before) await t.control.stopVm(d.vm);
    await writeDeployment(install, { ...d, installedAt: new Date().toISOString() }, plan.password);
    lines.push(`installed ${who} on ${d.vm} (${d.address}): ${install.manifest}`);
  } else {
    lines.push(`${who} is already installed on ${d.vm}`);
  }
  try {
    await t.control.startVm(d.vm);
    await waitForNodes(t.admin, [d.vm], (n) => n.status === 'connected', 30_000, 'connected', t.stopping);
  } catch (err) {
    if (changed) {
      // Nothing half-installed: what this call installed goes again (a replaced one too —
      // the VM is then empty, and the error says why).
      await t.control.stopVm(d.vm).catch(() => undefined);
      await removeDeployment(install);
    }
    throw err;
  }
  const workload = d.workload
    ? `service ${d.workload.module.split('/').pop()} ready`
    : 'no service (agent only)';
  lines.push(
    `agent registered: node ${d.vm} connected (owner ${d.hostOwner}, processors ${d.processors.join(',')})`,
    `${workload}${d.serve.length > 0 ? `; serves ${d.serve.join(' ')}` : ''}`,
    `done in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return {
    deployment: { ...d, installedAt: before?.installedAt ?? new Date().toISOString() },
    changed,
    lines,
  };
}

/** `{datadir}` in the service's environment, made only for a service that uses it. */
async function withDataDir(
  t: LabTarget,
  d: Omit<Deployment, 'installedAt'>,
): Promise<Omit<Deployment, 'installedAt'>> {
  const w = d.workload;
  if (!w || !Object.values(w.env).some((v) => v.includes('{datadir}'))) return d;
  const dir = await vmDataDir(t.paths, d.vm);
  const env = Object.fromEntries(Object.entries(w.env).map(([k, v]) => [k, v.replaceAll('{datadir}', dir)]));
  return { ...d, workload: { ...w, env } };
}

/** Each VM's current installation. */
export async function installedDeployments(
  t: Pick<LabTarget, 'paths' | 'lab'>,
): Promise<Record<string, Deployment>> {
  const out: Record<string, Deployment> = {};
  for (const vm of t.lab.spec.vms) {
    const d = await readDeployment(t.paths.install(vm.name));
    if (d) out[vm.name] = d;
  }
  return out;
}

function sameDeployment(a: Deployment, b: Omit<Deployment, 'installedAt'>): boolean {
  const { installedAt: _, ...rest } = a;
  return JSON.stringify(rest) === JSON.stringify(b);
}

/** A wrong password must fail here, with its reason, rather than as an agent crash-looping later. */
async function checkPassword(
  api: ApiClient,
  d: Omit<Deployment, 'installedAt'>,
  password: string,
): Promise<void> {
  try {
    await api.login(d.hostOwner, password, d.domain);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      throw new TrellisError(
        'TRELLIS_ERR_BAD_CREDENTIALS',
        `the orchestrator refused the password of ${d.domain}/${d.hostOwner} from the lab's secrets file`,
        { hint: 'reset it (the console or `trellis apply` with the secrets file) and deploy again' },
      );
    }
    throw err;
  }
}
