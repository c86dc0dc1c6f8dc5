import { existsSync } from 'node:fs';
import { mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ApiClient } from '../../src/api-client/client.js';
import { pinnedFetch } from '../../src/api-client/trust.js';
import { labPaths } from '../../src/lab/state.js';
import type { FlowTableReport } from '../../src/model/flow-table.js';
import type { FabricNode } from '../../src/model/index.js';
import {
  CHROMIUM_HINT,
  cyNode,
  launchBrowser,
  nav,
  openNodeOverlay,
  readTable,
  runConsoleTests,
  SHOTS,
  type TestBrowser,
} from '../support/browser.js';
import { type CliResult, cliEnv, REPO_ROOT, trellis } from '../support/cli.js';
import { logTails } from '../support/lab-logs.js';
import { until } from '../support/wait.js';
import { fiftyVotersTenChange } from './e2e-scenario.js';
import { Browser } from './http-client.js';

/**
 * The seed's tutorial end to end, as a user runs it: the Voting App lab started with
 * `trellis lab up --detach` (the lab file of examples/voting-app, moved to addresses of its own
 * so a developer's `npm run demo` can keep running), the six services deployed by the lab
 * through `trellis deploy`, votes through the fabric, the transit edit, the console in a real
 * browser, `trellis purge` and the deletes. Real Redis and Postgres when installed (the lab's
 * voting-db and result-db pick them up), else the embedded stores.
 */

const NET = '127.0.14';
const ORCHESTRATOR = `${NET}.1`;
const PROCESSORS = ['aws-p1', 'aws-p2', 'gcp-p1', 'azr-p1'];
/** The seed's Table 6: VM → host owner. */
const TABLE6: Record<string, string> = {
  'aws-11': 'http-proxy',
  'aws-12': 'worker',
  'gcp-11': 'voting-svc',
  'gcp-12': 'voting-db',
  'azr-11': 'result-svc',
  'azr-12': 'result-db',
};
const EXAMPLE = join(REPO_ROOT, 'examples', 'voting-app');
const TRANSIT_CLIENT = { role: 'server', contract: 'voting-frontend', transit: 'aws-p2' };
const TRANSIT_SERVER = { role: 'client', contract: 'voting-frontend', transit: 'aws-p2' };

/** examples/voting-app/lab.yaml with its own addresses, and paths made absolute. */
async function writeLabFile(home: string): Promise<{ file: string; vmAddress: Record<string, string> }> {
  const spec = YAML.parse(await readFile(join(EXAMPLE, 'lab.yaml'), 'utf8'));
  spec.fabric = join(EXAMPLE, spec.fabric);
  spec.orchestrator = { address: ORCHESTRATOR, port: 7420 };
  spec.processors.forEach((p: { address?: string }, i: number) => {
    p.address = `${NET}.${11 + i}`;
  });
  const vmAddress: Record<string, string> = {};
  spec.apps = spec.apps.map((a: string) => join(EXAMPLE, a));
  spec.vms.forEach((vm: { name: string; address?: string }, i: number) => {
    vm.address = `${NET}.${21 + i}`;
    vmAddress[vm.name] = vm.address;
  });
  const file = join(home, 'voting-lab.yaml');
  await writeFile(file, YAML.stringify(spec));
  return { file, vmAddress };
}

describe('the Voting App in the lab: deploy, vote, transit, console, purge', () => {
  let env: NodeJS.ProcessEnv;
  let home: string;
  let labFile: string;
  let proxy: string;
  let admin: ApiClient;
  let consoleUrl: string;
  let adminPassword: string;
  let browser: TestBrowser | undefined;
  let page: Page;
  let startedPids: number[] = [];
  const cli = (...args: string[]): Promise<CliResult> => trellis(args, { env });
  const ok = async (...args: string[]): Promise<string> => {
    const r = await cli(...args);
    expect(r.code, `trellis ${args.join(' ')}\n${r.stderr}${r.stdout}${await logTails(home)}`).toBe(0);
    return r.stdout;
  };
  const nodes = async () => JSON.parse(await ok('get', 'nodes', '-o', 'json')) as FabricNode[];
  const flows = async (p: string) => JSON.parse(await ok('flows', p, '-o', 'json')) as FlowTableReport;
  /** What every lab host's supervisor last wrote: its pid and its units' (a host is a directory). */
  const hostStatus = async (host: string) =>
    JSON.parse(await readFile(join(home, 'lab', 'hosts', host, 'run', 'status.json'), 'utf8')) as {
      pid: number;
      units: { name: string; kind: string; pid: number | null }[];
    };
  const units = async () => {
    const all: { host: string; name: string; kind: string; pid: number | null }[] = [];
    for (const host of ['orchestrator', ...PROCESSORS, ...Object.keys(TABLE6)]) {
      const st = await hostStatus(host).catch(() => ({ units: [] }) as { units: [] });
      all.push(...st.units.map((u) => ({ ...u, host })));
    }
    return all;
  };
  const unitPid = async (name: string) => (await units()).find((u) => u.name === name)?.pid ?? undefined;
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `lab-${name}.png`) });

  beforeAll(async () => {
    env = await cliEnv();
    home = env.TRELLIS_HOME!;
    const lab = await writeLabFile(home);
    labFile = lab.file;
    proxy = `${lab.vmAddress['aws-11']}:8000`;
    const up = await cli('lab', 'up', '-f', labFile, '--detach');
    expect(up.code, up.stderr + up.stdout + (await logTails(home))).toBe(0);
    startedPids = (await units()).flatMap((u) => (u.pid ? [u.pid] : []));
    for (const host of ['orchestrator', ...PROCESSORS, ...Object.keys(TABLE6)])
      startedPids.push((await hostStatus(host)).pid);
    adminPassword = (await readFile(join(home, 'lab', 'admin-password'), 'utf8')).trim();
    consoleUrl = `https://${ORCHESTRATOR}:7420`;
    const caPem = await readFile(
      join(home, 'lab', 'hosts', 'orchestrator', 'state', 'orchestrator', 'ca.crt'),
      'utf8',
    );
    const api = new ApiClient(consoleUrl, undefined, pinnedFetch({ caPem }));
    admin = api.withToken((await api.login('admin', adminPassword)).token);
    if (runConsoleTests) {
      await mkdir(SHOTS, { recursive: true });
      browser = await launchBrowser();
      page = browser.page;
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (!home) return;
    const down = await cli('lab', 'down');
    expect(down.code, down.stderr).toBe(0);
    await until('every lab process to be gone', async () =>
      startedPids.every((p) => !existsSync(`/proc/${p}`)) ? true : undefined,
    ).catch(() => undefined);
    expect(startedPids.filter((p) => existsSync(`/proc/${p}`))).toEqual([]);
    // The lab hosts' roots, with the stores' data, live outside the lab's home (src/lab/host-roots.ts).
    const dataRoot = await readFile(labPaths(home).dataDirRecord, 'utf8').catch(() => '');
    await rm(home, { recursive: true, force: true });
    if (dataRoot.trim()) await rm(dataRoot.trim(), { recursive: true, force: true });
  }, 60_000);

  it('trellis get nodes: 4 processors and 6 workload nodes, connected, owners per the seed', async () => {
    const all = await nodes();
    expect(
      all
        .filter((n) => n.kind === 'processor')
        .map((n) => n.name)
        .sort(),
    ).toEqual([...PROCESSORS].sort());
    const workloads = Object.fromEntries(
      all.filter((n) => n.kind === 'workload').map((n) => [n.name, `${n.domain}/${n.owner}`]),
    );
    expect(workloads).toEqual(
      Object.fromEntries(Object.entries(TABLE6).map(([vm, o]) => [vm, `voting-app/${o}`])),
    );
    expect(all.every((n) => n.status === 'connected')).toBe(true);

    const status = JSON.parse(await ok('lab', 'status', '-o', 'json')) as { urls: Record<string, string> };
    expect(status.urls).toMatchObject({
      vote: `http://${proxy}/voting/vote`,
      result: `http://${proxy}/voting/result`,
      console: `${consoleUrl}/`,
    });
  });

  it('trellis deploy is idempotent and refuses, by name, what it cannot do — installing nothing', async () => {
    const before = await unitPid('workload-aws-11');
    expect(before).toBeDefined();
    const again = await ok('deploy', '--hostowner=http-proxy', '--virtualmachine=aws-11');
    expect(again).toContain('voting-app/http-proxy is already installed on aws-11');
    expect(again).toContain('node aws-11 connected');
    expect(await unitPid('workload-aws-11')).toBe(before);

    // With the exit code a script tells them apart by (docs/cli.md: 1 conflict, 3 not found).
    const refusals: [string[], RegExp, number][] = [
      // The node name aws-11 belongs to http-proxy (checked before the VM is touched).
      [
        ['--hostowner=worker', '--virtualmachine=aws-11'],
        /node "aws-11" is registered to host owner "http-proxy" \(domain voting-app, connected\)/,
        1,
      ],
      [
        ['--hostowner=nobody', '--virtualmachine=aws-11'],
        /no app of the lab describes host owner "nobody"/,
        3,
      ],
      [
        ['--hostowner=worker', '--virtualmachine=aws-99'],
        /no host "aws-99" in .*inventory\.yaml \(its vms: aws-11/,
        3,
      ],
    ];
    for (const [args, message, code] of refusals) {
      const r = await cli('deploy', ...args);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
    }
    // aws-11 still runs what it ran, and nothing was installed anywhere else.
    const aws11 = await hostStatus('aws-11');
    expect(aws11.units.map((u) => u.name).sort()).toEqual(['agent-aws-11', 'workload-aws-11']);
    expect(aws11.units.every((u) => u.pid !== null)).toBe(true);
    expect(existsSync(join(home, 'lab', 'hosts', 'aws-99'))).toBe(false);
    expect((await nodes()).filter((n) => n.kind === 'workload')).toHaveLength(6);
  });

  it('50 voters vote through the fabric, 10 change: result.json converges, the result page is pushed', async () => {
    await fiftyVotersTenChange(proxy);
  }, 90_000);

  it("the seed's transit: after the path-params edit, voting-frontend flows cross aws-p2", async () => {
    const id = Object.fromEntries((await nodes()).map((n) => [n.name, n.nodeId]));
    const contract = (
      await admin.request<{ id: number }>('GET', '/api/v1/domains/voting-app/contracts/voting-frontend')
    ).id;
    const ours = (t: FlowTableReport) =>
      t.table50.filter(
        (e) =>
          e.contractId === contract &&
          [e.srcNodeId, e.dstNodeId].sort().join() === [id['aws-11'], id['gcp-11']].sort().join(),
      );

    // Before: a vote goes aws-p1 → gcp-p1; aws-p2 sees none of it (reports come every second).
    const p0 = (await flows('aws-p2')).table30.packets;
    expect((await new Browser(`http://${proxy}`).vote('Mesos')).status).toBe(200);
    await sleep(2_500);
    const before = await flows('aws-p2');
    expect(before.table30.packets).toBe(p0);
    expect(ours(before)).toEqual([]);

    await ok('edit', 'role', 'voting-frontend', 'client', '--path-params', JSON.stringify(TRANSIT_CLIENT));
    await ok('edit', 'role', 'voting-frontend', 'server', '--path-params', JSON.stringify(TRANSIT_SERVER));
    const path = JSON.parse(
      await ok('path', '--from', 'aws-p1', '--to', 'gcp-p1', '--contract', 'voting-frontend', '-o', 'json'),
    ) as { path: string[] };
    expect(path.path).toEqual(['aws-p1', 'aws-p2', 'gcp-p1']);

    // A new voter opens a new flow, which takes the new path.
    await until('a vote through aws-p2', async () => {
      const r = await new Browser(`http://${proxy}`).vote('Kubernetes');
      if (r.status !== 200) return undefined;
      const after = await flows('aws-p2');
      return after.table30.packets > p0 && ours(after).length > 0 ? true : undefined;
    });
    const after = await flows('aws-p2');
    expect(after.table30.packets).toBeGreaterThan(p0);
    expect(after.table30.bytes).toBeGreaterThan(before.table30.bytes);
    expect(ours(after)[0]).toMatchObject({ contractId: contract });

    // Back to the cheapest path: the console test makes the same edit through the browser.
    await ok('edit', 'role', 'voting-frontend', 'client', '--path-params', '{}');
    await ok('edit', 'role', 'voting-frontend', 'server', '--path-params', '{}');
  }, 60_000);

  it('a voting-db killed with -9 is restarted by the lab and forgets nothing: a voter can still change their vote', async () => {
    const viewer = new Browser(`http://${proxy}`);
    const tally = async () =>
      JSON.parse((await viewer.get('/voting/result.json')).body) as Record<string, number>;
    const voter = new Browser(`http://${proxy}`);
    const t0 = await tally();
    expect((await voter.vote('Mesos')).status).toBe(200);
    await until('the ballot to be counted', async () =>
      (await tally()).total === t0.total! + 1 ? true : undefined,
    );
    const t1 = await tally();

    const pid = (await unitPid('workload-gcp-12'))!;
    process.kill(-pid, 'SIGKILL');
    await until("gcp-12's supervisor to restart voting-db", async () => {
      const now = await unitPid('workload-gcp-12');
      return now && now !== pid ? true : undefined;
    });
    // Its seq survived the restart: the new ballot is newer than the one counted before.
    await until('the changed vote to be acknowledged', async () =>
      (await voter.vote('Kubernetes')).status === 200 ? true : undefined,
    );
    await until('the change to be counted', async () => {
      const t = await tally();
      return t.Kubernetes === t1.Kubernetes! + 1 ? t : undefined;
    });
    expect(await tally()).toEqual({ Mesos: t1.Mesos! - 1, Kubernetes: t1.Kubernetes! + 1, total: t1.total });
  }, 60_000);

  describe.runIf(runConsoleTests)('the console against the running lab', () => {
    it('a wrong login shows an error; the admin logs in and sees 4 green processors and 6 workloads', async () => {
      await page.goto(consoleUrl);
      await page.waitForURL(/\/login/);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill('not-the-password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('wrong username or password');
      await page.getByLabel('Password').fill(adminPassword);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(/\/topology$/);

      await page.getByRole('button', { name: 'Table' }).click();
      await page.locator('table[aria-label="Topology nodes"] tbody tr').nth(9).waitFor();
      const rows = Object.fromEntries((await readTable(page, 'Topology nodes')).map((r) => [r.Name, r]));
      for (const p of PROCESSORS) expect(rows[p]).toMatchObject({ Kind: 'processor', Status: 'connected' });
      for (const [vm, owner] of Object.entries(TABLE6))
        expect(rows[vm]).toMatchObject({ Kind: 'workload', Status: 'connected', Owner: owner });
      await page.getByRole('button', { name: 'Graph' }).click();

      const overlay = await openNodeOverlay(page, 'n:aws-11');
      expect(overlay.terms.at(-1)).toBe('Owner');
      expect(overlay.values.at(-1)).toBe('http-proxy');
      expect(overlay.domain).toBe('voting-app');
      await shot('topology');
    });

    it('Domain Topology of voting-app has the 6 contracts as edges', async () => {
      await nav(page, 'Domains');
      await page.getByRole('link', { name: 'voting-app' }).click();
      await page.getByRole('link', { name: 'Domain Topology' }).click();
      await page
        .locator('table[aria-label="Domain Topology edges"] tbody tr')
        .nth(5)
        .waitFor({ state: 'attached' });
      const edges = await readTable(page, 'Domain Topology edges');
      expect(edges.map((e) => `${e.Client} -${e.Contract}-> ${e.Server}`).sort()).toEqual([
        'http-proxy -result-frontend-> result-svc',
        'http-proxy -voting-frontend-> voting-svc',
        'result-svc -result-backend-> result-db',
        'voting-svc -voting-backend-> voting-db',
        'worker -result-worker-> result-db',
        'worker -voting-worker-> voting-db',
      ]);
      await page.waitForTimeout(300);
      await shot('domain-topology');
    });

    it('the transit edit in the console (EDIT → SET → SUBMIT), then a vote: aws-p2 counters rise, the path bends', async () => {
      for (const [role, params] of [
        ['client', TRANSIT_CLIENT],
        ['server', TRANSIT_SERVER],
      ] as const) {
        await nav(page, 'Contracts');
        await page
          .locator('table[aria-label="Contracts"]')
          .getByRole('link', { name: 'voting-frontend' })
          .click();
        await page.getByRole('link', { name: role, exact: true }).click();
        await page.waitForURL(new RegExp(`/roles/${role}$`));
        await page.getByTestId('edit-path-params').click();
        await page.getByLabel('Path params JSON').fill(JSON.stringify(params, null, 2));
        await page.getByRole('button', { name: 'SET' }).click();
        await page.waitForURL(new RegExp(`/roles/${role}$`));
        await page.getByRole('button', { name: 'SUBMIT' }).click();
        await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Saved');
      }
      const contracts = JSON.parse(await ok('get', 'contracts', '-o', 'json')) as unknown;
      const text = JSON.stringify(contracts);
      expect(text).toContain('"transit":"aws-p2"');

      await nav(page, 'Flows');
      await page.getByLabel('Processor').selectOption('aws-p2');
      const counter = async () => Number(await page.locator('.stat-value').first().textContent());
      await expect.poll(counter).toBeGreaterThanOrEqual(0);
      const c0 = await counter();
      await until('a vote through aws-p2 shown in Flows', async () => {
        const r = await new Browser(`http://${proxy}`).vote('Mesos');
        if (r.status !== 200) return undefined;
        await sleep(1_500);
        return (await counter()) > c0 ? true : undefined;
      });
      await shot('flows');

      await nav(page, 'Topology');
      await page.getByLabel('Highlight the path of a contract').selectOption('voting-app/voting-frontend');
      await expect.poll(() => page.locator('.path-info').textContent()).toContain('aws-p2');
      await expect
        .poll(() => page.locator('.path-info').textContent())
        .toContain('aws-11 → aws-p1 → aws-p2 → gcp-p1 → gcp-11');
      await shot('topology-path');
    }, 60_000);
  });

  it('trellis purge: the six nodes turn disconnected (red in the console without reload), their processes are gone', async () => {
    const vmPids = (await units())
      .filter((u) => u.kind === 'agent' || u.kind === 'workload')
      .flatMap((u) => (u.pid ? [u.pid] : []));
    expect(vmPids).toHaveLength(12);
    if (browser) {
      await nav(page, 'Topology');
      await expect.poll(async () => (await cyNode(page, 'n:gcp-11')).data.status).toBe('connected');
    }

    const out = await ok('purge', '--domain', 'voting-app');
    expect(out).toContain('6 node(s) disconnected');
    const all = await nodes();
    for (const vm of Object.keys(TABLE6)) expect(all.find((n) => n.name === vm)?.status).toBe('disconnected');
    if (browser) {
      for (const vm of Object.keys(TABLE6)) {
        await expect
          .poll(async () => (await cyNode(page, `n:${vm}`)).data.status, { timeout: 2_000 })
          .toBe('disconnected');
      }
      await shot('purged');
    }
    await until('the purged processes to be gone', async () =>
      vmPids.every((p) => !existsSync(`/proc/${p}`)) ? true : undefined,
    );
    const left = (await units()).map((u) => u.name).sort();
    expect(left).toEqual(['orchestrator', ...PROCESSORS.map((p) => `processor-${p}`)].sort());

    // The VM is free, but its node name still belongs to http-proxy until an admin deletes it.
    const taken = await cli('deploy', '--hostowner=worker', '--virtualmachine=aws-11');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('node "aws-11" is registered to host owner "http-proxy"');
    expect((await units()).filter((u) => u.host === 'aws-11')).toEqual([]);
  }, 60_000);

  it('deleting the disconnected nodes (Resources ✕, or trellis delete node) leaves only the 4 processors', async () => {
    if (browser) {
      await nav(page, 'Resources');
      for (const vm of Object.keys(TABLE6)) {
        await page.getByRole('button', { name: `Delete ${vm}` }).click();
        await expect.poll(() => page.getByRole('status').textContent()).toContain(`Deleted node ${vm}`);
        // The table is rebuilt after each delete: wait for the row to go before the next click,
        // or the click can land on a button of the table being replaced (a CI run lost one so).
        await expect
          .poll(async () => (await readTable(page, 'Resources')).map((x) => x.Name))
          .not.toContain(vm);
      }
      await expect
        .poll(async () => (await readTable(page, 'Resources')).map((x) => x.Name).sort())
        .toEqual([...PROCESSORS].sort());
      await shot('resources');
      expect(browser.pageErrors).toEqual([]);
    } else {
      console.warn(`deleting with the CLI; the console part needs chromium: ${CHROMIUM_HINT}`);
      for (const vm of Object.keys(TABLE6)) await ok('delete', 'node', vm);
    }
    const all = await nodes();
    expect(all.map((n) => n.name).sort()).toEqual([...PROCESSORS].sort());
    expect(all.every((n) => n.kind === 'processor' && n.status === 'connected')).toBe(true);
  }, 60_000);

  it('a wrong admin password refuses the deploy and installs nothing; then deploy brings a service back', async () => {
    // lab/admin-password names the orchestrator's own file; put a wrong one in its place.
    const link = join(home, 'lab', 'admin-password');
    const target = await readlink(link);
    await rm(link);
    await writeFile(link, 'not-the-admin-password\n', { mode: 0o600 });
    const r = await cli('deploy', '--hostowner=http-proxy', '--virtualmachine=aws-11');
    await rm(link);
    await symlink(target, link);
    // Refused credentials: exit 4 (docs/cli.md).
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`the lab's orchestrator refused the admin password in ${link}`);
    expect((await units()).filter((u) => u.host === 'aws-11')).toEqual([]);
    expect((await nodes()).find((n) => n.name === 'aws-11')).toBeUndefined();

    const out = await ok('deploy', '--hostowner=http-proxy', '--virtualmachine=aws-11');
    expect(out).toContain('installed voting-app/http-proxy on aws-11');
    expect((await nodes()).find((n) => n.name === 'aws-11')).toMatchObject({
      status: 'connected',
      owner: 'http-proxy',
    });
  }, 60_000);
});
