import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Screenshots: test-results/console/, or docs/images/ with TRELLIS_UPDATE_SCREENSHOTS=1. */
export const SHOTS = process.env.TRELLIS_UPDATE_SCREENSHOTS
  ? fileURLToPath(new URL('../../docs/images', import.meta.url))
  : fileURLToPath(new URL('../../test-results/console', import.meta.url));

/** Debian's chromium, driven by playwright-core: the console tests' real browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_HINT =
  'the console tests need a browser: apt-get install chromium (bash .ci/run installs it)';
export const haveChromium = existsSync(CHROMIUM);
/** Under CI a missing browser is a failure; on a laptop the console tests skip. */
export const runConsoleTests = haveChromium || process.env.CI === 'true';

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors (other than expected failed loads). */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  if (!haveChromium) throw new Error(`CI=true but ${CHROMIUM} is missing: ${CHROMIUM_HINT}`);
  // A fresh profile per run: nothing cached or remembered from an earlier one.
  const profile = await mkdtemp(join(tmpdir(), 'trellis-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport: { width: 1280, height: 800 },
    // The lab's orchestrator serves HTTPS with a certificate from its own fabric CA; a user
    // imports ca.crt into the browser (docs/console.md), a throwaway profile just accepts it.
    ignoreHTTPSErrors: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    // A refused login or delete is an expected 4xx, which chromium logs as a failed load.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource'))
      pageErrors.push(msg.text());
  });
  return {
    context,
    page,
    pageErrors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Rows of the table labelled `label`, as objects keyed by column header. */
export async function readTable(page: Page, label: string): Promise<Record<string, string>[]> {
  return page.locator(`table[aria-label="${label}"]`).evaluate((t) => {
    const heads = [...t.querySelectorAll('thead th')].map((th) => th.textContent ?? '');
    return [...t.querySelectorAll('tbody tr')].map((tr) =>
      Object.fromEntries([...tr.querySelectorAll('td')].map((td, i) => [heads[i], td.textContent ?? ''])),
    );
  });
}

/** The cytoscape node `id` of the graph on the page: its data and where it is drawn. */
export function cyNode(page: Page, id: string) {
  return page.evaluate((nodeId) => {
    const el = document.querySelector('[data-testid="graph"]') as unknown as {
      cy: {
        getElementById(i: string): {
          data(): Record<string, unknown>;
          renderedPosition(): { x: number; y: number };
        };
      };
    };
    const n = el.cy.getElementById(nodeId);
    return { data: n.data(), pos: n.renderedPosition() };
  }, id);
}

/** Clicks a link of the left navigation. */
export async function nav(page: Page, label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
}

/** Clicks a graph node on the canvas and returns its details overlay as (term, value) pairs. */
export async function openNodeOverlay(
  page: Page,
  id: string,
): Promise<{ terms: string[]; values: string[]; domain: string }> {
  const { pos } = await cyNode(page, id);
  const box = (await page.getByTestId('graph').boundingBox())!;
  await page.mouse.click(box.x + pos.x, box.y + pos.y);
  const overlay = page.getByRole('complementary', { name: 'Node details' });
  await overlay.waitFor();
  return {
    terms: await overlay.locator('dt').allTextContents(),
    values: await overlay.locator('dd').allTextContents(),
    domain: (await overlay.locator('dd[data-field="Domain"]').textContent()) ?? '',
  };
}
