import { Document } from 'yaml';

/**
 * Writes an Ansible YAML inventory: `all:` with its vars and one child group per role or cloud.
 * The text is YAML 1.1-safe: PyYAML, which Ansible uses, reads `yes`, `on`, `0755` and `1:30`
 * differently from YAML 1.2, so strings that look like those are quoted.
 */
export interface InventorySpec {
  /** Comment lines at the top (without `# `): how and when the file was made. */
  header: string[];
  /** Variables of `all`, e.g. `ansible_user` from `--user`. */
  vars: Record<string, unknown>;
  /** Children of `all`, in this order; a host may be in several, its vars given where it is first. */
  groups: InventoryGroupSpec[];
}

export interface InventoryGroupSpec {
  name: string;
  /** Host name → its variables ({} renders as a bare `name:`). */
  hosts: [string, Record<string, unknown>][];
}

export function renderInventory(spec: InventorySpec): string {
  const children: Record<string, unknown> = {};
  for (const g of spec.groups) {
    const hosts: Record<string, unknown> = {};
    for (const [name, vars] of g.hosts) hosts[name] = Object.keys(vars).length === 0 ? null : vars;
    children[g.name] = { hosts };
  }
  const all: Record<string, unknown> = {};
  if (Object.keys(spec.vars).length > 0) all.vars = spec.vars;
  if (spec.groups.length > 0) all.children = children;
  // The 1.1 schema quotes every string PyYAML would read as something else (`yes`, `010`, `1:30`).
  const doc = new Document({ all }, { version: '1.1' });
  doc.commentBefore = spec.header.map((l) => ` ${l}`).join('\n');
  // null as an empty value (`aws-11:`), the way inventories are written by hand.
  return doc.toString({ nullStr: '', lineWidth: 0 });
}
