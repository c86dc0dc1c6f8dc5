import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import {
  isAlias,
  isMap,
  isScalar,
  LineCounter,
  type Node,
  type Pair,
  parseDocument,
  type ScalarTag,
  type Tags,
  type YAMLMap,
} from 'yaml';
import { TrellisError } from '../errors.js';
import { expandHostPattern } from './host-pattern.js';
import { splitShellWords } from './shell-words.js';
import {
  checkVar,
  DEFAULT_SSH_PORT,
  DEFAULT_TRELLIS_ROOT,
  HOST_VARS,
  KEY_VARS,
  PORT_VARS,
  portOf,
  processorsOf,
  SSH_ARGS_VARS,
  USER_VARS,
} from './vars.js';

/**
 * The Ansible YAML inventory Trellis deploys from: the same file `ansible-playbook -i` reads, read
 * the way Ansible reads it (groups, `children`, host patterns, variable precedence), so the two
 * never disagree on which host is where. See docs/inventory.md.
 */

export interface InventoryHost {
  /** The inventory hostname (a processor's name, a VM's name). */
  name: string;
  /** Every group the host is in, parents through `children` included; 'all' excluded. */
  groups: string[];
  /** `ansible_connection`: 'local' only when the inventory says so. */
  connection: 'ssh' | 'local';
  /** `ansible_host`, default the hostname. */
  address: string;
  /** `ansible_port`, default 22. */
  port: number;
  /** `ansible_user`; unset means ssh's own default. */
  user?: string;
  /** `ansible_ssh_private_key_file`, absolute: `~` expanded, relative to the inventory's directory. */
  privateKeyFile?: string;
  /** `ansible_ssh_common_args` then `ansible_ssh_extra_args`, split into argv words. */
  sshArgs: string[];
  /** `trellis_root`, default /opt/trellis. */
  root: string;
  /** `trellis_advertise`, default `address`: the address peers use to reach this host. */
  advertise: string;
  /** `trellis_processors`, preferred first. */
  processors: string[];
  /** Every variable of the host after precedence, Ansible's and the user's included. */
  vars: Record<string, unknown>;
}

export interface Inventory {
  /** The path as given, used in messages. */
  file: string;
  /** In the order they first appear in the file. */
  hosts: InventoryHost[];
  host(name: string): InventoryHost | undefined;
  /** The hosts in a group or any of its children; `all` is every host; [] for an unknown group. */
  group(name: string): InventoryHost[];
}

/** An inventory that cannot be used; `.message` is `FILE:LINE: what is wrong`. */
export class InventoryError extends TrellisError {
  readonly file: string;
  readonly line: number | undefined;
  readonly reason: string;

  constructor(file: string, line: number | undefined, reason: string, hint?: string) {
    super('TRELLIS_ERR_VALIDATION', `${line === undefined ? file : `${file}:${line}`}: ${reason}`, {
      hint: hint ?? 'see docs/inventory.md for the inventory format Trellis reads',
    });
    this.name = 'InventoryError';
    this.file = file;
    this.line = line;
    this.reason = reason;
  }
}

export async function loadInventory(file: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new InventoryError(file, undefined, `cannot read the inventory: ${reason}`);
  }
  return parseInventory(text, file);
}

interface VarDef {
  value: unknown;
}

interface Group {
  name: string;
  vars: Map<string, VarDef>;
  parents: Set<string>;
  children: Set<string>;
  /** Hosts listed directly under this group's `hosts:`. */
  hosts: Set<string>;
}

interface HostEntry {
  vars: Map<string, VarDef>;
}

const GROUP_KEYS = ['hosts', 'vars', 'children'];

/** Pure: inventory text → hosts with their variables resolved, or an InventoryError at a line. */
export function parseInventory(text: string, file: string): Inventory {
  const lines = new LineCounter();
  const lineOf = (node: Node | Pair['key'] | null | undefined): number | undefined => {
    const start = (node as Node | null | undefined)?.range?.[0];
    return start === undefined ? undefined : lines.linePos(start).line;
  };
  const fail = (node: Node | Pair['key'] | null | undefined, reason: string, hint?: string): never => {
    throw new InventoryError(file, lineOf(node), reason, hint);
  };

  const ini = iniSectionLine(text);
  if (ini !== undefined)
    throw new InventoryError(
      file,
      ini,
      'this is an INI inventory; Trellis reads only YAML inventories',
      'convert it with `ansible-inventory -i FILE --list --yaml > inventory.yaml` (Ansible reads both)',
    );

  // uniqueKeys (the default) makes a repeated key an error: Ansible would silently keep the last.
  const doc = parseDocument(text, {
    lineCounter: lines,
    prettyErrors: false,
    version: '1.1',
    customTags: pyyamlBooleans,
  });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined)
    throw new InventoryError(file, lines.linePos(yamlError.pos[0]).line, `YAML: ${yamlError.message}`);
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === '')))
    fail(root, 'the inventory is empty; it needs at least one group (e.g. `all:` with `hosts:`)');
  if (!isMap(root))
    fail(
      root,
      'an inventory must be a mapping of group names (e.g. `all:`, `vms:`) to groups',
      'Trellis reads only YAML inventories; convert an INI one with `ansible-inventory -i FILE --list --yaml`',
    );

  const groups = new Map<string, Group>();
  const hosts = new Map<string, HostEntry>();
  const groupOf = (name: string): Group => {
    let g = groups.get(name);
    if (g === undefined) {
      g = { name, vars: new Map(), parents: new Set(), children: new Set(), hosts: new Set() };
      groups.set(name, g);
    }
    return g;
  };
  groupOf('all');

  const keyName = (pair: Pair, what: string): string => {
    const key = pair.key as Node | null;
    if (isScalar(key) && typeof key.value === 'boolean')
      return fail(
        key,
        `${what} named "${key.source}" is read by YAML (and Ansible) as a boolean; quote the name`,
      );
    if (
      !isScalar(key) ||
      (typeof key.value !== 'string' && typeof key.value !== 'number') ||
      String(key.value).trim() === ''
    )
      return fail(key ?? (pair.value as Node), `${what} must be a non-empty name`);
    return String(key.value);
  };

  // `<<: *base` and `*alias` nodes stand for what they point at, as in Ansible.
  const deref = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node) ?? null;

  const readVars = (into: Map<string, VarDef>, raw: unknown, where: string): void => {
    const node = deref(raw);
    if (node === null || (isScalar(node) && node.value === null)) return;
    if (!isMap(node)) return fail(node as Node, `${where} must be a mapping of variable names to values`);
    // toJS applies YAML merge keys (`<<: *defaults`); each variable is then located by its own key.
    const values = (node as YAMLMap).toJS(doc) as Record<string, unknown>;
    for (const pair of (node as YAMLMap).items)
      if (!(isScalar(pair.key) && typeof pair.key.value === 'symbol')) keyName(pair, 'a variable');
    for (const [name, value] of Object.entries(values)) {
      const pair = (node as YAMLMap).items.find((p) => isScalar(p.key) && String(p.key.value) === name);
      const problem = checkVar(name, value);
      if (problem !== undefined)
        fail((pair?.key as Node | undefined) ?? (node as Node), `${where}: ${name} ${problem}`);
      into.set(name, { value: value ?? null });
    }
  };

  const readHosts = (group: Group, raw: unknown): void => {
    const node = deref(raw);
    if (node === null || (isScalar(node) && node.value === null)) return;
    // `hosts: web1` (one host, no colon) is accepted by Ansible; so here too.
    if (isScalar(node) && typeof node.value === 'string') return addHost(group, node, node.value, null);
    if (!isMap(node))
      return fail(
        node as Node,
        `group "${group.name}": hosts must be a mapping of host names to their variables`,
      );
    for (const pair of (node as YAMLMap).items)
      addHost(group, pair.key as Node, keyName(pair, 'a host'), pair.value);
  };

  const addHost = (group: Group, keyNode: Node, key: string, raw: unknown): void => {
    const value = deref(raw);
    const expanded = expandHostPattern(key);
    if ('error' in expanded) return fail(keyNode, `group "${group.name}": ${expanded.error}`);
    if (value !== null && !(isScalar(value) && value.value === null) && !isMap(value))
      return fail(
        (value as Node | undefined) ?? keyNode,
        `host "${key}" in group "${group.name}": its variables must be a mapping (name: value), or nothing`,
      );
    const vars = new Map<string, VarDef>();
    readVars(vars, value, `host "${key}"`);
    for (const h of expanded.hosts) {
      let entry = hosts.get(h.name);
      if (entry === undefined) {
        entry = { vars: new Map() };
        hosts.set(h.name, entry);
      }
      // A host listed in several groups: later variables win, key by key, as in Ansible.
      for (const [k, v] of vars) entry.vars.set(k, v);
      if (h.port !== undefined) entry.vars.set('ansible_port', { value: h.port });
      group.hosts.add(h.name);
    }
  };

  const readGroup = (name: string, raw: unknown, parent: Group | undefined, nameNode: Node): void => {
    const node = deref(raw);
    const group = groupOf(name);
    if (parent !== undefined && name !== 'all') {
      if (name === parent.name || ancestorsOf(groups, parent.name).has(name))
        fail(nameNode, `group "${name}" is its own ancestor through children (a loop)`);
      parent.children.add(name);
      group.parents.add(parent.name);
    }
    if (node === null || (isScalar(node) && node.value === null)) return;
    if (!isMap(node))
      return fail(node as Node, `group "${name}" must be a mapping with hosts, vars and/or children`);
    for (const pair of (node as YAMLMap).items) {
      const key = keyName(pair, 'a group key');
      if (!GROUP_KEYS.includes(key))
        fail(
          pair.key as Node,
          `group "${name}": unknown key "${key}" (a group has hosts, vars, children)`,
          'hosts go under `hosts:`, e.g. `vms: {hosts: {aws-11: {ansible_host: 10.0.0.5}}}`',
        );
      if (key === 'hosts') readHosts(group, pair.value);
      else if (key === 'vars') readVars(group.vars, pair.value, `group "${name}" vars`);
      else {
        const children = deref(pair.value);
        if (children === null || (isScalar(children) && children.value === null)) continue;
        if (!isMap(children))
          fail(children as Node, `group "${name}": children must be a mapping of group names`);
        for (const child of (children as YAMLMap).items)
          readGroup(keyName(child, 'a group'), child.value, group, child.key as Node);
      }
    }
  };

  // Every top-level key is a group; those other than `all` are children of `all`, as in Ansible.
  for (const pair of (root as YAMLMap).items) {
    const name = keyName(pair, 'a group');
    readGroup(name, pair.value, name === 'all' ? undefined : groups.get('all'), pair.key as Node);
  }

  const depth = depthsOf(groups);
  const inventoryDir = dirname(resolve(file));
  const resolved: InventoryHost[] = [];
  for (const [name, entry] of hosts) {
    const member = new Set<string>();
    for (const g of groups.values())
      if (g.hosts.has(name)) for (const a of [g.name, ...ancestorsOf(groups, g.name)]) member.add(a);
    member.add('all');
    // Ansible puts a host that is in no group but `all` into `ungrouped`.
    if (member.size === 1) member.add('ungrouped');
    const vars = mergeVars(
      [...member].map((g) => groups.get(g) ?? groupOf(g)),
      depth,
      entry.vars,
    );
    resolved.push(toHost(name, [...member].filter((g) => g !== 'all').sort(), vars, inventoryDir));
  }

  const byName = new Map(resolved.map((h) => [h.name, h]));
  return {
    file,
    hosts: resolved,
    host: (name) => byName.get(name),
    group: (name) => (name === 'all' ? [...resolved] : resolved.filter((h) => h.groups.includes(name))),
  };
}

/**
 * Ansible's order: groups by depth (all first), then `ansible_group_priority` (default 1), then
 * name; later wins; host variables last of all. Values are replaced, never deep-merged (Ansible's
 * default `hash_behaviour = replace`).
 */
function mergeVars(
  member: Group[],
  depth: Map<string, number>,
  hostVars: Map<string, VarDef>,
): Record<string, unknown> {
  const priority = (g: Group): number => Number(g.vars.get('ansible_group_priority')?.value ?? 1);
  const ordered = [...member].sort(
    (a, b) =>
      (depth.get(a.name) ?? 1) - (depth.get(b.name) ?? 1) ||
      priority(a) - priority(b) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const out: Record<string, unknown> = {};
  for (const g of ordered) for (const [k, v] of g.vars) out[k] = v.value;
  for (const [k, v] of hostVars) out[k] = v.value;
  delete out.ansible_group_priority;
  return out;
}

function toHost(
  name: string,
  groups: string[],
  vars: Record<string, unknown>,
  inventoryDir: string,
): InventoryHost {
  const first = (names: readonly string[]): unknown => names.map((n) => vars[n]).find((v) => v !== undefined);
  const address = (first(HOST_VARS) as string | undefined) ?? name;
  const user = first(USER_VARS) as string | undefined;
  const key = first(KEY_VARS) as string | undefined;
  const sshArgs = SSH_ARGS_VARS.flatMap((n) => {
    const v = vars[n];
    if (typeof v !== 'string') return [];
    const split = splitShellWords(v);
    return 'words' in split ? split.words : [];
  });
  const host: InventoryHost = {
    name,
    groups,
    connection: vars.ansible_connection === 'local' ? 'local' : 'ssh',
    address,
    port: portOf(first(PORT_VARS)) ?? DEFAULT_SSH_PORT,
    sshArgs,
    root: (vars.trellis_root as string | undefined) ?? DEFAULT_TRELLIS_ROOT,
    advertise: (vars.trellis_advertise as string | undefined) ?? address,
    processors: processorsOf(vars.trellis_processors) ?? [],
    vars,
  };
  if (user !== undefined) host.user = user;
  if (key !== undefined) host.privateKeyFile = absoluteKeyPath(key, inventoryDir);
  return host;
}

/**
 * `~` and `~/…` are the user's home, as for ssh; a relative path is taken from the inventory's
 * directory, so the inventory means the same wherever Trellis is run from (Ansible takes it from
 * the working directory; docs/inventory.md advises absolute or `~/` paths for that reason).
 */
function absoluteKeyPath(path: string, inventoryDir: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return resolve(inventoryDir, path);
}

/** Every group above `name` through `children`. */
function ancestorsOf(groups: Map<string, Group>, name: string): Set<string> {
  const out = new Set<string>();
  const stack = [...(groups.get(name)?.parents ?? [])];
  while (stack.length > 0) {
    const g = stack.pop()!;
    if (out.has(g)) continue;
    out.add(g);
    stack.push(...(groups.get(g)?.parents ?? []));
  }
  return out;
}

/** A group's depth is its longest path from `all` (Ansible's `Group.depth`); `all` is 0. */
function depthsOf(groups: Map<string, Group>): Map<string, number> {
  const depth = new Map<string, number>();
  const visit = (name: string): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const parents = [...(groups.get(name)?.parents ?? [])];
    const d = name === 'all' ? 0 : parents.length === 0 ? 1 : Math.max(...parents.map(visit)) + 1;
    depth.set(name, d);
    return d;
  };
  for (const name of groups.keys()) visit(name);
  return depth;
}

/**
 * YAML 1.1 as PyYAML reads it for Ansible: `yes`/`no`/`on`/`off` are booleans there, so here too.
 * The yaml package's 1.1 schema also takes `y` and `n` as booleans, which PyYAML does not (a
 * host or variable named `y` would silently change meaning), so its two bool tags are replaced.
 */
function pyyamlBooleans(tags: Tags): Tags {
  const bool = (value: boolean, test: RegExp): ScalarTag => ({
    tag: 'tag:yaml.org,2002:bool',
    default: true,
    test,
    resolve: () => value,
    stringify: ({ value: v }) => (v ? 'true' : 'false'),
  });
  return [
    ...tags.filter((t) => !(typeof t === 'object' && t.tag === 'tag:yaml.org,2002:bool')),
    bool(true, /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/),
    bool(false, /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/),
  ];
}

/** The line of an INI section header (`[vms]`, `[vms:vars]`) before any YAML, if the file is INI. */
function iniSectionLine(text: string): number | undefined {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    return /^\[[^\]\s,]+\]$/.test(line) ? i + 1 : undefined;
  }
  return undefined;
}
