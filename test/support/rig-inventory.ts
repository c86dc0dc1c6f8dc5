import { stringify } from 'yaml';

/**
 * The Ansible YAML inventory of a rig (pure): every host with the connection vars Ansible
 * and `trellis … --inventory` both read, grouped as asked. A host's vars are written where
 * it appears in a group (every time, so any one appearance is complete); hosts in no group
 * go under `all.hosts`.
 */

export interface InventoryHost {
  name: string;
  address: string;
  root: string;
}

export interface InventoryConnection {
  sshKey: string;
  knownHosts: string;
  /** Ansible's ControlMaster sockets: per run, since every rig reuses the same addresses. */
  controlPathDir: string;
}

type Vars = Record<string, unknown>;

export function hostVars(h: InventoryHost, c: InventoryConnection, extra: Vars = {}): Vars {
  return {
    ansible_host: h.address,
    ansible_user: 'root',
    ansible_ssh_private_key_file: c.sshKey,
    ansible_ssh_common_args: `-o UserKnownHostsFile=${c.knownHosts} -o StrictHostKeyChecking=yes`,
    ansible_control_path_dir: c.controlPathDir,
    // Debian's python, not whatever a login PATH would find first.
    ansible_python_interpreter: '/usr/bin/python3',
    trellis_root: h.root,
    ...extra,
  };
}

export function inventoryYaml(
  hosts: InventoryHost[],
  c: InventoryConnection,
  groups: Record<string, string[]>,
  extraHostVars: Record<string, Vars> = {},
): string {
  const byName = new Map(hosts.map((h) => [h.name, h]));
  for (const name of Object.keys(extraHostVars)) {
    if (!byName.has(name)) throw new Error(`extraHostVars names "${name}", which is not a rig host`);
  }
  const vars = (name: string): Vars => hostVars(byName.get(name)!, c, extraHostVars[name]);
  const grouped = new Set<string>();
  const children: Record<string, { hosts: Record<string, Vars> }> = {};
  for (const [group, members] of Object.entries(groups)) {
    if (group === 'all' || group === 'ungrouped') throw new Error(`"${group}" is Ansible's own group`);
    const entries: Record<string, Vars> = {};
    for (const name of members) {
      if (!byName.has(name)) throw new Error(`group "${group}" names "${name}", which is not a rig host`);
      entries[name] = vars(name);
      grouped.add(name);
    }
    children[group] = { hosts: entries };
  }
  const all: { hosts?: Record<string, Vars>; children?: typeof children } = {};
  const loose = hosts.filter((h) => !grouped.has(h.name));
  if (loose.length > 0) all.hosts = Object.fromEntries(loose.map((h) => [h.name, vars(h.name)]));
  if (Object.keys(children).length > 0) all.children = children;
  return stringify({ all }, { aliasDuplicateObjects: false });
}
