import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { FabricSpec } from '../apply/fabric-file.js';
import type { TrellisError } from '../errors.js';
import { Name } from '../model/index.js';
import { parseSpecText, readSpecFile, type SpecProblem } from '../spec-file.js';

/**
 * The schema of a lab file (`trellis lab up -f lab.yaml`): which processors and VMs of a
 * fabric run on this machine, each on its own loopback address, and what runs on each VM.
 * Objects are strict so a misspelt key is an error rather than a silently ignored setting.
 */

export const LAB_API_VERSION = 'trellis/v1';

/** 127.0.0.0/8 works on Linux without configuring anything; nothing else would. */
export const LoopbackAddress = z
  .string()
  .refine(isLoopbackHost, 'must be a loopback IPv4 address 127.x.y.z (z from 1 to 254)');

export function isLoopbackHost(s: string): boolean {
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return false;
  const [x, y, z] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return x <= 255 && y <= 255 && z >= 1 && z <= 254;
}

export const Port = z.number().int().min(1).max(65535);

/** `CONTRACT=HOST:PORT`; HOST may be `{address}`, the VM's own address. */
const SERVE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?=[^\s=]+:\d{1,5}$/;

export const WorkloadSpec = z.strictObject({
  /** A Node module, relative to the lab file (e.g. ../dist/hello/src/service1.js). */
  module: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Values may use `{address}` (the VM's address) and `{datadir}` (a directory for its data). */
  env: z.record(z.string(), z.string()).default({}),
});

export const RunSpec = z.strictObject({
  hostOwner: Name,
  domain: Name,
  serve: z.array(z.string().regex(SERVE, 'must read CONTRACT=HOST:PORT')).default([]),
  workload: WorkloadSpec.optional(),
  /** Published by `lab status` as http://ADDRESS:PORT/. */
  expose: z
    .strictObject({
      name: Name,
      port: Port,
      /** More named URLs on the same port, e.g. { vote: /voting/vote }, also shown by `lab status`. */
      paths: z.record(Name, z.string().regex(/^\//, 'must start with /')).default({}),
    })
    .optional(),
});
export type RunSpec = z.infer<typeof RunSpec>;

export const LabProcessorSpec = z.strictObject({
  name: Name,
  address: LoopbackAddress.optional(),
  // Every processor has its own address, so they can all use the same port.
  port: Port.default(7500),
});

export const LabVmSpec = z.strictObject({
  name: Name,
  address: LoopbackAddress.optional(),
  processors: z.array(Name).min(1),
  run: RunSpec.optional(),
});
export type LabVmSpec = z.infer<typeof LabVmSpec>;

const LabShape = z.strictObject({
  apiVersion: z.literal(LAB_API_VERSION),
  kind: z.literal('Lab'),
  /** Applied once the orchestrator is up; relative to the lab file. */
  fabric: z.string().min(1),
  /**
   * App files (`kind: App`, relative to the lab file) saying what runs for each host owner; a
   * VM's `run` names its host owner and domain, and deploy takes the service from these. A `run`
   * may instead describe its workload inline (the older form, still read).
   */
  apps: z.array(z.string().min(1)).default([]),
  /** The account the processors log in as; its password comes from the lab's secrets file. */
  switchOwner: z.strictObject({ domain: Name, name: Name }).default({ domain: 'infra', name: 'fabric-ops' }),
  orchestrator: z
    .strictObject({ address: LoopbackAddress.default('127.0.0.1'), port: Port.default(7420) })
    .default({ address: '127.0.0.1', port: 7420 }),
  processors: z.array(LabProcessorSpec).min(1),
  vms: z.array(LabVmSpec).default([]),
});
export type LabSpec = z.infer<typeof LabShape>;

export const LabSpec = LabShape.superRefine((spec, ctx) => {
  for (const p of checkLabSpec(spec)) ctx.addIssue({ code: 'custom', message: p.message, path: p.path });
});

export type LabProblem = SpecProblem;

/** The inventory hostname the lab gives its orchestrator's host (see lab-inventory.ts). */
export const LAB_ORCHESTRATOR_HOST = 'orchestrator';
const RESERVED = `"${LAB_ORCHESTRATOR_HOST}" is the name of the lab's orchestrator host`;

/** What one lab file can check on its own: unique names, VMs attached to the lab's processors. */
export function checkLabSpec(spec: LabSpec): LabProblem[] {
  const problems: LabProblem[] = [];
  const processors = new Set<string>();
  spec.processors.forEach((p, i) => {
    if (p.name === LAB_ORCHESTRATOR_HOST)
      problems.push({ path: ['processors', i, 'name'], message: RESERVED });
    if (processors.has(p.name))
      problems.push({ path: ['processors', i, 'name'], message: `duplicate processor "${p.name}"` });
    processors.add(p.name);
  });
  const vms = new Set<string>();
  const exposed = new Set<string>();
  spec.vms.forEach((vm, i) => {
    if (vm.name === LAB_ORCHESTRATOR_HOST) problems.push({ path: ['vms', i, 'name'], message: RESERVED });
    if (vms.has(vm.name)) problems.push({ path: ['vms', i, 'name'], message: `duplicate vm "${vm.name}"` });
    vms.add(vm.name);
    vm.processors.forEach((p, j) => {
      if (!processors.has(p))
        problems.push({ path: ['vms', i, 'processors', j], message: `not a processor of this lab: "${p}"` });
    });
    const name = vm.run?.expose?.name;
    if (name !== undefined && exposed.has(name))
      problems.push({ path: ['vms', i, 'run', 'expose', 'name'], message: `duplicate url name "${name}"` });
    if (name !== undefined) exposed.add(name);
  });
  return problems;
}

/**
 * The checks that need the fabric file: the lab can only run processors the fabric declares,
 * and agents and processors log in as users whose passwords `apply` puts in the secrets file.
 */
export function checkLabAgainstFabric(lab: LabSpec, fabric: FabricSpec): LabProblem[] {
  const problems: LabProblem[] = [];
  const declared =
    fabric.processors === undefined ? undefined : new Set(fabric.processors.map((p) => p.name));
  lab.processors.forEach((p, i) => {
    if (declared !== undefined && !declared.has(p.name))
      problems.push({
        path: ['processors', i, 'name'],
        message: `"${p.name}" is not declared in the fabric file`,
      });
  });
  const users = (domain: string, kind: 'hostOwners' | 'switchOwners') =>
    new Set(fabric.domains.find((d) => d.name === domain)?.[kind] ?? []);
  const so = lab.switchOwner;
  if (!users(so.domain, 'switchOwners').has(so.name))
    problems.push({
      path: ['switchOwner'],
      message: `${so.domain}/${so.name} is not a switch owner in the fabric file`,
    });
  lab.vms.forEach((vm, i) => {
    if (vm.run && !users(vm.run.domain, 'hostOwners').has(vm.run.hostOwner))
      problems.push({
        path: ['vms', i, 'run', 'hostOwner'],
        message: `${vm.run.domain}/${vm.run.hostOwner} is not a host owner in the fabric file`,
      });
  });
  return problems;
}

export interface LoadedLab {
  spec: LabSpec;
  /** Absolute path of the lab file. */
  file: string;
  /** Absolute path of the fabric file it names. */
  fabricFile: string;
  /** A path written in the lab file, made absolute against the lab file's directory. */
  resolvePath(p: string): string;
  /** `lab.yaml:12: vms[0].name: …` for a problem found later (e.g. against the fabric). */
  problemError(problems: LabProblem[]): TrellisError;
}

export async function loadLabFile(path: string): Promise<LoadedLab> {
  const { file, text } = await readSpecFile(path, LAB_HINT);
  return parseLabText(text, file);
}

const LAB_HINT = 'see docs/lab.md for the lab file format';

/** Pure: YAML text → checked lab spec, or an error naming file, line and field. */
export function parseLabText(text: string, file: string): LoadedLab {
  const parsed = parseSpecText(text, file, LabSpec, LAB_HINT);
  const dir = dirname(file);
  return {
    spec: parsed.spec,
    file,
    fabricFile: resolve(dir, parsed.spec.fabric),
    resolvePath: (p) => resolve(dir, p),
    problemError: parsed.problemError,
  };
}
