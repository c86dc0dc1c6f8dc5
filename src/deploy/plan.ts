import { TrellisError } from '../errors.js';
import { withAddress } from '../lab/addresses.js';
import type { LabSpec } from '../lab/lab-file.js';
import type { Deployment } from './manifest.js';

/**
 * Pure: what `trellis deploy --hostowner=H --virtualmachine=V` would install, or the error
 * that says why it cannot — decided before anything is written, so a refused deploy leaves
 * nothing half-installed.
 */

export interface DeployRequest {
  hostOwner: string;
  vm: string;
  /** Only needed when the same host owner name exists in several domains. */
  domain?: string;
}

export interface DeployInputs {
  lab: LabSpec;
  /** A path written in the lab file, made absolute. */
  resolvePath(p: string): string;
  labFileDir: string;
  vmAddress(vm: string): string | undefined;
  orchestratorUrl: string;
  caFingerprint?: string;
  /** The lab's secrets file: `domain/user` → password. */
  secrets: Record<string, string>;
  /** What each VM has installed now. */
  installed: Record<string, { hostOwner: string; domain: string }>;
}

export type DeployPlan = { deployment: Omit<Deployment, 'installedAt'>; password: string };

export function planDeploy(req: DeployRequest, inp: DeployInputs): DeployPlan {
  const vm = inp.lab.vms.find((v) => v.name === req.vm);
  if (!vm) {
    throw new TrellisError(
      'TRELLIS_ERR_NOT_FOUND',
      `no virtual machine "${req.vm}" in the lab (it has ${list(inp.lab.vms.map((v) => v.name))})`,
      { hint: 'the lab file (`trellis lab status` names it) declares the VMs' },
    );
  }

  const domain = hostOwnerDomain(req, inp.secrets);
  const key = `${domain}/${req.hostOwner}`;

  const current = inp.installed[req.vm];
  if (current && (current.hostOwner !== req.hostOwner || current.domain !== domain)) {
    throw new TrellisError(
      'TRELLIS_ERR_CONFLICT',
      `virtual machine "${req.vm}" already runs host owner "${current.hostOwner}" (domain ${current.domain})`,
      { hint: `one host owner per VM: \`trellis purge --domain ${current.domain}\` frees it` },
    );
  }

  // The service a host owner runs is described once in the lab file, under the VM the seed's
  // table puts it on; deploying it elsewhere re-addresses it to the target VM.
  const service = inp.lab.vms
    .map((v) => v.run)
    .find((r) => r !== undefined && r.hostOwner === req.hostOwner && r.domain === domain);
  if (!service) {
    throw new TrellisError(
      'TRELLIS_ERR_NOT_FOUND',
      `the lab file describes no service for host owner "${key}" (no vms[].run with hostOwner: ${req.hostOwner})`,
      { hint: 'add a `run:` entry for it to the lab file (see docs/lab.md)' },
    );
  }

  const address = inp.vmAddress(vm.name)!;
  const w = service.workload;
  return {
    password: inp.secrets[key]!,
    deployment: {
      apiVersion: 'trellis/v1',
      kind: 'Deployment',
      hostOwner: req.hostOwner,
      domain,
      vm: vm.name,
      address,
      processors: vm.processors,
      orchestrator: inp.orchestratorUrl,
      ...(inp.caFingerprint && { caFingerprint: inp.caFingerprint }),
      serve: service.serve.map((s) => withAddress(s, address)),
      workload: w
        ? {
            module: inp.resolvePath(w.module),
            args: w.args,
            // `{datadir}` stays: deploy makes that directory only for a service that uses it.
            env: Object.fromEntries(Object.entries(w.env).map(([k, v]) => [k, withAddress(v, address)])),
            cwd: inp.labFileDir,
          }
        : null,
      exposedPort: service.expose?.port ?? null,
    },
  };
}

/** The host owner's domain, from the secrets file that `apply` filled. */
function hostOwnerDomain(req: DeployRequest, secrets: Record<string, string>): string {
  const domains = Object.keys(secrets)
    .filter((k) => k.slice(k.indexOf('/') + 1) === req.hostOwner)
    .map((k) => k.slice(0, k.indexOf('/')));
  if (req.domain !== undefined) {
    if (!domains.includes(req.domain)) {
      throw new TrellisError(
        'TRELLIS_ERR_NOT_FOUND',
        `no host owner "${req.hostOwner}" in domain "${req.domain}" in the lab's secrets file`,
        { hint: domains.length > 0 ? `it exists in ${list(domains)}` : knownHint(secrets) },
      );
    }
    return req.domain;
  }
  if (domains.length === 0) {
    throw new TrellisError(
      'TRELLIS_ERR_NOT_FOUND',
      `no host owner "${req.hostOwner}" in the lab's secrets file`,
      { hint: knownHint(secrets) },
    );
  }
  if (domains.length > 1) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `host owner "${req.hostOwner}" exists in several domains (${list(domains)})`,
      { hint: 'say which with --domain' },
    );
  }
  return domains[0]!;
}

function knownHint(secrets: Record<string, string>): string {
  return `known users: ${list(Object.keys(secrets))}; host owners are declared in the fabric file`;
}

function list(names: string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}
