import { mkdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DenialView } from '../../src/model/denial.js';
import {
  CHROMIUM_HINT,
  launchBrowser,
  nav as navTo,
  readTable,
  runConsoleTests,
  SHOTS,
  type TestBrowser,
} from '../support/browser.js';
import { cliEnv, trellis } from '../support/cli.js';
import {
  ADMIN_PASSWORD,
  publicKeyPem,
  startTestOrchestrator,
  type TestOrchestrator,
} from '../support/orchestrator.js';
import { pgliteTarget } from '../support/stores.js';
import { votingAppSpec } from '../support/voting-app.js';

/**
 * Issue 11, finding 8 ("operators see little when things go wrong") replayed: the Denials page
 * and API (filters, grouping of the start-up burst, names), names in Flows and `trellis
 * flows`, live Last seen, and the topology at 28 nodes (no label over another, no workload over
 * a link, every server instance of a path highlighted). Real chromium against a real
 * orchestrator on 127.0.161.1; the CLI is the built one.
 */

if (!runConsoleTests) console.warn(`skipping the operator view tests: ${CHROMIUM_HINT}`);

const OWNERS = ['http-proxy', 'voting-svc', 'voting-db', 'result-svc', 'result-db', 'worker'];
const PASSWORDS: Record<string, string> = {
  'infra/fabric-ops': 'fabric-ops-password',
  ...Object.fromEntries(OWNERS.map((o) => [`voting-app/${o}`, `${o}-password`])),
};
const PROCESSORS = ['aws-p1', 'aws-p2', 'gcp-p1', 'azr-p1'];
/** 24 workload nodes: voting-frontend is served by two instances (gcp-11 on gcp-p1, azr-11 on azr-p1). */
const WORKLOADS = [
  { name: 'aws-11', owner: 'http-proxy', processor: 'aws-p1' },
  { name: 'gcp-11', owner: 'voting-svc', processor: 'gcp-p1' },
  { name: 'azr-11', owner: 'voting-svc', processor: 'azr-p1' },
  ...Array.from({ length: 21 }, (_, i) => {
    const processor = PROCESSORS[i % 4]!;
    // Owners outside voting-frontend: its only client is aws-11, its only servers the two above.
    return { name: `${processor.split('-')[0]}-${20 + i}`, owner: OWNERS[(i % 4) + 2]!, processor };
  }),
];

describe.runIf(runConsoleTests)(
  'the operator’s views (issue 11, finding 8): 80 ungrouped denials with “—” for nodes, IDs without names in Flows, workloads drawn over links, one server instance highlighted',
  () => {
    let t: TestOrchestrator;
    let url: string;
    let admin: string;
    let browser: TestBrowser;
    let page: Page;
    let env: NodeJS.ProcessEnv;
    const tokens = new Map<string, string>();
    const nodeId = new Map<string, string>();
    const shot = (name: string) => page.screenshot({ path: `${SHOTS}/views-${name}.png` });
    const nav = (label: string) => navTo(page, label);
    const denials = async (query: string) => {
      const r = await t.call('GET', `/api/v1/denials?${query}`, { token: admin });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body as DenialView[];
    };
    const report = (node: string, owner: string, ds: object[]) =>
      t.call('POST', `/api/v1/nodes/${node}/denials`, { token: tokens.get(owner)!, body: { denials: ds } });
    const denial = (o: Record<string, unknown>) => ({
      kind: 'deny',
      domain: 'voting-app',
      contractId: 1,
      src: null,
      dst: null,
      ...o,
    });

    beforeAll(async () => {
      await mkdir(SHOTS, { recursive: true });
      // The test sends heartbeats itself: keep silent nodes connected meanwhile.
      t = await startTestOrchestrator(pgliteTarget, { heartbeatTimeoutMs: 3_600_000 });
      admin = await t.login('admin', ADMIN_PASSWORD);
      const applied = await t.call('POST', '/api/v1/apply', {
        token: admin,
        body: { spec: votingAppSpec(), passwords: PASSWORDS },
      });
      expect(applied.status).toBe(200);
      tokens.set('fabric-ops', await t.login('fabric-ops', PASSWORDS['infra/fabric-ops']!, 'infra'));
      for (const o of OWNERS) tokens.set(o, await t.login(o, PASSWORDS[`voting-app/${o}`]!, 'voting-app'));
      for (const [i, name] of PROCESSORS.entries()) {
        const r = await t.call('POST', '/api/v1/nodes/register', {
          token: tokens.get('fabric-ops')!,
          body: { name, addresses: [`127.0.161.${i + 1}`], publicKey: publicKeyPem() },
        });
        expect(r.status).toBe(200);
        nodeId.set(name, r.body.node.nodeId);
      }
      for (const [i, w] of WORKLOADS.entries()) {
        const r = await t.call('POST', '/api/v1/nodes/register', {
          token: tokens.get(w.owner)!,
          body: {
            name: w.name,
            addresses: [`127.0.161.${i + 20}`],
            publicKey: publicKeyPem(),
            processors: [w.processor],
          },
        });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        nodeId.set(w.name, r.body.node.nodeId);
      }

      // The start-up burst of a normal deploy: aws-11's client agent refused 30 flows of
      // voting-frontend before any voting-svc instance had registered (no node IDs in them).
      const now = Date.now();
      const noServer =
        'refused: contract "voting-frontend" has no usable path (no server instance is connected)';
      const burst = Array.from({ length: 30 }, (_, i) =>
        denial({
          at: new Date(now - 60_000 + i * 1000).toISOString(),
          contract: 'voting-frontend',
          role: 'client',
          code: 'TRELLIS_DENY_NO_SERVER',
          reason: noServer,
        }),
      );
      expect((await report('aws-11', 'http-proxy', burst)).status).toBe(204);
      // gcp-11's server agent refused 3 flows of voting-backend it does not serve.
      const notServed = Array.from({ length: 3 }, (_, i) =>
        denial({
          at: new Date(now - 20_000 + i * 1000).toISOString(),
          contract: 'voting-backend',
          role: 'server',
          src: nodeId.get('aws-11'),
          dst: nodeId.get('gcp-11'),
          code: 'TRELLIS_DENY_NOT_SERVED',
          reason: 'denied: gcp-11 does not serve the server role of contract "voting-backend"',
        }),
      );
      expect((await report('gcp-11', 'voting-svc', notServed)).status).toBe(204);
      // And one from two days ago, outside "the last hour", by an agent older than refusal codes
      // (a mixed-version fabric during an upgrade): no code, taken and listed as NO_CODE.
      const old = denial({
        at: new Date(now - 2 * 86_400_000).toISOString(),
        contract: 'result-frontend',
        role: 'client',
        reason: 'refused: contract "result-frontend" has no usable path (result-svc: no path)',
      });
      expect((await report('aws-11', 'http-proxy', [old])).status).toBe(204);

      await t.orch.app.listen({ host: '127.0.161.1', port: 0 });
      const addr = t.orch.app.server.address();
      if (addr === null || typeof addr === 'string') throw new Error('not listening on TCP');
      url = `http://127.0.161.1:${addr.port}`;
      env = await cliEnv();
      const login = await trellis(
        ['login', '--orchestrator', url, '--username', 'admin', '--password-stdin'],
        {
          env,
          input: `${ADMIN_PASSWORD}\n`,
        },
      );
      expect(login.code, login.stderr).toBe(0);
      browser = await launchBrowser();
      page = browser.page;
      await page.goto(url);
      await page.waitForURL(/\/login/);
      await page.getByLabel('Username').fill('admin');
      await page.getByLabel('Password').fill(ADMIN_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(/\/topology$/);
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await t?.close();
    });

    it('the denials API groups the start-up burst into one row with a count, first and last time, and names', async () => {
      const all = await denials('limit=200');
      expect(all).toHaveLength(34);
      const grouped = await denials('group=true');
      expect(grouped.map((d) => [d.contract, d.code, d.count])).toEqual([
        ['voting-backend', 'TRELLIS_DENY_NOT_SERVED', 3],
        ['voting-frontend', 'TRELLIS_DENY_NO_SERVER', 30],
        ['result-frontend', 'TRELLIS_DENY_NO_CODE', 1],
      ]);
      const burst = grouped[1]!;
      expect(Date.parse(burst.at) - Date.parse(burst.firstAt)).toBe(29_000);
      // The client agent that refused is the source, though its reports carry no node IDs.
      expect(burst.source).toEqual({ nodeId: nodeId.get('aws-11'), name: 'aws-11', owner: 'http-proxy' });
      expect(burst.destination).toBeNull();
      expect(grouped[0]!.source?.name).toBe('aws-11');
      expect(grouped[0]!.destination).toEqual({
        nodeId: nodeId.get('gcp-11'),
        name: 'gcp-11',
        owner: 'voting-svc',
      });
    });

    it('the denials API filters by contract, node, reason code and time range', async () => {
      expect(await denials('contract=voting-backend&domain=voting-app')).toHaveLength(3);
      expect(await denials('reason=TRELLIS_DENY_NO_SERVER')).toHaveLength(30);
      // The metric label still names the same code (the filter took labels before codes existed).
      expect(await denials('reason=no-server')).toHaveLength(30);
      expect(await denials('reason=TRELLIS_DENY_NO_CODE')).toHaveLength(1);
      expect(await denials('node=gcp-11')).toHaveLength(3);
      expect(await denials('node=aws-11')).toHaveLength(34);
      expect(await denials('node=azr-11')).toHaveLength(0);
      expect(await denials('since=1h')).toHaveLength(33);
      expect(
        await denials(`until=${encodeURIComponent(new Date(Date.now() - 86_400_000).toISOString())}`),
      ).toHaveLength(1);
      const bad = await t.call('GET', '/api/v1/denials?since=yesterday', { token: admin });
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe('query.since');
      const code = await t.call('GET', '/api/v1/denials?reason=nope', { token: admin });
      expect(code.status).toBe(400);
    });

    it('`trellis get denials` takes the same filters and shows the count and names', async () => {
      const r = await trellis(['get', 'denials', '--group', '--reason', 'no-server', '--since', '1h'], {
        env,
      });
      expect(r.code, r.stderr).toBe(0);
      const [head, row, ...rest] = r.stdout.trim().split('\n');
      expect(rest).toHaveLength(0);
      expect(head).toMatch(/COUNT.*SOURCE.*DESTINATION.*CODE/);
      expect(row).toMatch(
        /\s30\s+deny\s+voting-app\/voting-frontend\s+client\s+aws-11 \(http-proxy\)\s+—\s+aws-11\s+TRELLIS_DENY_NO_SERVER\s/,
      );
      const wrong = await trellis(['get', 'contracts', '--reason', 'no-server'], { env });
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toContain('--reason filters denials only');
    });

    it('the Denials page groups repeats, filters by reason and time range, and shows names', async () => {
      await nav('Denials');
      await expect.poll(async () => (await readTable(page, 'Denials')).length).toBe(3);
      const rows = await readTable(page, 'Denials');
      const burst = rows.find((r) => r.Code === 'TRELLIS_DENY_NO_SERVER')!;
      expect(burst).toMatchObject({
        Count: '30',
        Contract: 'voting-frontend',
        Source: 'aws-11 (http-proxy)',
        Destination: '—',
      });
      expect(rows.find((r) => r.Code === 'TRELLIS_DENY_NOT_SERVED')).toMatchObject({
        Count: '3',
        Source: 'aws-11 (http-proxy)',
        Destination: 'gcp-11 (voting-svc)',
        'Reported by': 'gcp-11',
      });
      await shot('denials-grouped');

      await page.getByLabel('Reason', { exact: true }).selectOption('TRELLIS_DENY_NOT_SERVED');
      await expect
        .poll(async () => (await readTable(page, 'Denials')).map((r) => r.Code))
        .toEqual(['TRELLIS_DENY_NOT_SERVED']);
      expect(await page.locator('.cli code').last().textContent()).toBe(
        'trellis get denials --reason TRELLIS_DENY_NOT_SERVED --group',
      );
      await page.getByLabel('Reason', { exact: true }).selectOption('');
      await page.getByLabel('Time range').selectOption('1h');
      await expect.poll(async () => (await readTable(page, 'Denials')).length).toBe(2);
      await page.getByLabel('Node', { exact: true }).selectOption('gcp-11');
      await expect
        .poll(async () => (await readTable(page, 'Denials')).map((r) => r.Contract))
        .toEqual(['voting-backend']);
      await page.getByLabel('Node', { exact: true }).selectOption('');
      await page.getByLabel('Group repeats').uncheck();
      await expect.poll(async () => (await readTable(page, 'Denials')).length).toBe(33);
    });

    it('Flows and `trellis flows` show node and contract names beside the IDs', async () => {
      const contract = (
        await t.call('GET', '/api/v1/domains/voting-app/contracts/voting-frontend', { token: admin })
      ).body as { id: number };
      const put = await t.call('PUT', '/api/v1/processors/aws-p1/flows', {
        token: tokens.get('fabric-ops')!,
        body: {
          table30: { packets: 20, bytes: 4000, flows: 1 },
          table50Total: 1,
          table50: [
            {
              srcNodeId: nodeId.get('aws-11'),
              dstNodeId: nodeId.get('gcp-11'),
              contractId: contract.id,
              flowLabel: 0x12345,
              inPort: 'aws-11',
              outPort: 'gcp-p1',
              packets: 20,
              bytes: 4000,
              idleAge: 1,
              idleTimeout: 60,
            },
          ],
        },
      });
      expect(put.status).toBe(204);

      const dump = await trellis(['flows', 'aws-p1'], { env });
      expect(dump.code, dump.stderr).toBe(0);
      expect(dump.stdout).toContain(
        `src=${nodeId.get('aws-11')}(aws-11),dst=${nodeId.get('gcp-11')}(gcp-11)`,
      );
      expect(dump.stdout).toMatch(/contract=0x[0-9a-f]{8}\(voting-app\/voting-frontend\)/);
      const json = JSON.parse((await trellis(['flows', 'aws-p1', '-o', 'json'], { env })).stdout);
      expect(json.table50[0]).toMatchObject({
        srcNode: 'aws-11',
        dstNode: 'gcp-11',
        contract: 'voting-app/voting-frontend',
      });

      await nav('Flows');
      await page.getByLabel('Processor').selectOption('aws-p1');
      await expect
        .poll(async () => (await readTable(page, 'Table 50'))[0]?.Contract ?? '')
        .toContain('voting-frontend');
      const [row] = await readTable(page, 'Table 50');
      expect(row!.Source).toBe(`aws-11 ${nodeId.get('aws-11')}`);
      expect(row!.Destination).toBe(`gcp-11 ${nodeId.get('gcp-11')}`);
      expect(row!.Contract).toMatch(/^voting-app\/voting-frontend 0x[0-9a-f]{8}$/);
    });

    it('Resources: Last seen of a node that heartbeats advances without a reload', async () => {
      await nav('Resources');
      const seen = (name: string) =>
        page
          .locator('table[aria-label="Resources"] tr', {
            has: page.locator('strong', { hasText: new RegExp(`^${name}$`) }),
          })
          .locator('time')
          .getAttribute('datetime');
      await expect.poll(() => seen('gcp-11')).toBeTruthy();
      const before = (await seen('gcp-11'))!;
      const silent = (await seen('azr-11'))!;
      await page.evaluate(() => Object.assign(window, { notReloaded: true }));
      const beat = await t.call('POST', '/api/v1/nodes/gcp-11/heartbeat', {
        token: tokens.get('voting-svc')!,
      });
      expect(beat.status).toBe(200);
      await expect
        .poll(async () => Date.parse((await seen('gcp-11'))!), { timeout: 10_000 })
        .toBeGreaterThan(Date.parse(before));
      expect(await seen('azr-11')).toBe(silent);
      expect(await page.evaluate(() => (window as { notReloaded?: boolean }).notReloaded)).toBe(true);
      // The text is the age of that time, kept current by the page.
      const text = await page
        .locator('table[aria-label="Resources"] tr', { has: page.locator('strong', { hasText: /^gcp-11$/ }) })
        .locator('time')
        .textContent();
      expect(text).toMatch(/^\d+ s ago$/);
    });

    it('Topology at 28 nodes: no label box overlaps another, no workload lies over a link or its cost', async () => {
      await nav('Topology');
      const graph = page.getByTestId('graph');
      await expect
        .poll(() =>
          graph.evaluate(
            (el) => (el as unknown as { cy: { nodes(): { length: number } } }).cy.nodes().length,
          ),
        )
        .toBe(PROCESSORS.length + WORKLOADS.length);
      const clashes = await graph.evaluate((el) => {
        type Box = { x1: number; y1: number; x2: number; y2: number };
        // biome-ignore lint/suspicious/noExplicitAny: cytoscape's Core, reached through the page
        const cy = (el as any).cy;
        const overlap = (a: Box, b: Box) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
        // Does the segment p→q pass through the box (Liang–Barsky clipping)?
        const crosses = (p: { x: number; y: number }, q: { x: number; y: number }, b: Box) => {
          let t0 = 0;
          let t1 = 1;
          const dx = q.x - p.x;
          const dy = q.y - p.y;
          for (const [pk, qk] of [
            [-dx, p.x - b.x1],
            [dx, b.x2 - p.x],
            [-dy, p.y - b.y1],
            [dy, b.y2 - p.y],
          ] as [number, number][]) {
            if (pk === 0) {
              if (qk < 0) return false;
              continue;
            }
            const r = qk / pk;
            if (pk < 0) t0 = Math.max(t0, r);
            else t1 = Math.min(t1, r);
            if (t0 > t1) return false;
          }
          return true;
        };
        const boxes: { id: string; workload: boolean; box: Box }[] = cy
          .nodes()
          // biome-ignore lint/suspicious/noExplicitAny: cytoscape's node
          .map((n: any) => ({
            id: n.id(),
            workload: n.hasClass('workload'),
            box: n.boundingBox({ includeLabels: true, includeOverlays: false }),
          }));
        const out: string[] = [];
        for (const [i, a] of boxes.entries())
          for (const b of boxes.slice(i + 1)) if (overlap(a.box, b.box)) out.push(`${a.id} overlaps ${b.id}`);
        // biome-ignore lint/suspicious/noExplicitAny: cytoscape's edge
        for (const e of cy.edges('.link').toArray() as any[]) {
          const label: Box = e.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true });
          for (const w of boxes.filter((x) => x.workload)) {
            if (crosses(e.source().position(), e.target().position(), w.box))
              out.push(`${w.id} lies over ${e.id()}`);
            if (overlap(label, w.box)) out.push(`${w.id} covers the cost of ${e.id()}`);
          }
        }
        return { out, labelled: boxes.length };
      });
      expect(clashes.labelled).toBe(28);
      expect(clashes.out).toEqual([]);
      await shot('topology-28');
    });

    it('the path highlight of a contract with two server instances shows both', async () => {
      await page.getByLabel('Highlight the path of a contract').selectOption('voting-app/voting-frontend');
      await expect.poll(() => page.locator('.path-info [data-server]').count()).toBe(2);
      const lines = await page.locator('.path-info [data-server]').allTextContents();
      expect(lines.find((l) => l.includes('gcp-11'))).toContain('aws-11 → aws-p1 → gcp-p1 → gcp-11');
      expect(lines.find((l) => l.includes('azr-11'))).toContain('aws-11 → aws-p1 → azr-p1 → azr-11');
      const onPath = await page.getByTestId('graph').evaluate((el) =>
        // biome-ignore lint/suspicious/noExplicitAny: cytoscape's Core
        (el as any).cy
          .elements('.onpath')
          // biome-ignore lint/suspicious/noExplicitAny: cytoscape's element
          .map((x: any) => x.id())
          .sort(),
      );
      for (const id of [
        'n:aws-11',
        'n:gcp-11',
        'n:azr-11',
        'n:azr-p1',
        'a:gcp-11:gcp-p1',
        'a:azr-11:azr-p1',
        'l:aws-p1--azr-p1',
        'l:aws-p1--gcp-p1',
      ])
        expect(onPath).toContain(id);
      await shot('topology-two-servers');
    });
  },
);
