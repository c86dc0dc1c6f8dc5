import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installConsole } from '../src/orchestrator/console-assets.js';
import {
  CHROMIUM_HINT,
  cyNode as cyNodeOf,
  launchBrowser,
  nav as navTo,
  openNodeOverlay,
  readTable,
  runConsoleTests,
  SHOTS,
  type TestBrowser,
} from './support/browser.js';
import {
  ADMIN_PASSWORD,
  publicKeyPem,
  startTestOrchestrator,
  type TestOrchestrator,
} from './support/orchestrator.js';
import { pgliteTarget } from './support/stores.js';
import { SEED_CONTRACTS, votingAppSpec } from './support/voting-app.js';

/**
 * The web console in a real browser (Debian's chromium driven by playwright-core) against an
 * in-process orchestrator serving the built console (`npm run build` builds dist/console).
 * Screenshots go to test-results/console/; with TRELLIS_UPDATE_SCREENSHOTS=1 to docs/images/.
 */

if (!runConsoleTests) console.warn(`skipping the console tests: ${CHROMIUM_HINT}`);

const PASSWORDS = {
  'infra/fabric-ops': 'fabric-ops-password',
  'voting-app/http-proxy': 'http-proxy-password',
  'voting-app/voting-svc': 'voting-svc-password',
};
const PROCESSORS = ['aws-p1', 'aws-p2', 'gcp-p1', 'azr-p1'];
const WORKLOADS = [
  { name: 'aws-11', owner: 'http-proxy', processor: 'aws-p1', address: '127.0.1.11' },
  { name: 'gcp-11', owner: 'voting-svc', processor: 'gcp-p1', address: '127.0.3.11' },
];

describe('console assets', () => {
  it('without a build, / and the pages say to run npm run build; other paths stay 404', async () => {
    const app = Fastify();
    await installConsole(app, join(tmpdir(), 'trellis-no-console-here'));
    for (const path of ['/', '/topology', '/contracts/voting-app/voting-frontend']) {
      const res = await app.inject({ method: 'GET', url: path });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('npm run build');
    }
    expect((await app.inject({ method: 'GET', url: '/no/such/page' })).statusCode).toBe(404);
    await app.close();
  });
});

describe.runIf(runConsoleTests)('web console in chromium', () => {
  let t: TestOrchestrator;
  let url: string;
  let admin: string;
  let browser: TestBrowser;
  let page: Page;
  let pageErrors: string[] = [];

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `console-${name}.png`) });
  const nav = (label: string) => navTo(page, label);
  const cyNode = (id: string) => cyNodeOf(page, id);

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    // Registered nodes send no heartbeat here: keep them connected until the test says otherwise.
    t = await startTestOrchestrator(pgliteTarget, { heartbeatTimeoutMs: 3_600_000 });
    admin = await t.login('admin', ADMIN_PASSWORD);
    const applied = await t.call('POST', '/api/v1/apply', {
      token: admin,
      body: { spec: votingAppSpec(), passwords: PASSWORDS },
    });
    expect(applied.status).toBe(200);
    const ops = await t.login('fabric-ops', PASSWORDS['infra/fabric-ops'], 'infra');
    for (const [i, name] of PROCESSORS.entries()) {
      const r = await t.call('POST', '/api/v1/nodes/register', {
        token: ops,
        body: { name, addresses: [`127.0.2.${i + 1}`], publicKey: publicKeyPem() },
      });
      expect(r.status).toBe(200);
    }
    for (const w of WORKLOADS) {
      const token = await t.login(
        w.owner,
        PASSWORDS[`voting-app/${w.owner}` as keyof typeof PASSWORDS],
        'voting-app',
      );
      const r = await t.call('POST', '/api/v1/nodes/register', {
        token,
        body: { name: w.name, addresses: [w.address], publicKey: publicKeyPem(), processors: [w.processor] },
      });
      expect(r.status).toBe(200);
    }
    url = await t.listen();
    browser = await launchBrowser();
    page = browser.page;
    pageErrors = browser.pageErrors;
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the console at / with an SPA fallback, and keeps JSON 404s under /api', async () => {
    const root = await fetch(`${url}/`);
    expect(root.status).toBe(200);
    expect(await root.text()).toContain('<div id="app">');
    expect(
      (await fetch(`${url}/contracts/voting-app/voting-frontend`)).headers.get('content-type'),
    ).toContain('text/html');
    for (const unknown of ['/api/v1/nope', '/no/such/page']) {
      const res = await fetch(`${url}${unknown}`);
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe('TRELLIS_ERR_NOT_FOUND');
    }
  });

  it('refuses a wrong password with an error, then logs in', async () => {
    await page.goto(url);
    await page.waitForURL(/\/login/);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('wrong username or password');
    await shot('login');

    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/topology$/);
    await expect.poll(() => page.locator('.live').textContent()).toBe('live');
    // Every page of the navigation survives a reload (the orchestrator's SPA fallback).
    const links = await page.getByRole('navigation', { name: 'Main' }).locator('a[data-nav]').all();
    expect(links).toHaveLength(7);
    for (const link of links) {
      const res = await fetch(`${url}${await link.getAttribute('href')}/x`);
      expect(res.headers.get('content-type')).toContain('text/html');
    }
  });

  it('Topology lists the four processors and the workload nodes with their owners', async () => {
    await page.getByRole('button', { name: 'Table' }).click();
    await page.locator('table[aria-label="Topology nodes"] tbody tr').nth(5).waitFor();
    const rows = await readTable(page, 'Topology nodes');
    const byName = Object.fromEntries(rows.map((r) => [r.Name, r]));
    for (const p of PROCESSORS) {
      expect(byName[p]).toMatchObject({ Kind: 'processor', Status: 'connected', Owner: 'fabric-ops' });
    }
    for (const w of WORKLOADS) {
      expect(byName[w.name]).toMatchObject({ Kind: 'workload', Status: 'connected', Owner: w.owner });
    }
    const edges = await readTable(page, 'Topology edges');
    expect(edges.filter((e) => e.Kind === 'link')).toHaveLength(5);
    await page.getByRole('button', { name: 'Graph' }).click();

    // Click aws-11 on the canvas: the overlay ends with its Owner.
    const overlay = await openNodeOverlay(page, 'n:aws-11');
    expect(overlay.terms.at(-1)).toBe('Owner');
    expect(overlay.values.at(-1)).toBe('http-proxy');
    expect(overlay.domain).toBe('voting-app');
    await shot('topology');
  });

  it('Domains → voting-app → Domain Topology shows the 6 contracts as edges client → server', async () => {
    await nav('Domains');
    await page.getByRole('link', { name: 'voting-app' }).click();
    await page.getByRole('link', { name: 'Domain Topology' }).click();
    await page.waitForURL(/\/domains\/voting-app\/topology$/);
    await page
      .locator('table[aria-label="Domain Topology edges"] tbody tr')
      .nth(5)
      .waitFor({ state: 'attached' });
    await page.waitForTimeout(300);
    await shot('domain-topology');
    const edges = await readTable(page, 'Domain Topology edges');
    expect(edges).toHaveLength(6);
    expect(Object.fromEntries(edges.map((e) => [e.Contract, [e.Client, e.Server]]))).toEqual(SEED_CONTRACTS);
  });

  it('edits the voting-frontend client path params: EDIT → SET (nothing saved) → SUBMIT', async () => {
    await nav('Contracts');
    const contracts = page.locator('table[aria-label="Contracts"]');
    await contracts.getByRole('link', { name: 'voting-frontend' }).waitFor();
    const list = await readTable(page, 'Contracts');
    expect(list.find((c) => c['Contract Name'] === 'voting-frontend')?.['Contract ID']).toMatch(
      /^0x[0-9a-f]{8}$/,
    );
    await shot('contracts');
    await contracts.getByRole('link', { name: 'voting-frontend' }).click();
    await page.getByRole('link', { name: 'client', exact: true }).click();
    await page.waitForURL(/\/roles\/client$/);
    await page.getByTestId('edit-path-params').click();

    const editor = page.getByLabel('Path params JSON');
    // maxHops counts links, as the check does (issue 11 finding 5: the help said processors).
    await expect
      .poll(() => page.locator('dl').first().textContent())
      .toContain('at most this many links on the path');
    await editor.fill('{ "transit": "aws-p2", }');
    await page.getByRole('button', { name: 'SET' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('invalid JSON');

    // An unknown processor passes SET (it is valid JSON) and is refused by SUBMIT, by name.
    await editor.fill('{"role":"server","contract":"voting-frontend","transit":"aws-p9"}');
    await page.getByRole('button', { name: 'SET' }).click();
    await page.waitForURL(/\/roles\/client$/);
    expect(await page.getByTestId('path-params').textContent()).toContain('aws-p9');
    const stored = async () =>
      (
        await t.call('GET', '/api/v1/domains/voting-app/contracts/voting-frontend/roles/client', {
          token: admin,
        })
      ).body.role.pathParams;
    expect(await stored()).toEqual({});
    await page.getByRole('button', { name: 'SUBMIT' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('unknown processor "aws-p9"');
    expect(await stored()).toEqual({});

    await page.getByTestId('edit-path-params').click();
    await editor.fill('{\n  "role": "server",\n  "contract": "voting-frontend",\n  "transit": "aws-p2"\n}');
    await shot('path-params-editor');
    await page.getByRole('button', { name: 'SET' }).click();
    await page.waitForURL(/\/roles\/client$/);
    await shot('role');
    await page.getByRole('button', { name: 'SUBMIT' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Saved');
    expect(await stored()).toEqual({ role: 'server', contract: 'voting-frontend', transit: 'aws-p2' });
  });

  it('Topology highlights the path of voting-frontend through the transit aws-p2', async () => {
    await nav('Topology');
    await page.getByLabel('Highlight the path of a contract').selectOption('voting-app/voting-frontend');
    await expect
      .poll(() => page.locator('.path-info').textContent())
      .toContain('aws-11 → aws-p1 → aws-p2 → gcp-p1 → gcp-11');
    expect((await cyNode('n:aws-p2')).data.name).toBe('aws-p2');
    expect(await page.evaluate(() => document.querySelector('[data-testid="graph"]') !== null)).toBe(true);
    await shot('topology-path');
  });

  it('a node that disconnects turns red on Topology without a reload', async () => {
    expect((await cyNode('n:aws-11')).data.status).toBe('connected');
    const r = await t.call('POST', '/api/v1/nodes/aws-11/disconnect', { token: admin });
    expect(r.status).toBe(200);
    await expect
      .poll(async () => (await cyNode('n:aws-11')).data.status, { timeout: 2000 })
      .toBe('disconnected');
    await page.getByRole('button', { name: 'Table' }).click();
    const rows = await readTable(page, 'Topology nodes');
    expect(rows.find((x) => x.Name === 'aws-11')?.Status).toBe('disconnected');
    await page.getByRole('button', { name: 'Graph' }).click();
  });

  it('Resources: a connected node cannot be deleted (the 409 reason is shown); a disconnected one can', async () => {
    await nav('Resources');
    await page.getByRole('button', { name: 'Delete gcp-11' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('"gcp-11" is connected');
    await shot('resources');

    const r = await t.call('POST', '/api/v1/nodes/gcp-11/disconnect', { token: admin });
    expect(r.status).toBe(200);
    await expect
      .poll(async () => (await readTable(page, 'Resources')).find((x) => x.Name === 'gcp-11')?.Status)
      .toBe('disconnected');
    await page.getByRole('button', { name: 'Delete gcp-11' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Deleted node gcp-11');
    // The table re-renders after the status message: wait for it, as a user would.
    await expect
      .poll(async () => (await readTable(page, 'Resources')).map((x) => x.Name))
      .not.toContain('gcp-11');
    expect((await t.call('GET', '/api/v1/nodes/gcp-11', { token: admin })).status).toBe(404);
  });

  it('Resources: a click whose press and release straddle a refresh of the table still deletes (regression, session 13)', async () => {
    const owner = await t.login('voting-svc', PASSWORDS['voting-app/voting-svc'], 'voting-app');
    const register = async (name: string, address: string) => {
      const r = await t.call('POST', '/api/v1/nodes/register', {
        token: owner,
        body: { name, addresses: [address], publicKey: publicKeyPem(), processors: ['gcp-p1'] },
      });
      expect(r.status).toBe(200);
    };
    const rowNames = async () => (await readTable(page, 'Resources')).map((x) => x.Name);
    await register('gcp-12', '127.0.3.12');
    expect((await t.call('POST', '/api/v1/nodes/gcp-12/disconnect', { token: admin })).status).toBe(200);
    await expect
      .poll(async () => (await readTable(page, 'Resources')).find((x) => x.Name === 'gcp-12')?.Status)
      .toBe('disconnected');
    const box = (await page.getByRole('button', { name: 'Delete gcp-12' }).boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    // A node registering while the button is held: its event refreshes the table (a new row).
    await register('gcp-13', '127.0.3.13');
    await expect.poll(rowNames).toContain('gcp-13');
    // The new row is the last one, so gcp-12's ✕ is where it was: the release lands on it.
    await page.mouse.up();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Deleted node gcp-12');
    await expect.poll(rowNames).not.toContain('gcp-12');
    expect((await t.call('GET', '/api/v1/nodes/gcp-12', { token: admin })).status).toBe(404);
    expect((await t.call('POST', '/api/v1/nodes/gcp-13/disconnect', { token: admin })).status).toBe(200);
    expect((await t.call('DELETE', '/api/v1/nodes/gcp-13', { token: admin })).status).toBe(204);
  });

  it('Flows shows a processor’s table 30 counters and table 50 entries, refreshing', async () => {
    const nodes = (await t.call('GET', '/api/v1/nodes', { token: admin })).body as {
      name: string;
      nodeId: string;
    }[];
    const id = (n: string) => nodes.find((x) => x.name === n)?.nodeId ?? 'fd00::1';
    const contract = (
      await t.call('GET', '/api/v1/domains/voting-app/contracts/voting-frontend', { token: admin })
    ).body;
    const ops = await t.login('fabric-ops', PASSWORDS['infra/fabric-ops'], 'infra');
    const report = (packets: number) =>
      t.call('PUT', '/api/v1/processors/aws-p2/flows', {
        token: ops,
        body: {
          table30: { packets, bytes: packets * 210, flows: 2 },
          table50Total: 1,
          table50: [
            {
              srcNodeId: id('aws-11'),
              dstNodeId: id('aws-p1'),
              contractId: contract.id,
              flowLabel: 0x63b71,
              inPort: 'aws-p1',
              outPort: 'gcp-p1',
              packets: 15,
              bytes: 4101,
              idleAge: 2,
              idleTimeout: 60,
            },
          ],
        },
      });
    expect((await report(57)).status).toBe(204);
    await nav('Flows');
    await page.getByLabel('Processor').selectOption('aws-p2');
    await expect.poll(() => page.locator('.stat-value').first().textContent()).toBe('57');
    await report(72);
    await expect.poll(() => page.locator('.stat-value').first().textContent(), { timeout: 3000 }).toBe('72');
    const rows = await readTable(page, 'Table 50');
    // Names beside the IDs (issue 11 finding 8: Flows showed IDs only).
    expect(rows[0]).toMatchObject({
      Source: `aws-11 ${id('aws-11')}`,
      Contract: `voting-app/voting-frontend 0x${contract.id.toString(16).padStart(8, '0')}`,
    });
    await shot('flows');
  });

  it('Denials lists refused flows with their reasons; Resource Users lists both kinds', async () => {
    const proxy = await t.login('http-proxy', PASSWORDS['voting-app/http-proxy'], 'voting-app');
    const reason = 'host owner "http-proxy" is not in the client role of contract "voting-backend"';
    const sent = await t.call('POST', '/api/v1/nodes/aws-11/denials', {
      token: proxy,
      body: {
        denials: [
          {
            at: new Date().toISOString(),
            kind: 'deny',
            domain: 'voting-app',
            contract: 'voting-backend',
            contractId: 1,
            role: 'client',
            src: 'aws-11',
            dst: null,
            code: 'TRELLIS_DENY_NOT_IN_ROLE',
            reason,
          },
        ],
      },
    });
    expect(sent.status).toBe(204);
    await nav('Denials');
    await expect.poll(async () => (await readTable(page, 'Denials'))[0]?.Reason).toBe(reason);
    expect((await readTable(page, 'Denials'))[0]?.Code).toBe('TRELLIS_DENY_NOT_IN_ROLE');
    await shot('denials');

    await nav('Resource Users');
    await page.locator('table[aria-label="Resource Users"]').waitFor();
    const users = await readTable(page, 'Resource Users');
    expect(users.find((u) => u.Name === 'fabric-ops')).toMatchObject({
      Domain: 'infra',
      Kind: 'switchOwner',
    });
    expect(users.filter((u) => u.Domain === 'voting-app' && u.Kind === 'hostOwner')).toHaveLength(6);
    await shot('resource-users');
  });

  it('Resource Users: create a host owner, grant and revoke it on a Role page, reset its password, delete it', async () => {
    await nav('Resource Users');
    const form = page.getByRole('form', { name: 'New resource user' });
    await form.getByLabel('Domain').selectOption('voting-app');
    await form.getByLabel('Name').fill('canary');
    await form.getByLabel('Kind').selectOption('hostOwner');
    await form.getByLabel('Password').fill('canary-password-1');
    await form.getByRole('button', { name: 'Create' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain('Created voting-app/canary.');
    await expect
      .poll(async () => (await readTable(page, 'Resource Users')).find((u) => u.Name === 'canary')?.Kind)
      .toBe('hostOwner');

    const users = async () =>
      (
        await t.call('GET', '/api/v1/domains/voting-app/contracts/voting-frontend/roles/client', {
          token: admin,
        })
      ).body.role.users as string[];
    await nav('Contracts');
    await page
      .locator('table[aria-label="Contracts"]')
      .getByRole('link', { name: 'voting-frontend' })
      .click();
    await page.getByRole('link', { name: 'client', exact: true }).click();
    await page.getByLabel('Host owner to add').selectOption('canary');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    expect(await users()).toEqual(['http-proxy']);
    await page.getByRole('button', { name: 'SUBMIT' }).click();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Saved');
    expect((await users()).sort()).toEqual(['canary', 'http-proxy']);
    await page.getByRole('button', { name: 'Remove canary' }).click();
    await page.getByRole('button', { name: 'SUBMIT' }).click();
    await expect.poll(users).toEqual(['http-proxy']);

    await nav('Resource Users');
    const row = page.locator('table[aria-label="Resource Users"] tbody tr', { hasText: 'canary' });
    await row.getByRole('button', { name: 'Reset password' }).click();
    await page.getByLabel('New password for canary').fill('canary-password-2');
    await page.getByLabel('New password for canary').press('Enter');
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain('Password of voting-app/canary reset');
    expect(await t.login('canary', 'canary-password-2', 'voting-app')).toBeTruthy();

    await page.getByRole('button', { name: 'Delete canary' }).click();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain('Deleted voting-app/canary.');
    await expect
      .poll(async () => (await readTable(page, 'Resource Users')).map((u) => u.Name))
      .not.toContain('canary');
  });

  it('keyboard only: Tab reaches the navigation with a visible focus ring, Enter opens a page, the Table toggle works', async () => {
    await nav('Topology');
    await page.waitForURL(/\/topology$/);
    await page.locator('body').focus();
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        const style = el ? getComputedStyle(el) : null;
        return {
          text: el?.textContent?.trim() ?? '',
          tag: el?.tagName ?? '',
          outline: style ? `${style.outlineStyle} ${style.outlineWidth}` : '',
          shadow: style?.boxShadow ?? 'none',
        };
      });
    const tabTo = async (text: string, tag: string) => {
      const seen: string[] = [];
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press('Tab');
        const f = await focused();
        if (f.text.endsWith(text) && f.tag === tag) return f;
        seen.push(`${f.tag}:${f.text.slice(0, 20)}`);
      }
      throw new Error(`Tab never reached ${tag} "${text}"; focus went ${seen.join(' → ')}`);
    };
    const link = await tabTo('Contracts', 'A');
    // The focus must be visible: an outline or a ring drawn with box-shadow.
    expect(link.outline.startsWith('none') && link.shadow === 'none').toBe(false);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/contracts$/);
    await page.locator('table[aria-label="Contracts"]').waitFor();

    await nav('Topology');
    await page.locator('body').focus();
    await tabTo('Table', 'BUTTON');
    await page.keyboard.press('Enter');
    await page.locator('table[aria-label="Topology nodes"]').waitFor();
    await page.getByRole('button', { name: 'Graph' }).click();
  });

  it('an expired session returns to the login page saying so; no page error was logged', async () => {
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('trellis.session')!);
      sessionStorage.setItem('trellis.session', JSON.stringify({ ...s, token: 'expired-token' }));
    });
    await nav('Contracts');
    await page.waitForURL(/\/login/);
    await expect.poll(() => page.locator('.alert-info').textContent()).toContain('session expired');
    expect(pageErrors).toEqual([]);
  });

  it('a domainAdmin sees only their domain', async () => {
    const created = await t.call('POST', '/api/v1/admin-users', {
      token: admin,
      body: { name: 'va-admin', role: 'domainAdmin', domain: 'voting-app', password: 'va-admin-password' },
    });
    expect(created.status).toBe(201);
    await page.goto(`${url}/login`);
    await page.getByLabel('Username').fill('va-admin');
    await page.getByLabel('Password').fill('va-admin-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/topology$/);
    expect(await page.getByText('domainAdmin · voting-app').count()).toBe(1);

    await nav('Domains');
    await page.getByRole('link', { name: 'voting-app' }).waitFor();
    expect(await page.getByRole('link', { name: 'infra' }).count()).toBe(0);
    await nav('Resource Users');
    await page.locator('table[aria-label="Resource Users"] tbody tr').first().waitFor();
    const users = await readTable(page, 'Resource Users');
    expect(users.length).toBe(6);
    expect(users.every((u) => u.Domain === 'voting-app')).toBe(true);
    await nav('Contracts');
    await page.locator('table[aria-label="Contracts"] tbody tr').first().waitFor();
    const contracts = await readTable(page, 'Contracts');
    expect(new Set(contracts.map((c) => c.Domain))).toEqual(new Set(['voting-app']));
    expect(pageErrors).toEqual([]);
  });
});
