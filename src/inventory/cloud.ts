import type { z } from 'zod';
import { TrellisError } from '../errors.js';
import { formatFieldPath } from '../field-path.js';
import { Name } from '../model/names.js';
import type { InventorySpec } from './render.js';

/**
 * What the three cloud converters share: the host they extract from a CLI's JSON, the
 * `trellis-*` tags that place it, and the inventory built from the hosts. See docs/inventory.md.
 */

export const CLOUDS = ['aws', 'gcp', 'azure'] as const;
export type Cloud = (typeof CLOUDS)[number];

/** The command whose JSON output each `--from` reads; named in every message about its shape. */
export const CLOUD_COMMANDS: Record<Cloud, string> = {
  aws: 'aws ec2 describe-instances --output json',
  gcp: 'gcloud compute instances list --format=json',
  azure: 'az vm list -d -o json',
};

/** The inventory groups issue 10 defines, in the order they are written. */
export const ROLE_GROUPS = ['orchestrator', 'processors', 'vms'] as const;
export type RoleGroup = (typeof ROLE_GROUPS)[number];

/** Tag (AWS, Azure) / label (GCP) values of `trellis-role`, and the group each puts a host in. */
const ROLE_VALUES: Record<string, RoleGroup> = {
  orchestrator: 'orchestrator',
  processor: 'processors',
  vm: 'vms',
};

export interface CloudHost {
  /** Inventory hostname: `trellis-name` tag, else the cloud's name, else its id. */
  name: string;
  /** How messages name the instance: its id, and its name when it has one. */
  label: string;
  /** `ansible_host`: the public or private address, by `--private`. */
  address: string;
  group: RoleGroup;
  /** `trellis-processors` tag/metadata, preferred first. */
  processors: string[];
}

export interface Conversion {
  hosts: CloudHost[];
  /** One line each, for stderr: instances left out and why. */
  warnings: string[];
}

export interface ConvertOptions {
  /** Use private addresses as `ansible_host` (from a bastion inside the network). */
  private: boolean;
}

/** The CLI output checked against the fields a converter reads, or an error naming the field. */
export function parseCloudJson<T>(schema: z.ZodType<T>, data: unknown, cloud: Cloud, source: string): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
  const field = path.length === 0 ? 'the top level' : formatFieldPath(path);
  const found = valueAt(data, path);
  const what =
    found === undefined
      ? 'is missing'
      : issue.code === 'invalid_type'
        ? `is ${kindOf(found)}, expected ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`
        : `is wrong: ${issue.message}`;
  throw new TrellisError(
    'TRELLIS_ERR_VALIDATION',
    `${source}: not the JSON of \`${CLOUD_COMMANDS[cloud]}\` (--from ${cloud}): ${field} ${what}`,
    { field, hint: `pipe in the output of \`${CLOUD_COMMANDS[cloud]}\`, or choose the --from that made it` },
  );
}

function valueAt(data: unknown, path: (string | number)[]): unknown {
  let v = data;
  for (const seg of path)
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
  return v;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
}

/** `trellis-role` → group; a host without the tag is a VM; a misspelt role is an error. */
export function roleGroupOf(value: string | undefined, label: string, where: string): RoleGroup {
  if (value === undefined || value === '') return 'vms';
  const group = ROLE_VALUES[value.trim().toLowerCase()];
  if (group !== undefined) return group;
  throw new TrellisError(
    'TRELLIS_ERR_VALIDATION',
    `${label}: ${where} trellis-role is "${value}"; expected orchestrator, processor or vm`,
    { hint: 'fix the tag, or remove it to make the host a VM' },
  );
}

/** `"aws-p1, aws-p2"` → ['aws-p1', 'aws-p2']. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * The inventory for the converted hosts: each under its role group (vars there), and all of a
 * cloud's hosts also in a group named after the cloud (`--limit aws`). Hostnames become
 * processor and node names, so they must be Trellis names, and unique.
 */
export function inventoryOf(
  cloud: Cloud,
  conversion: Conversion,
  opts: { user?: string; private: boolean; madeAt: Date },
): InventorySpec {
  const hosts = conversion.hosts;
  const bad = hosts.filter((h) => !Name.safeParse(h.name).success);
  if (bad.length > 0)
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `not valid inventory hostnames for Trellis: ${bad.map((h) => `"${h.name}" (${h.label})`).join(', ')}`,
      {
        hint: 'a hostname becomes a processor or node name: lowercase letters, digits and "-", at most 63; set a trellis-name tag (GCP: label) on the instance to choose one',
      },
    );
  const seen = new Map<string, CloudHost[]>();
  for (const h of hosts) seen.set(h.name, [...(seen.get(h.name) ?? []), h]);
  const dups = [...seen.entries()].filter(([, hs]) => hs.length > 1);
  if (dups.length > 0)
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `duplicate hostnames: ${dups.map(([n, hs]) => `"${n}" (${hs.map((h) => h.label).join(', ')})`).join('; ')}`,
      { hint: 'give each instance its own name, or a trellis-name tag (GCP: label)' },
    );
  const orchestrators = hosts.filter((h) => h.group === 'orchestrator');
  if (orchestrators.length > 1)
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `more than one host has trellis-role orchestrator: ${orchestrators.map((h) => h.label).join(', ')}`,
      { hint: 'the orchestrator group holds one host' },
    );

  const groups: InventorySpec['groups'] = [];
  for (const role of ROLE_GROUPS) {
    const members = hosts.filter((h) => h.group === role);
    if (members.length === 0) continue;
    groups.push({
      name: role,
      hosts: members.map((h) => {
        const vars: Record<string, unknown> = { ansible_host: h.address };
        if (h.processors.length > 0) vars.trellis_processors = h.processors;
        return [h.name, vars];
      }),
    });
  }
  if (hosts.length > 0) groups.push({ name: cloud, hosts: hosts.map((h) => [h.name, {}]) });
  const flags = `--from ${cloud}${opts.private ? ' --private' : ''}${opts.user === undefined ? '' : ` --user ${opts.user}`}`;
  return {
    header: [
      `Ansible inventory made by \`trellis inventory ${flags}\` on ${opts.madeAt.toISOString()}`,
      `from the JSON of \`${CLOUD_COMMANDS[cloud]}\`: running instances, ${opts.private ? 'private' : 'public'} addresses.`,
      'Read by `trellis fabric up|deploy|purge --inventory` and by `ansible-playbook -i`; see docs/inventory.md.',
    ],
    vars: opts.user === undefined ? {} : { ansible_user: opts.user },
    groups,
  };
}
