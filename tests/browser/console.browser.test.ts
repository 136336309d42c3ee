/**
 * The operator console in real Chromium, on the real pipeline (simulator, receiver, workers, embedded store):
 * sign in and out; find a call by its conversation id and see each attempt; narrow the heatmap to the last hour;
 * retry the retryable failures. Screenshots at 1440×900 and 390×844 under reports/screenshots/.
 */
import { scopedKey } from '@ivr/core';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDashboardApp } from '@ivr/dashboard';
import { CHROMIUM_INSTALL_HINT, chromiumAvailable, launchChromium, type Browser, type BrowserContext, type Page } from '@ivr/dashboard/testing/chromium';
import { serveOnEphemeralPort, type RunningServer } from '@ivr/dashboard/testing/serve';
import { jobIdsForKey } from '@ivr/ops';
import { makeDoc } from '@ivr/reporting/fixtures';
import { waitFor } from '@ivr/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPipeline, type Pipeline } from '../integration/pipeline-harness';

const SKIP = process.env.SKIP_BROWSER_TESTS === '1';
const SCREENSHOTS = fileURLToPath(new URL('../../reports/screenshots/', import.meta.url));
const TOKEN = 'browser-console-token-93fa2';
const SIZES = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } } as const;

interface PageGlobals {
  document: {
    getElementById(id: string): { data?: Array<{ type?: string; y?: unknown[] }> } | null;
    scrollingElement: { scrollWidth: number } | null;
  };
}

describe.skipIf(SKIP)('operator console in Chromium', () => {
  if (!chromiumAvailable()) {
    it('needs Chromium', () => {
      throw new Error(CHROMIUM_INSTALL_HINT);
    });
    return;
  }

  let p: Pipeline;
  let server: RunningServer;
  let browser: Browser;
  let reportsDir: string;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    p = await startPipeline({ TARGET_QUEUE_ID: 'q-browser', OCCUPANCY_THRESHOLD: '3', APPLY_ATTEMPTS: '3', APPLY_BACKOFF_MS: '30' });
    await p.sim.control.setQueue('q-browser', { idle: 6 });
    // Calls exist before their webhooks (the strict simulator answers 404 for any other).
    for (const cid of ['c-journey', 'c-gone', 'c-flaky']) await p.sim.control.createConversation(cid, { customerId: 'cust' });
    await p.sim.control.fault({ match: 'c-journey', status: 503, rate: 1, count: 2 });
    await p.sim.control.fault({ match: 'c-gone', status: 404, rate: 1 });
    await p.sim.control.fault({ match: 'c-flaky', status: 503, rate: 1 });
    for (const cid of ['c-journey', 'c-gone', 'c-flaky']) {
      const res = await p.post({ conversationId: cid, participantId: 'cust', dtmf: '1' });
      keys[cid] = res.body.idempotencyKey as string;
    }
    // Some history for the charts: the last 2 hours, both routes, a few fail-open decisions, and one old decision.
    const now = Date.now();
    const history = Array.from({ length: 120 }, (_, i) =>
      makeDoc(10_000 + i, {
        decisionId: `hist-${i}`,
        timestamp: new Date(now - i * 60_000 - 5000).toISOString(),
        dtmf: String((i % 4) + 1),
        queue_occupancy: i % 17 === 0 ? null : i % 9,
        occupancySource: i % 17 === 0 ? 'fail_open' : 'poll',
        routing_decision: i % 17 === 0 ? 'route_to_queue' : i % 9 >= 3 ? 'route_to_queue' : 'route_to_vm',
        latencyMs: 4 + (i % 30),
      }),
    );
    history.push(makeDoc(20_000, { decisionId: 'hist-old', timestamp: new Date(now - 3 * 86_400_000).toISOString() }));
    await p.workers.store.writeBatch(history);
    const writes = p.receiver.queues.writes;
    await waitFor(async () => (await writes.getJobState(jobIdsForKey(scopedKey(keys['c-journey']!, 'body')).apply)) === 'completed', 'c-journey written', 20000);
    await waitFor(async () => (await writes.getFailedCount()) === 2, 'c-gone and c-flaky failed', 20000);

    reportsDir = await mkdtemp(join(tmpdir(), 'ivr-console-browser-'));
    const app = createDashboardApp({ queues: p.receiver.queues.all, store: p.workers.store, reportsDir, adminToken: TOKEN });
    server = await serveOnEphemeralPort(app);
    browser = await launchChromium();
  }, 90000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await p?.close();
    if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
  });

  async function signedIn(size: keyof typeof SIZES): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await browser.newContext({ viewport: SIZES[size], acceptDownloads: true });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/admin/sign-in`);
    await page.fill('#token', TOKEN);
    await Promise.all([page.waitForURL(`${server.url}/admin`), page.click('button[type=submit]')]);
    return { ctx, page };
  }

  const noHorizontalScroll = (page: Page) => page.evaluate(() => (globalThis as unknown as PageGlobals).document.scrollingElement?.scrollWidth ?? 0);

  it('signs in with the token form (no Basic prompt), lands on the status page, signs out', async () => {
    const ctx = await browser.newContext({ viewport: SIZES.desktop });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const first = await page.goto(`${server.url}/admin/events?q=c-journey`);
    expect(first?.status()).toBe(401);
    await page.locator('#token').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'console-sign-in-1440.png'), fullPage: true });
    await page.fill('#token', 'wrong-token-value');
    await page.click('button[type=submit]');
    expect(await page.textContent('#sign-in-error')).toContain('not the admin token');
    await page.fill('#token', TOKEN);
    await Promise.all([page.waitForURL(/\/admin\/events\?q=c-journey$/), page.click('button[type=submit]')]);
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === 'ivr_admin_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });
    await page.goto(`${server.url}/admin`);
    await page.locator('#status-calls').waitFor();
    expect(await page.textContent('#status-backlog')).toContain('genesys-writes');
    expect(await page.textContent('#status-failures')).toContain('Genesys 404');
    for (const link of ['Status', 'Find a call', 'Heatmaps', 'Failures', 'Bull Board', 'Metrics']) await page.getByRole('link', { name: link, exact: true }).first().waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'console-status-1440.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/admin\/sign-in$/), page.click('.ivr-signout button')]);
    expect((await ctx.cookies()).find((c) => c.name === 'ivr_admin_session')).toBeUndefined();
    const after = await page.goto(`${server.url}/admin`);
    expect(after?.status()).toBe(401);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('status page on a phone', async () => {
    const { ctx, page } = await signedIn('phone');
    await page.locator('#status-calls').waitFor();
    // auto-refresh is on, and can be paused (remembered for the next page load)
    expect(await page.isChecked('#auto-refresh')).toBe(true);
    await page.waitForFunction(() => /next in \d+ s/.test(String((globalThis as unknown as { document: { getElementById(id: string): { textContent: string } | null } }).document.getElementById('refresh-countdown')?.textContent)));
    await page.uncheck('#auto-refresh');
    expect(await page.textContent('#refresh-countdown')).toBe('paused');
    await page.reload();
    expect(await page.isChecked('#auto-refresh')).toBe(false);
    await page.check('#auto-refresh');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-status-390.png'), fullPage: true });
    expect(await noHorizontalScroll(page)).toBeLessThanOrEqual(SIZES.phone.width);
    await ctx.close();
  });

  it('finds a call by its conversation id and shows each Genesys attempt', async () => {
    for (const size of ['desktop', 'phone'] as const) {
      const { ctx, page } = await signedIn(size);
      await page.getByRole('link', { name: 'Find a call', exact: true }).first().click();
      await page.fill('#q', 'c-journey');
      await Promise.all([page.waitForURL(/q=c-journey/), page.press('#q', 'Enter')]);
      const rows = page.locator('#journey-attempts tbody tr');
      expect(await rows.count()).toBe(3);
      expect(await rows.nth(0).textContent()).toContain('retry');
      expect(await rows.nth(0).textContent()).toContain('503');
      expect(await rows.nth(2).textContent()).toContain('applied');
      expect(await page.textContent('#journey-decision')).toContain('route_to_queue');
      expect(await page.textContent('#journey')).toContain('Stored.');
      await page.screenshot({ path: join(SCREENSHOTS, `console-events-${SIZES[size].width}.png`), fullPage: true });
      if (size === 'phone') expect(await noHorizontalScroll(page)).toBeLessThanOrEqual(SIZES.phone.width);
      await ctx.close();
    }
  });

  it('narrows the heatmap to the last hour with a preset, exports CSV, and shows a bad range as an HTML error', async () => {
    for (const size of ['desktop', 'phone'] as const) {
      const { ctx, page } = await signedIn(size);
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}/admin/heatmap`);
      await page.getByRole('link', { name: '1 hour', exact: true }).click();
      await page.waitForURL(/range=1h/);
      await page.waitForSelector('#heatmap-time .main-svg', { timeout: 20000 });
      await page.waitForSelector('#heatmap-agents .main-svg', { timeout: 20000 });
      const total = Number(await page.textContent('[data-field="total"]'));
      // 60 of the history decisions are inside the last hour, plus the pipeline's three calls
      expect(total).toBeGreaterThanOrEqual(60);
      expect(total).toBeLessThan(121);
      const agentsRows = await page.evaluate(() => (globalThis as unknown as PageGlobals).document.getElementById('heatmap-agents')!.data![0]!.y);
      expect(agentsRows).toContain('unknown (Genesys unavailable)');
      expect(await page.locator('#heatmap-dtmf-table').count()).toBe(1);
      await page.screenshot({ path: join(SCREENSHOTS, `console-heatmap-1h-${SIZES[size].width}.png`), fullPage: true });
      if (size === 'phone') expect(await noHorizontalScroll(page)).toBeLessThanOrEqual(SIZES.phone.width);
      if (size === 'desktop') {
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-export="csv"][data-chart="heatmap-dtmf"]')]);
        const csv = await readFile((await download.path())!, 'utf8');
        expect(csv.split('\r\n')[0]).toBe('DTMF pressed,Agent queue,Voicemail');
        const [png] = await Promise.all([page.waitForEvent('download'), page.click('button[data-export="png"][data-chart="heatmap-time"]')]);
        expect(png.suggestedFilename()).toBe('heatmap-time.png');
        expect((await readFile((await png.path())!)).subarray(1, 4).toString()).toBe('PNG');
        const [json] = await Promise.all([page.waitForEvent('download'), page.click('button[data-export="json"][data-chart="heatmap-agents"]')]);
        const agents = JSON.parse(await readFile((await json.path())!, 'utf8')) as { rows: string[] };
        expect(agents.rows.at(-1)).toBe('unknown (Genesys unavailable)');
        const bad = await page.goto(`${server.url}/admin/heatmap?from=last-hour`);
        expect(bad?.status()).toBe(400);
        expect(await page.textContent('#heatmap-error')).toContain('last-hour');
        await page.screenshot({ path: join(SCREENSHOTS, 'console-heatmap-error-1440.png'), fullPage: true });
      }
      expect(errors).toEqual([]);
      await ctx.close();
    }
  }, 90_000); // two sizes, five Plotly charts each (the estimated-wait view is the fifth), CSV/PNG/JSON downloads

  it('retries the retryable failures and leaves the 404 failed', async () => {
    const { ctx, page } = await signedIn('desktop');
    await page.goto(`${server.url}/admin/failures`);
    expect(await page.textContent('#failure-groups')).toContain('Genesys 404');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-failures-1440.png'), fullPage: true });
    await p.sim.control.clearFaults();
    await p.sim.control.fault({ match: 'c-gone', status: 404, rate: 1 });
    await Promise.all([page.waitForURL(/retried=1&left=1/), page.click('#retry-retryable')]);
    expect(await page.textContent('#failures-message')).toContain('Retried 1 job(s); 1 left failed');
    const writes = p.receiver.queues.writes;
    await waitFor(async () => (await writes.getJobState(jobIdsForKey(scopedKey(keys['c-flaky']!, 'body')).apply)) === 'completed', 'c-flaky written', 20000);
    expect(await writes.getJobState(jobIdsForKey(scopedKey(keys['c-gone']!, 'body')).apply)).toBe('failed');
    const phone = await browser.newContext({ viewport: SIZES.phone, storageState: await ctx.storageState() });
    const pp = await phone.newPage();
    await pp.goto(`${server.url}/admin/failures`);
    await pp.screenshot({ path: join(SCREENSHOTS, 'console-failures-390.png'), fullPage: true });
    await phone.close();
    await ctx.close();
  });

  it('Bull Board: display names, the journey link on a job', async () => {
    const { ctx, page } = await signedIn('desktop');
    await page.goto(`${server.url}/admin/queues`);
    await page.getByText('Genesys writes (apply)').first().waitFor({ timeout: 20000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'console-bull-board-1440.png'), fullPage: true });
    await page.goto(`${server.url}/admin/queues/queue/genesys-writes/${encodeURIComponent(jobIdsForKey(scopedKey(keys['c-gone']!, 'body')).apply)}`);
    const link = page.getByRole('link', { name: 'Call journey' });
    await link.first().waitFor({ timeout: 20000 });
    expect(await link.first().getAttribute('href')).toContain('/admin/events?q=');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-bull-board-job-1440.png'), fullPage: true });
    await ctx.close();
  });
});
