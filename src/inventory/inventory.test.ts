import { mkdtemp, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InventoryError, loadInventory, parseInventory } from './inventory.js';

const FILE = '/srv/inv/inventory.yaml';

function parse(text: string) {
  return parseInventory(text, FILE);
}

/** The InventoryError `text` raises; fails the test when it parses. */
function errorOf(text: string): InventoryError {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(InventoryError);
    return err as InventoryError;
  }
  throw new Error('expected the inventory to be refused');
}

const TABLE6 = `
all:
  vars:
    ansible_user: trellis
  children:
    orchestrator:
      hosts:
        orch:
          ansible_host: 203.0.113.10
    processors:
      hosts:
        aws-p1: { ansible_host: 203.0.113.21 }
        aws-p2: { ansible_host: 203.0.113.22, trellis_advertise: 10.1.0.22 }
    vms:
      vars:
        trellis_root: /srv/trellis
      hosts:
        aws-11:
          ansible_host: 10.0.0.11
          ansible_port: 2222
          trellis_processors: [aws-p1, aws-p2]
        gcp-11:
          ansible_host: 10.0.0.12
          trellis_processors: "gcp-p1, aws-p2"
`;

describe('parseInventory: the issue-10 inventory', () => {
  it('reads hosts, groups, connection defaults and Trellis vars', () => {
    const inv = parse(TABLE6);
    expect(inv.hosts.map((h) => h.name)).toEqual(['orch', 'aws-p1', 'aws-p2', 'aws-11', 'gcp-11']);
    expect(inv.group('processors').map((h) => h.name)).toEqual(['aws-p1', 'aws-p2']);
    expect(inv.group('orchestrator').map((h) => h.name)).toEqual(['orch']);
    expect(inv.group('all')).toHaveLength(5);
    expect(inv.group('nope')).toEqual([]);
    const vm = inv.host('aws-11')!;
    expect(vm).toMatchObject({
      name: 'aws-11',
      groups: ['vms'],
      connection: 'ssh',
      address: '10.0.0.11',
      port: 2222,
      user: 'trellis',
      sshArgs: [],
      root: '/srv/trellis',
      advertise: '10.0.0.11',
      processors: ['aws-p1', 'aws-p2'],
    });
    expect(vm.privateKeyFile).toBeUndefined();
    expect(inv.host('gcp-11')!.processors).toEqual(['gcp-p1', 'aws-p2']);
    expect(inv.host('gcp-11')!.port).toBe(22);
    const p2 = inv.host('aws-p2')!;
    expect(p2).toMatchObject({
      address: '203.0.113.22',
      advertise: '10.1.0.22',
      root: '/opt/trellis',
      processors: [],
    });
    expect(inv.host('nope')).toBeUndefined();
  });

  it('defaults the address to the hostname and reads a local connection only when said', () => {
    const inv = parse('vms:\n  hosts:\n    localhost:\n    here:\n      ansible_connection: local\n');
    expect(inv.host('localhost')).toMatchObject({ address: 'localhost', connection: 'ssh' });
    expect(inv.host('here')).toMatchObject({ address: 'here', connection: 'local' });
  });

  it('accepts a top level without all:, making each key a group under all', () => {
    const inv = parse('processors:\n  hosts:\n    p1:\nvms:\n  hosts:\n    v1:\n');
    expect(inv.host('p1')!.groups).toEqual(['processors']);
    expect(inv.group('all').map((h) => h.name)).toEqual(['p1', 'v1']);
  });

  it('puts hosts of no group but all into ungrouped, as Ansible does', () => {
    expect(parse('all:\n  hosts:\n    lone:\n').host('lone')!.groups).toEqual(['ungrouped']);
  });

  it('lists every group a host is in, parents through children included', () => {
    const inv = parse(`
all:
  children:
    aws:
      children:
        aws_vms:
          hosts: { aws-11: }
    vms:
      children:
        aws_vms:
      hosts:
        gcp-11:
`);
    expect(inv.host('aws-11')!.groups).toEqual(['aws', 'aws_vms', 'vms']);
    expect(inv.host('gcp-11')!.groups).toEqual(['vms']);
    expect(inv.group('vms').map((h) => h.name)).toEqual(['aws-11', 'gcp-11']);
  });

  it('makes the key file absolute: relative to the inventory directory, ~ expanded', () => {
    const inv = parse(`
vms:
  hosts:
    a: { ansible_ssh_private_key_file: keys/id_ed25519 }
    b: { ansible_ssh_private_key_file: ~/.ssh/id_ed25519 }
    c: { ansible_ssh_private_key_file: /etc/trellis/key }
    d: { ansible_private_key_file: ../k }
`);
    expect(inv.host('a')!.privateKeyFile).toBe('/srv/inv/keys/id_ed25519');
    expect(inv.host('b')!.privateKeyFile).toBe(join(homedir(), '.ssh/id_ed25519'));
    expect(inv.host('c')!.privateKeyFile).toBe('/etc/trellis/key');
    expect(inv.host('d')!.privateKeyFile).toBe('/srv/k');
  });

  it('splits ssh args shell-like, common args before extra args', () => {
    const inv = parse(`
vms:
  vars:
    ansible_ssh_common_args: "-o 'ProxyCommand=ssh -W %h:%p bastion' -o StrictHostKeyChecking=yes"
  hosts:
    a:
      ansible_ssh_extra_args: -o "UserKnownHostsFile=/tmp/known hosts"
`);
    expect(inv.host('a')!.sshArgs).toEqual([
      '-o',
      'ProxyCommand=ssh -W %h:%p bastion',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'UserKnownHostsFile=/tmp/known hosts',
    ]);
  });

  it('expands host patterns and host:port keys as Ansible does', () => {
    const inv = parse('vms:\n  hosts:\n    web[01:03]:\n    db-[a:b]:2200:\n');
    expect(inv.hosts.map((h) => h.name)).toEqual(['web01', 'web02', 'web03', 'db-a', 'db-b']);
    expect(inv.host('db-b')!.port).toBe(2200);
    expect(inv.host('web02')!.port).toBe(22);
  });

  it('reads YAML 1.1 as Ansible (PyYAML) does: yes is a boolean; anchors and merge keys resolve', () => {
    const inv = parse(`
vms:
  vars: &base
    become: yes
    trellis_root: /srv/t
  hosts:
    a:
      <<: *base
      ansible_host: 10.0.0.1
    b: *base
`);
    expect(inv.host('a')!.vars).toMatchObject({
      become: true,
      trellis_root: '/srv/t',
      ansible_host: '10.0.0.1',
    });
    expect(inv.host('a')!.vars).not.toHaveProperty('<<');
    // PyYAML's booleans, not the yaml package's 1.1 ones: `y` stays a string.
    expect(parse('g:\n  hosts:\n    y: { n: y, v: off }\n').host('y')!.vars).toEqual({ n: 'y', v: false });
    expect(inv.host('b')!.root).toBe('/srv/t');
  });

  it('accepts a port written as a string, and hosts: with a single name', () => {
    const inv = parse('vms:\n  hosts: solo\nother:\n  hosts:\n    p: { ansible_port: "2022" }\n');
    expect(inv.host('solo')!.groups).toEqual(['vms']);
    expect(inv.host('p')!.port).toBe(2022);
  });

  it("accepts the Ansible role's variables (deploy/ansible), so one inventory drives both", () => {
    const inv = parse(
      'all:\n  vars:\n    trellis_cli: "{{ playbook_dir }}/trellis"\n  children:\n    vms:\n      hosts:\n        gcp-12:\n          trellis_hostowner: voting-db\n          trellis_app: app.yaml\n          trellis_domain: voting-app\n          trellis_processors: [gcp-p1]\n',
    );
    expect(inv.host('gcp-12')!.vars).toMatchObject({
      trellis_hostowner: 'voting-db',
      trellis_domain: 'voting-app',
    });
  });
});

describe('parseInventory: variable precedence (Ansible: all < parent < child < host)', () => {
  it('child group beats parent group beats all; host vars beat every group', () => {
    const inv = parse(`
all:
  vars: { level: all, only_all: 1 }
  children:
    parent:
      vars: { level: parent, only_parent: 1 }
      children:
        child:
          vars: { level: child }
          hosts:
            h1:
            h2: { level: host }
`);
    expect(inv.host('h1')!.vars).toEqual({ level: 'child', only_all: 1, only_parent: 1 });
    expect(inv.host('h2')!.vars.level).toBe('host');
  });

  it('the deeper group wins whatever the file order', () => {
    const inv = parse(`
child:
  vars: { v: child }
  hosts: { h: }
parent:
  vars: { v: parent }
  children:
    child:
`);
    expect(inv.host('h')!.vars.v).toBe('child');
  });

  it('groups at the same depth merge alphabetically, the later name winning', () => {
    const inv = parse(`
zeta:
  vars: { v: zeta }
  hosts: { h: }
alpha:
  vars: { v: alpha }
  hosts: { h: }
`);
    expect(inv.host('h')!.vars.v).toBe('zeta');
  });

  it('ansible_group_priority reorders groups of the same depth', () => {
    const inv = parse(`
zeta:
  vars: { v: zeta }
  hosts: { h: }
alpha:
  vars: { v: alpha, ansible_group_priority: 10 }
  hosts: { h: }
`);
    expect(inv.host('h')!.vars.v).toBe('alpha');
    expect(inv.host('h')!.vars).not.toHaveProperty('ansible_group_priority');
  });

  it('depth is the longest path from all', () => {
    // b is a child of both all (top level) and a: its depth is 2, so it beats c (depth 1).
    const inv = parse(`
a:
  children: { b: }
b:
  vars: { v: b }
  hosts: { h: }
c:
  vars: { v: c }
  hosts: { h: }
`);
    expect(inv.host('h')!.vars.v).toBe('b');
  });

  it('a host listed twice keeps both entries, the later value of a variable winning', () => {
    const inv = parse(`
g1:
  hosts:
    h: { x: 1, y: 1 }
g2:
  hosts:
    h: { y: 2 }
`);
    expect(inv.host('h')!.vars).toEqual({ x: 1, y: 2 });
    expect(inv.host('h')!.groups).toEqual(['g1', 'g2']);
  });

  it('trellis_processors and trellis_root can come from a group; the host overrides', () => {
    const inv = parse(`
vms:
  vars: { trellis_processors: [p1, p2], trellis_root: /srv/a }
  hosts:
    v1:
    v2: { trellis_processors: p3 }
`);
    expect(inv.host('v1')!).toMatchObject({ processors: ['p1', 'p2'], root: '/srv/a' });
    expect(inv.host('v2')!.processors).toEqual(['p3']);
  });
});

describe('parseInventory: refusals name the file and line', () => {
  const cases: [string, string, number | undefined, RegExp][] = [
    ['not a mapping', '- a\n- b\n', 1, /must be a mapping of group names/],
    ['a scalar (an INI file without sections)', 'host1 ansible_host=1.2.3.4\n', 1, /must be a mapping/],
    ['empty', '# nothing\n', undefined, /empty/],
    [
      'host with non-mapping vars',
      'vms:\n  hosts:\n    a: [1, 2]\n',
      3,
      /host "a" in group "vms": its variables must be a mapping/,
    ],
    ['host with scalar vars', 'vms:\n  hosts:\n    a: 10.0.0.1\n', 3, /its variables must be a mapping/],
    [
      'port 0',
      'vms:\n  hosts:\n    a:\n      ansible_port: 0\n',
      4,
      /host "a": ansible_port must be a port number from 1 to 65535/,
    ],
    [
      'port 65536',
      'vms:\n  vars:\n    ansible_port: 65536\n',
      3,
      /group "vms" vars: ansible_port must be a port/,
    ],
    ['port text', 'vms:\n  hosts:\n    a: { ansible_port: ssh }\n', 3, /ansible_port must be a port/],
    [
      'connection winrm',
      'vms:\n  hosts:\n    a:\n      ansible_connection: winrm\n',
      4,
      /ansible_connection must be "ssh" or "local".*"winrm"/,
    ],
    [
      'trellis_port 0',
      'vms:\n  hosts:\n    a: { trellis_port: 0 }\n',
      3,
      /trellis_port must be a port number/,
    ],
    [
      'trellis_release rsync',
      'vms:\n  hosts:\n    a: { trellis_release: rsync }\n',
      3,
      /trellis_release must be "copy" or "link", not "rsync"/,
    ],
    [
      'trellis_service_manager runit',
      'all:\n  vars: { trellis_service_manager: runit }\n',
      2,
      /trellis_service_manager must be "auto", "systemd" or "supervise", not "runit"/,
    ],
    [
      'misspelt trellis var',
      'vms:\n  hosts:\n    a:\n      trellis_procesors: [p1]\n',
      4,
      /trellis_procesors is not a Trellis variable \(known: trellis_advertise, trellis_processors, trellis_root, [a-z_, ]+\); did you mean trellis_processors\?/,
    ],
    [
      "misspelt Ansible role's var",
      'vms:\n  hosts:\n    a:\n      trellis_hostonwer: voting-db\n',
      4,
      /trellis_hostonwer is not a Trellis variable .*did you mean trellis_hostowner\?/,
    ],
    [
      'unknown trellis var in group vars',
      'vms:\n  vars:\n    trellis_colour: red\n',
      3,
      /trellis_colour is not a Trellis variable/,
    ],
    [
      'processors a mapping',
      'vms:\n  hosts:\n    a:\n      trellis_processors: { p1: 1 }\n',
      4,
      /trellis_processors must be a list of processor names or a comma-separated string/,
    ],
    [
      'processors a number list',
      'vms:\n  hosts:\n    a:\n      trellis_processors: [1, 2]\n',
      4,
      /trellis_processors must be a list/,
    ],
    [
      'relative trellis_root',
      'vms:\n  hosts:\n    a: { trellis_root: opt/trellis }\n',
      3,
      /trellis_root must be an absolute path/,
    ],
    [
      'templated ansible_host',
      "vms:\n  hosts:\n    a: { ansible_host: '{{ ip }}' }\n",
      3,
      /ansible_host is a Jinja template/,
    ],
    [
      'duplicate host key',
      'vms:\n  hosts:\n    a: {}\n    b: {}\n    a: {}\n',
      5,
      /YAML: Map keys must be unique/,
    ],
    ['duplicate group key', 'vms:\n  hosts: {}\nvms:\n  hosts: {}\n', 3, /YAML: Map keys must be unique/],
    [
      'unknown group key',
      'vms:\n  host:\n    a:\n',
      2,
      /group "vms": unknown key "host" \(a group has hosts, vars, children\)/,
    ],
    ['group not a mapping', 'vms: [a, b]\n', 1, /group "vms" must be a mapping/],
    [
      'children loop',
      'a:\n  children:\n    b:\n      children:\n        a:\n',
      5,
      /group "a" is its own ancestor/,
    ],
    [
      'unterminated quote in ssh args',
      'vms:\n  hosts:\n    a: { ansible_ssh_common_args: "-o \'x" }\n',
      3,
      /ansible_ssh_common_args cannot be split into ssh arguments: unterminated single quote/,
    ],
    [
      'a host named like a boolean',
      'vms:\n  hosts:\n    on:\n',
      3,
      /a host named "on" is read by YAML \(and Ansible\) as a boolean; quote the name/,
    ],
    [
      'bad range',
      'vms:\n  hosts:\n    web[3:1]:\n',
      3,
      /host pattern "web\[3:1\]": range \[3:1\] ends before it begins/,
    ],
    ['YAML syntax', 'vms:\n  hosts:\n    a: {b: 1\n', undefined, /YAML:/],
  ];
  for (const [what, text, line, message] of cases)
    it(`refuses ${what}`, () => {
      const err = errorOf(text);
      expect(err.code).toBe('TRELLIS_ERR_VALIDATION');
      expect(err.message).toMatch(message);
      if (line !== undefined) {
        expect(err.line).toBe(line);
        expect(err.message.startsWith(`${FILE}:${line}: `)).toBe(true);
      }
      expect(err.hint).toBeDefined();
    });

  it('refuses an INI inventory, saying only YAML inventories are read and how to convert', () => {
    const err = errorOf('# made by hand\n\n[vms]\naws-11 ansible_host=10.0.0.11\n');
    expect(err.message).toBe(`${FILE}:3: this is an INI inventory; Trellis reads only YAML inventories`);
    expect(err.hint).toContain('ansible-inventory -i FILE --list --yaml');
  });
});

describe('loadInventory', () => {
  it('reads a file and resolves key paths against its directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trellis-inv-'));
    const file = join(dir, 'inventory.yaml');
    await writeFile(file, 'vms:\n  hosts:\n    a: { ansible_ssh_private_key_file: id_ed25519 }\n');
    const inv = await loadInventory(file);
    expect(inv.file).toBe(file);
    expect(inv.host('a')!.privateKeyFile).toBe(join(dir, 'id_ed25519'));
  });

  it('names a missing file', async () => {
    await expect(loadInventory('/nonexistent/inventory.yaml')).rejects.toThrow(
      '/nonexistent/inventory.yaml: cannot read the inventory: no such file',
    );
  });
});
