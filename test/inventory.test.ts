import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../src/inventory/inventory.js';
import { REPO_ROOT, trellis } from './support/cli.js';

/**
 * `trellis inventory --from aws|gcp|azure`, run as a user pipes it, and its output read by the
 * real `ansible-inventory` — the other half of "the same file works with Ansible and Trellis".
 */
const run = promisify(execFile);
const ANSIBLE = await run('ansible-inventory', ['--version']).then(
  () => true,
  () => false,
);
if (!ANSIBLE && process.env.CI === 'true')
  throw new Error('ansible-inventory is missing under CI=true: install ansible');

const fixture = (cloud: string) =>
  readFile(join(REPO_ROOT, 'test/fixtures/inventory', `${cloud}.json`), 'utf8');

interface AnsibleList {
  _meta: { hostvars: Record<string, Record<string, unknown>> };
  [group: string]: { hosts?: string[]; children?: string[] } | AnsibleList['_meta'];
}

async function ansibleList(file: string): Promise<AnsibleList> {
  const { stdout } = await run('ansible-inventory', ['-i', file, '--list'], {
    env: { ...process.env, ANSIBLE_INVENTORY_UNPARSED_FAILED: 'true', ANSIBLE_NOCOLOR: '1' },
  });
  return JSON.parse(stdout) as AnsibleList;
}

const EXPECTED = {
  aws: {
    hosts: {
      'aws-orch': '203.0.113.10',
      'aws-p1': '203.0.113.21',
      'aws-p2': '203.0.113.22',
      'aws-11': '203.0.113.111',
      'i-0b2d4f6a8c0e10113': '203.0.113.113',
    },
    groups: {
      orchestrator: ['aws-orch'],
      processors: ['aws-p1', 'aws-p2'],
      vms: ['aws-11', 'i-0b2d4f6a8c0e10113'],
    },
    processors: { 'aws-11': ['aws-p1', 'aws-p2'] },
    skipped: 'i-0b2d4f6a8c0e10112 (aws-12)',
  },
  gcp: {
    hosts: { 'gcp-p1': '198.51.100.31', 'gcp-11': '198.51.100.111' },
    groups: { processors: ['gcp-p1'], vms: ['gcp-11'] },
    processors: { 'gcp-11': ['gcp-p1', 'aws-p2'] },
    skipped: 'gcp-12',
  },
  azure: {
    hosts: { 'azr-p1': '192.0.2.41', 'azr-21': '192.0.2.121' },
    groups: { processors: ['azr-p1'], vms: ['azr-21'] },
    processors: { 'azr-21': ['azr-p1', 'aws-p1'] },
    skipped: 'azr-22',
  },
} as const;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trellis-inventory-'));
});

describe.each(['aws', 'gcp', 'azure'] as const)('trellis inventory --from %s', (cloud) => {
  it('pipes the CLI JSON into an inventory that ansible-inventory and loadInventory both read the same', async (ctx) => {
    const res = await trellis(['inventory', '--from', cloud, '--user', 'debian'], {
      env: process.env,
      input: await fixture(cloud),
    });
    expect(res.stderr).toContain(`warning: skipped ${EXPECTED[cloud].skipped}: no `);
    expect(res.code).toBe(0);
    const file = join(dir, `${cloud}.yaml`);
    await writeFile(file, res.stdout);

    const inv = await loadInventory(file);
    const want = EXPECTED[cloud];
    expect(Object.fromEntries(inv.hosts.map((h) => [h.name, h.address]))).toEqual(want.hosts);
    for (const [group, members] of Object.entries(want.groups))
      expect(inv.group(group).map((h) => h.name)).toEqual(members);
    expect(inv.group(cloud)).toHaveLength(Object.keys(want.hosts).length);
    for (const [vm, procs] of Object.entries(want.processors))
      expect(inv.host(vm)!.processors).toEqual(procs);
    expect(inv.hosts.every((h) => h.user === 'debian' && h.port === 22 && h.connection === 'ssh')).toBe(true);

    if (!ANSIBLE)
      return ctx.skip(
        'ansible-inventory not found: install ansible (Debian package `ansible`) to check the output with Ansible',
      );
    const list = await ansibleList(file);
    expect(Object.keys(list._meta.hostvars).sort()).toEqual(Object.keys(want.hosts).sort());
    for (const [host, address] of Object.entries(want.hosts)) {
      expect(list._meta.hostvars[host]).toMatchObject({ ansible_host: address, ansible_user: 'debian' });
      expect(list._meta.hostvars[host]!.trellis_processors).toEqual(inv.host(host)!.vars.trellis_processors);
    }
    for (const [group, members] of Object.entries(want.groups))
      expect((list[group] as { hosts: string[] }).hosts).toEqual(members);
  });
});

describe('trellis inventory: refusals', () => {
  it('--private lists hosts the public run skipped', async () => {
    const res = await trellis(
      ['inventory', '--from', 'aws', '--private', '-f', join(REPO_ROOT, 'test/fixtures/inventory/aws.json')],
      { env: process.env },
    );
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    const file = join(dir, 'aws-private.yaml');
    await writeFile(file, res.stdout);
    expect((await loadInventory(file)).host('aws-12')!.address).toBe('10.20.2.112');
  });

  it('names the position of input that is not JSON', async () => {
    const res = await trellis(['inventory', '--from', 'aws'], {
      env: process.env,
      input: '{"Reservations": [\n  oops\n]}',
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^error: stdin:2:3: not JSON: /);
    expect(res.stdout).toBe('');
  });

  it('names the missing field and the --from it expected when the JSON is of another CLI', async () => {
    const res = await trellis(
      ['inventory', '--from', 'azure', '-f', join(REPO_ROOT, 'test/fixtures/inventory/aws.json')],
      { env: process.env },
    );
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      'not the JSON of `az vm list -d -o json` (--from azure): the top level is a mapping, expected a list',
    );
  });

  it('names a missing -f file', async () => {
    const res = await trellis(['inventory', '--from', 'gcp', '-f', join(dir, 'nope.json')], {
      env: process.env,
    });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`error: -f ${join(dir, 'nope.json')}: no such file`);
  });

  it('refuses an unknown --from', async () => {
    const res = await trellis(['inventory', '--from', 'openstack'], { env: process.env });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('Allowed choices are aws, gcp, azure');
  });
});
