import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { FabricNode } from '../src/model/index.js';
import { type CliResult, cliEnv, REPO_ROOT, trellis } from './support/cli.js';
import { logTails } from './support/lab-logs.js';
import { until } from './support/wait.js';

/**
 * Issue 10: `trellis deploy --inventory` works against a running lab too, for any app file and
 * any VM the inventory names — here the Getaway App (a front door, news-gw on two VMs, a Python
 * places-gw) deployed into the running hello lab onto VMs the lab file never described, through
 * local-connection hosts: the same deploy code as over SSH.
 */

const NET = '127.0.121';
const VMS = '127.0.122';
const HELLO = join(REPO_ROOT, 'examples', 'hello');
const GETAWAY = join(REPO_ROOT, 'examples', 'getaway-app');
const EXTRA: [vm: string, owner: string, processor: string, octet: number][] = [
  ['gw-front', 'getaway-proxy', 'aws-p1', 1],
  ['gw-news-a', 'news-gw', 'aws-p1', 2],
  ['gw-news-b', 'news-gw', 'gcp-p1', 3],
  ['gw-weather', 'weather-gw', 'gcp-p1', 4],
  ['gw-places', 'places-gw', 'gcp-p1', 5],
];

describe('deploy --inventory into the running lab (local connection)', () => {
  let env: NodeJS.ProcessEnv;
  let home: string;
  let inventory: string;
  const cli = (...args: string[]): Promise<CliResult> => trellis(args, { env });
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    expect(r.code, `trellis ${args.join(' ')}\n${r.stderr}${r.stdout}${await logTails(home)}`).toBe(0);
    return r.stdout;
  };
  const get = async (url: string) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
  };

  beforeAll(async () => {
    env = await cliEnv();
    home = env.TRELLIS_HOME!;
    const spec = YAML.parse(await readFile(join(HELLO, 'lab.yaml'), 'utf8'));
    spec.fabric = join(HELLO, spec.fabric);
    spec.orchestrator = { address: `${NET}.1`, port: 7420 };
    spec.processors.forEach((p: { address?: string }, i: number) => {
      p.address = `${NET}.${11 + i}`;
    });
    spec.apps = spec.apps.map((a: string) => join(HELLO, a));
    spec.vms.forEach((vm: { address?: string }, i: number) => {
      vm.address = `${NET}.${21 + i}`;
    });
    const labFile = join(home, 'hello-lab.yaml');
    await writeFile(labFile, YAML.stringify(spec));
    const up = await cli('lab', 'up', '-f', labFile, '--detach');
    expect(up.code, up.stderr + up.stdout + (await logTails(home))).toBe(0);

    // The extra VMs: hosts on this machine (their own loopback address and trellis_root).
    const hosts = Object.fromEntries(
      EXTRA.map(([vm, , processor, octet]) => [
        vm,
        {
          ansible_connection: 'local',
          ansible_host: `${VMS}.${octet}`,
          trellis_root: join(home, 'hosts', vm),
          trellis_processors: [processor],
        },
      ]),
    );
    await mkdir(join(home, 'hosts'), { recursive: true });
    inventory = join(home, 'inventory.yaml');
    await writeFile(inventory, YAML.stringify({ all: { children: { vms: { hosts } } } }));
  }, 180_000);

  afterAll(async () => {
    if (!home) return;
    await cli('purge', '--inventory', inventory, '--domain', 'getaway-app');
    const down = await cli('lab', 'down');
    expect(down.code, down.stderr).toBe(0);
    const hostsRoot = await readFile(join(home, 'lab', 'data-dir'), 'utf8').catch(() => '');
    await rm(home, { recursive: true, force: true });
    if (hostsRoot.trim()) await rm(hostsRoot.trim(), { recursive: true, force: true });
  }, 120_000);

  it('the Getaway App goes onto VMs the lab file never named, and answers through the lab fabric', async () => {
    await ok('apply', '-f', join(GETAWAY, 'fabric.yaml'));
    for (const [vm, owner] of EXTRA) {
      const out = await ok(
        'deploy',
        '--inventory',
        inventory,
        '--app',
        join(GETAWAY, 'app.yaml'),
        `--hostowner=${owner}`,
        `--virtualmachine=${vm}`,
      );
      expect(out).toContain(`node ${vm} connected`);
    }
    const front = `http://${VMS}.1:8100`;
    const seen = new Set<string>();
    await until(
      'both news-gw instances to answer',
      async () => {
        const r = await get(`${front}/news`);
        if (r.status === 200) seen.add((JSON.parse(r.body) as { vm: string }).vm);
        return seen.size === 2 ? true : undefined;
      },
      30_000,
    );
    expect([...seen].sort()).toEqual(['gw-news-a', 'gw-news-b']);
    // Deployed last: the front door's agent learns of it with its next bundle.
    const places = await until(
      'places-gw to answer',
      async () => {
        const r = await get(`${front}/places`);
        return r.status === 200 ? r : undefined;
      },
      30_000,
    );
    expect(JSON.parse(places.body)).toEqual({ gateway: 'places-gw', vm: 'gw-places' });
    // The lab's own hello app is untouched.
    expect((await get(`http://${NET}.21:8001/`)).body).toContain('Hello from');
  }, 240_000);

  it('purge --inventory --domain getaway-app: its nodes disconnect, the lab keeps running', async () => {
    const out = await ok('purge', '--inventory', inventory, '--domain', 'getaway-app');
    expect(out).toContain(`${EXTRA.length} node(s) disconnected`);
    const nodes = JSON.parse(await ok('get', 'nodes', '-o', 'json')) as FabricNode[];
    for (const [vm] of EXTRA) expect(nodes.find((n) => n.name === vm)?.status).toBe('disconnected');
    expect(nodes.find((n) => n.name === 'aws-vm1')?.status).toBe('connected');
    const status = JSON.parse(
      await readFile(join(home, 'hosts', 'gw-front', 'run', 'status.json'), 'utf8').catch(
        () => '{"units":[]}',
      ),
    );
    expect(status.units ?? []).toEqual([]);
  }, 120_000);
});
