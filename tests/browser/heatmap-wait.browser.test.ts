/**
 * The estimated-wait view (issue 19) in Chromium: reached from the dashboard (Heatmaps → Estimated wait), drawn by
 * Plotly with the store's means, decisions without a figure drawn as their own grey layer (never a wait of 0).
 * Screenshot: reports/screenshots/heatmap-wait.png (1440×900).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDashboardApp } from '@ivr/dashboard';
import { CHROMIUM_INSTALL_HINT, chromiumAvailable, launchChromium, type Browser } from '@ivr/dashboard/testing/chromium';
import { serveOnEphemeralPort, type RunningServer } from '@ivr/dashboard/testing/serve';
import { createQueues, type IvrQueues } from '@ivr/queue-contract';
import { createEmbeddedStore, type DecisionDoc, type DecisionStore, type WaitView } from '@ivr/reporting';
import { makeDoc } from '@ivr/reporting/fixtures';
import { testRedis } from '@ivr/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SKIP = process.env.SKIP_BROWSER_TESTS === '1';
const SCREENSHOTS = fileURLToPath(new URL('../../reports/screenshots/', import.meta.url));
const TOKEN = 'browser-test-admin-token';

/**
 * A day of calls under a policy where DTMF 1 and 3 have maxEstimatedWaitS 90 (threshold 2): they carry a figure when
 * enough agents are idle; DTMF 2 and 4 have no maxEstimatedWaitS, so none of theirs has a figure.
 */
function waitDecisions(): DecisionDoc[] {
  return Array.from({ length: 160 }, (_, i) => {
    const dtmf = String((i % 4) + 1);
    const hour = 8 + (i % 11);
    const agents = (i * 7) % 6;
    const ruled = dtmf === '1' || dtmf === '3';
    const estimatedWaitS = ruled && agents >= 2 ? 20 + ((i * 37) % 160) : undefined;
    const route = agents < 2 || (estimatedWaitS !== undefined && estimatedWaitS > 90) ? 'route_to_vm' : 'route_to_queue';
    return makeDoc(i, {
      dtmf,
      timestamp: new Date(Date.UTC(2024, 4, 1, hour, i % 60)).toISOString(),
      threshold: 2,
      queue_occupancy: agents,
      routing_decision: route,
      ...(estimatedWaitS !== undefined ? { estimatedWaitS } : {}),
    });
  });
}

interface Drawn {
  z: Array<Array<number | null>>;
}
interface PageGlobals {
  document: { getElementById(id: string): { data?: Drawn[] } | null };
}

describe.skipIf(SKIP)('estimated-wait view in Chromium', () => {
  if (!chromiumAvailable()) {
    it('needs Chromium', () => {
      throw new Error(CHROMIUM_INSTALL_HINT);
    });
    return;
  }
  const r = testRedis('browser-wait');
  let queues: IvrQueues;
  let store: DecisionStore;
  let server: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    store = createEmbeddedStore(r.redis, r.prefix);
    expect((await store.writeBatch(waitDecisions())).written).toBe(160);
    queues = createQueues(r.redis, r.prefix, { applyAttempts: 1, applyBackoffMs: 100 });
    server = await serveOnEphemeralPort(createDashboardApp({ queues: queues.all, store, reportsDir: join(SCREENSHOTS, '..'), adminToken: TOKEN }));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await queues?.close();
    await store?.close().catch(() => {});
    await r.cleanup();
  });

  it('is reached from the dashboard and draws the store’s mean waits; no-figure cells are grey, not 0', async () => {
    const want: WaitView = (await store.heatmap()).wait;
    expect(want.totals.withFigure).toBeGreaterThan(0);
    expect(want.totals.routedByWait).toBeGreaterThan(0);
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, extraHTTPHeaders: { Authorization: `Basic ${Buffer.from(`operator:${TOKEN}`).toString('base64')}` } });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/admin`);
    await page.getByRole('link', { name: 'Heatmaps' }).first().click();
    await page.getByRole('link', { name: 'Estimated wait' }).click();
    expect(page.url()).toMatch(/\/admin\/heatmap#sec-heatmap-wait$/);
    await page.waitForSelector('#heatmap-wait .main-svg', { timeout: 20000 });
    const drawn = await page.evaluate(() => {
      const el = (globalThis as unknown as PageGlobals).document.getElementById('heatmap-wait')!;
      return { noFigure: el.data![0]!.z, wait: el.data![1]!.z };
    });
    expect(drawn.wait).toEqual(want.meanS);
    want.rows.forEach((_, i) =>
      want.cols.forEach((_, j) => {
        const noFigure = (want.decisions[i]![j] ?? 0) > 0 && want.meanS[i]![j] === null;
        expect(drawn.noFigure[i]![j]).toBe(noFigure ? 1 : null);
      }),
    );
    // DTMF 2 and 4 never have a figure: their rows are all grey or empty, no wait drawn
    for (const d of ['2', '4']) expect(drawn.wait[want.rows.indexOf(d)]!.every((v) => v === null)).toBe(true);
    expect(await page.textContent('[data-field="wait-rule"]')).toContain(String(want.totals.routedByWait));
    const description = (await page.textContent('#sec-heatmap-wait p')) ?? '';
    expect(description).toContain(`${want.totals.withFigure} of 160 decisions had Genesys' estimated wait`);
    await page.screenshot({ path: join(SCREENSHOTS, 'heatmap-wait.png') });
    await ctx.close();
  });
});
