import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inventoryYaml } from './support/rig-inventory.js';

/** The rig's inventory writer (pure): what `trellis … --inventory` and Ansible will read. */
const hosts = [
  { name: 'orch', address: '10.203.0.10', root: '/r/orch' },
  { name: 'aws-p1', address: '10.203.0.11', root: '/r/aws-p1' },
  { name: 'spare', address: '10.203.0.12', root: '/r/spare' },
];
const conn = { sshKey: '/r/id_ed25519', knownHosts: '/r/known_hosts', controlPathDir: '/r/cp' };
type Inv = {
  all: {
    hosts?: Record<string, Record<string, unknown>>;
    children?: Record<string, { hosts: Record<string, Record<string, unknown>> }>;
  };
};

describe('the rig inventory', () => {
  it('writes every connection var where a host appears, extra vars over them, ungrouped hosts under all.hosts', () => {
    const inv = parse(
      inventoryYaml(
        hosts,
        conn,
        { orchestrator: ['orch'], processors: ['aws-p1'], everything: ['orch', 'aws-p1'] },
        {
          'aws-p1': { trellis_advertise: '10.203.0.99', ansible_user: 'trellis' },
        },
      ),
    ) as Inv;
    expect(inv.all.children!.orchestrator!.hosts.orch).toEqual({
      ansible_host: '10.203.0.10',
      ansible_user: 'root',
      ansible_ssh_private_key_file: '/r/id_ed25519',
      ansible_ssh_common_args: '-o UserKnownHostsFile=/r/known_hosts -o StrictHostKeyChecking=yes',
      ansible_control_path_dir: '/r/cp',
      ansible_python_interpreter: '/usr/bin/python3',
      trellis_root: '/r/orch',
    });
    expect(inv.all.children!.processors!.hosts['aws-p1']).toMatchObject({
      ansible_user: 'trellis',
      trellis_advertise: '10.203.0.99',
    });
    expect(inv.all.children!.everything!.hosts['aws-p1']).toEqual(
      inv.all.children!.processors!.hosts['aws-p1'],
    );
    expect(Object.keys(inv.all.hosts!)).toEqual(['spare']);
  });

  it("refuses groups or extra vars naming hosts the rig does not have, and Ansible's own groups", () => {
    expect(() => inventoryYaml(hosts, conn, { vms: ['gcp-11'] })).toThrow(
      /"gcp-11", which is not a rig host/,
    );
    expect(() => inventoryYaml(hosts, conn, {}, { nope: {} })).toThrow(/"nope", which is not a rig host/);
    expect(() => inventoryYaml(hosts, conn, { all: ['orch'] })).toThrow(/Ansible's own group/);
  });
});
