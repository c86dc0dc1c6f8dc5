import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { HostStatus } from '../src/host/host-status.js';
import type { EnrolmentTokenInfo, FabricNode } from '../src/model/index.js';
import { REPO_ROOT, TRELLIS_BIN } from './support/cli.js';
import { ansibleUnavailable, type Rig, rigUnavailable, shellQuote, startRig } from './support/rig.js';

/**
 * Issue 10, must show 4 (second half): `ansible-playbook -i inventory.yaml deploy/ansible/site.yml
 * --limit gcp-12` deploys voting-db through the rig — the real Ansible, run from the bastion as a
 * user would, against a fabric `trellis fabric up` made. The role does what `trellis deploy`
 * does: release copied, token minted on the controller, units built on the host by
 * `trellis host attach`, the node connected; a second run changes nothing and uses no token.
 */

const rigReason = await rigUnavailable();
const ansibleReason = rigReason ?? (await ansibleUnavailable());
const inCi = process.env.CI === 'true';
if (ansibleReason && !inCi) process.stderr.write(`skipping the Ansible role on the rig: ${ansibleReason}\n`);

const VOTING_APP = join(REPO_ROOT, 'examples', 'voting-app');
const SITE = join(REPO_ROOT, 'deploy', 'ansible', 'site.yml');
const VM = 'gcp-12';

/** The PLAY RECAP counters of one host. */
function recap(out: string, host: string): Record<string, number> {
  const line = out.split('\n').find((l) => l.startsWith(`${host} `) && l.includes('ok='));
  if (!line) throw new Error(`no PLAY RECAP line for ${host} in:\n${out}`);
  return Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

/** Every regular file under dir (releases left out: the code, not the host's state). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'releases') out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe.skipIf(ansibleReason !== undefined && !inCi)('the Ansible role (deploy/ansible) on the rig', () => {
  let rig: Rig;
  let inventory: string;
  let env: NodeJS.ProcessEnv;
  let ansibleEnv: NodeJS.ProcessEnv;

  const cli = async (args: string[]) => {
    const r = await rig.exec('bastion', [process.execPath, TRELLIS_BIN, ...args], {
      env,
      timeoutMs: 600_000,
    });
    expect(r.code, `trellis ${args.join(' ')}\n${r.stderr}${r.stdout}`).toBe(0);
    return r.stdout;
  };
  const playbook = async () => {
    const t0 = Date.now();
    const r = await rig.exec(
      'bastion',
      [
        'ansible-playbook',
        '-i',
        inventory,
        SITE,
        '--limit',
        VM,
        // JSON: `-e k=v` would split the command line at its spaces.
        '-e',
        JSON.stringify({
          trellis_app: join(VOTING_APP, 'app.yaml'),
          trellis_cli: `${shellQuote(process.execPath)} ${shellQuote(TRELLIS_BIN)}`,
        }),
      ],
      { env: ansibleEnv, timeoutMs: 600_000 },
    );
    const ms = Date.now() - t0;
    expect(r.code, `ansible-playbook exited ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
    return { out: r.stdout, ms };
  };
  const tokens = async () => JSON.parse(await cli(['get', 'tokens', '-o', 'json'])) as EnrolmentTokenInfo[];
  /** `trellis host status` on the VM itself, over ssh. */
  const hostStatus = async () => {
    const root = rig.host(VM).root;
    const r = await rig.ssh(
      VM,
      `${shellQuote(`${root}/bin/trellis`)} host status --root ${shellQuote(root)} -o json`,
    );
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as HostStatus;
  };
  /** Whether a TCP connect to address:port from inside `host`'s namespace succeeds. */
  const connects = async (host: string, address: string, port: number) => {
    const code = `const s=require('net').connect(${port},${JSON.stringify(address)});s.setTimeout(3000,()=>process.exit(2));s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1))`;
    return (await rig.exec(host, [process.execPath, '-e', code], { timeoutMs: 20_000 })).code === 0;
  };

  beforeAll(async () => {
    if (ansibleReason) throw new Error(`CI=true but the Ansible role cannot be tested: ${ansibleReason}`);
    rig = await startRig({ hosts: ['orch', 'gcp-p1', VM] });
    inventory = await rig.writeInventory(
      { orchestrator: ['orch'], processors: ['gcp-p1'], vms: [VM] },
      { [VM]: { trellis_hostowner: 'voting-db', trellis_processors: ['gcp-p1'] } },
    );
    env = { TRELLIS_HOME: join(rig.dir, 'controller'), PATH: process.env.PATH ?? '/usr/bin:/bin' };
    ansibleEnv = {
      ...env,
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_HOST_KEY_CHECKING: 'True',
      ANSIBLE_PIPELINING: 'True', // the module (and the token on its stdin) never lands on the VM's disk
      ANSIBLE_SSH_RETRIES: '0',
      ANSIBLE_LOCAL_TEMP: join(rig.dir, 'ansible-tmp'),
      ANSIBLE_REMOTE_TEMP: join(rig.dir, 'ansible-remote-tmp'),
      ANSIBLE_RETRY_FILES_ENABLED: 'False',
    };
    const up = await cli(['fabric', 'up', '--inventory', inventory, '-f', join(VOTING_APP, 'fabric.yaml')]);
    expect(up).toContain('fabric up in');
  }, 300_000);

  afterAll(async () => {
    if (!rig) return;
    await rig
      .exec('bastion', [process.execPath, TRELLIS_BIN, 'fabric', 'down', '--inventory', inventory], { env })
      .catch(() => undefined);
    await rig.close();
  }, 180_000);

  it('ansible-playbook site.yml --limit gcp-12 deploys voting-db: node connected, service on loopback only', async () => {
    const tokensBefore = (await tokens()).length;
    const { out, ms } = await playbook();
    // eslint-disable-next-line no-console
    console.log(`ansible-playbook site.yml --limit ${VM}: ${(ms / 1000).toFixed(1)} s`);
    expect(recap(out, VM)).toMatchObject({ failed: 0, unreachable: 0 });
    expect(recap(out, VM).changed).toBeGreaterThan(0);
    expect(out).toContain(`installed voting-app/voting-db on ${VM}: `);
    expect(out).toContain(`agent registered: node ${VM} connected (owner voting-db, processors gcp-p1)`);
    expect(out).toContain('service ready; serves voting-backend=127.0.0.1:6379 voting-worker=127.0.0.1:6379');

    const node = (JSON.parse(await cli(['get', 'nodes', '-o', 'json'])) as FabricNode[]).find(
      (n) => n.name === VM,
    );
    expect(node).toMatchObject({
      status: 'connected',
      owner: 'voting-db',
      domain: 'voting-app',
      processors: ['gcp-p1'],
    });
    // One one-use token, bound to this VM, used.
    const minted = (await tokens()).slice(tokensBefore);
    expect(minted).toHaveLength(1);
    expect(minted[0]).toMatchObject({ owner: 'voting-db', vm: VM, uses: 1, maxUses: 1 });

    const st = await hostStatus();
    const running = st.units.filter((u) => u.pid !== null).map((u) => u.name);
    expect(running).toEqual(expect.arrayContaining([`agent-${VM}`, `workload-${VM}`]));
    expect(st.units.find((u) => u.name === `agent-${VM}`)!.labels).toMatchObject({
      hostOwner: 'voting-db',
      domain: 'voting-app',
    });

    // Served services bind loopback: the VM itself reaches voting-db, the network does not.
    expect(await connects(VM, '127.0.0.1', 6379)).toBe(true);
    expect(await connects('bastion', rig.host(VM).address, 6379)).toBe(false);

    // The token file is 0600, and no resource user's password is anywhere on the VM.
    const root = rig.host(VM).root;
    expect((await stat(join(root, 'secrets', `agent-${VM}.token`))).mode & 0o777).toBe(0o600);
    const passwords = Object.values(
      parse(await readFile(join(rig.dir, 'controller', 'secrets.yaml'), 'utf8')) as Record<string, unknown>,
    ).flatMap((v) => (typeof v === 'string' ? [v] : Object.values(v as Record<string, string>)));
    expect(passwords.length).toBeGreaterThan(0);
    for (const f of await filesUnder(root)) {
      const text = await readFile(f, 'utf8');
      for (const p of passwords) expect(text.includes(String(p)), `${f} holds a password`).toBe(false);
    }
  }, 600_000);

  it('a second run changes nothing and mints no token', async () => {
    const before = await tokens();
    const pids = (await hostStatus()).units.map((u) => [u.name, u.pid]);
    const { out, ms } = await playbook();
    // eslint-disable-next-line no-console
    console.log(`ansible-playbook site.yml --limit ${VM} again: ${(ms / 1000).toFixed(1)} s`);
    expect(recap(out, VM)).toMatchObject({ changed: 0, failed: 0 });
    expect(out).toContain(`voting-app/voting-db is already installed on ${VM}`);
    expect(await tokens()).toEqual(before);
    expect((await hostStatus()).units.map((u) => [u.name, u.pid])).toEqual(pids);
  }, 600_000);
});
