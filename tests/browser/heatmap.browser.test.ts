import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDashboardApp } from '@ivr/dashboard';
import { CHROMIUM_INSTALL_HINT, chromiumAvailable, launchChromium, type Browser } from '@ivr/dashboard/testing/chromium';
import { expectedCounts, knownDecisions } from '@ivr/dashboard/testing/decisions';
import { serveOnEphemeralPort, type RunningServer } from '@ivr/dashboard/testing/serve';
import { createQueues, QUEUE_NAMES, type IvrQueues } from '@ivr/queue-contract';
import { createEmbeddedStore, writeHeatmapFile, type DecisionStore, type HeatmapData } from '@ivr/reporting';
import { testRedis } from '@ivr/testing';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SKIP = process.env.SKIP_BROWSER_TESTS === '1';
const SCREENSHOTS = fileURLToPath(new URL('../../reports/screenshots/', import.meta.url));
const TOKEN = 'browser-test-admin-token';
const N = 200;

/** What a Plotly heatmap div holds after drawing, read in the page. */
interface DrawnPlot {
  type: string | undefined;
  x: string[];
  y: string[];
  z: number[][];
  svg: boolean;
}

/** "y|x" → count from the drawn z matrix (zero cells dropped); `cols`/`rows` map display labels back to data keys by position. */
function drawnCells(p: DrawnPlot, matrix: { rows: string[]; cols: string[] }): Map<string, number> {
  const out = new Map<string, number>();
  // Rows of z follow y and columns follow x; the page may show friendly labels, so map by position
  // onto the data matrix, in whichever orientation the renderer chose.
  const transposed = p.z.length === matrix.cols.length && p.z.length !== matrix.rows.length;
  p.z.forEach((row, i) =>
    row.forEach((v, j) => {
      if (!v) return;
      const r = transposed ? matrix.rows[j] : matrix.rows[i];
      const c = transposed ? matrix.cols[i] : matrix.cols[j];
      out.set(`${r}|${c}`, (out.get(`${r}|${c}`) ?? 0) + v);
    }),
  );
  return out;
}

/** Just the DOM this test touches inside the page (the project compiles without the DOM lib). */
interface PlotTrace {
  type?: string;
  x?: unknown[];
  y?: unknown[];
  z?: number[][];
}
interface PageElement {
  data?: PlotTrace[];
  textContent: string | null;
  querySelector(selector: string): unknown;
}
interface PageGlobals {
  document: { getElementById(id: string): PageElement | null };
}

const sum = (z: number[][]) => z.flat().reduce((a, b) => a + (Number(b) || 0), 0);

describe.skipIf(SKIP)('heatmap and Bull Board in Chromium', () => {
  if (!chromiumAvailable()) {
    it('needs Chromium', () => {
      throw new Error(CHROMIUM_INSTALL_HINT);
    });
    return;
  }

  const r = testRedis('browser');
  const empty = testRedis('browser-empty');
  let queues: IvrQueues;
  let store: DecisionStore;
  let emptyStore: DecisionStore;
  let reportsDir: string;
  let server: RunningServer;
  let browser: Browser;
  const docs = knownDecisions(N, r.prefix);
  const want = expectedCounts(docs);

  beforeAll(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    reportsDir = await mkdtemp(join(tmpdir(), 'ivr-browser-'));
    store = createEmbeddedStore(r.redis, r.prefix);
    await store.init();
    emptyStore = createEmbeddedStore(empty.redis, empty.prefix);
    await emptyStore.init();
    const w = await store.writeBatch(docs);
    expect(w.written).toBe(N);

    queues = createQueues(r.redis, r.prefix, { applyAttempts: 1, applyBackoffMs: 100 });
    // Something for an operator to look at: waiting events, one completed and one failed write, a delayed report.
    const worker = new Worker(
      QUEUE_NAMES.writes,
      async (job) => {
        if (job.data.fail) throw new Error('Genesys answered 400: participant not found');
        return { patched: true };
      },
      { connection: r.redis.duplicate({ maxRetriesPerRequest: null }), prefix: r.prefix },
    );
    const settled = new Promise<void>((resolve) => {
      let n = 0;
      const done = () => ++n === 2 && resolve();
      worker.on('completed', done);
      worker.on('failed', done);
    });
    await queues.writes.add('apply', { conversationId: 'c-ok' });
    await queues.writes.add('apply', { conversationId: 'c-bad', fail: true }, { attempts: 1 });
    await settled;
    await worker.close();
    for (let i = 0; i < 5; i++) await queues.events.add('dtmf', { conversationId: `c-${i}`, dtmf: String(i) });
    await queues.reports.add('report', { decisionId: 'd-1' }, { delay: 3_600_000 });

    const app = createDashboardApp({ queues: queues.all, store, reportsDir, adminToken: TOKEN });
    server = await serveOnEphemeralPort(app);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await queues?.close();
    await store?.close().catch(() => {});
    await emptyStore?.close().catch(() => {});
    await r.cleanup();
    await empty.cleanup();
    if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
  });

  it('Plotly draws the three heatmaps of the generated file with the known counts', async () => {
    const result = await writeHeatmapFile(store, reportsDir);
    expect(result).toMatchObject({ status: 'ok', decisions: N });

    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(result.path).href);
    await page.waitForFunction(
      () =>
        ['heatmap-dtmf', 'heatmap-hour', 'heatmap-agents'].every((id) => {
          const el = (globalThis as unknown as PageGlobals).document.getElementById(id);
          return !!el && Array.isArray(el.data) && el.data.length > 0 && !!el.querySelector('.main-svg');
        }),
      undefined,
      { timeout: 20000 },
    );

    const { plots, data } = await page.evaluate(() => {
      const doc = (globalThis as unknown as PageGlobals).document;
      const read = (id: string) => {
        const el = doc.getElementById(id)!;
        const t = el.data![0]!;
        return {
          type: t.type,
          x: (t.x ?? []).map(String),
          y: (t.y ?? []).map(String),
          z: (t.z ?? []).map((row: number[]) => Array.from(row, Number)),
          svg: !!el.querySelector('.main-svg'),
        };
      };
      return {
        plots: { dtmf: read('heatmap-dtmf'), hour: read('heatmap-hour'), agents: read('heatmap-agents') },
        data: JSON.parse(doc.getElementById('heatmap-data')!.textContent ?? 'null') as unknown,
      };
    });
    // The page's JSON wraps the store's HeatmapData (under `data`) with chart metadata.
    const hd = ((data as { data?: HeatmapData }).data ?? data) as HeatmapData;
    expect(errors, 'page errors').toEqual([]);
    expect(hd.total).toBe(N);

    const views: Array<[DrawnPlot, HeatmapData['dtmfByRoute'], Map<string, number>]> = [
      [plots.dtmf, hd.dtmfByRoute, want.dtmf],
      [plots.hour, hd.hourByRoute, want.hour],
      [plots.agents, hd.agentsByRoute, want.agents],
    ];
    for (const [plot, matrix, expected] of views) {
      expect(plot.type).toBe('heatmap');
      expect(plot.svg).toBe(true);
      expect(sum(plot.z)).toBe(N);
      expect(drawnCells(plot, matrix)).toEqual(expected);
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'heatmap.png'), fullPage: true });
    await page.close();
  });

  it('the empty state explains that there is nothing to show', async () => {
    const result = await writeHeatmapFile(emptyStore, join(reportsDir, 'empty'));
    expect(result.status).toBe('empty');
    expect(result.decisions).toBe(0);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(result.path).href);
    await page.waitForLoadState('load');
    expect(errors, 'page errors').toEqual([]);
    const text = (await page.textContent('body')) ?? '';
    expect(text).toMatch(/no decisions|no data|nothing/i);
    await page.screenshot({ path: join(SCREENSHOTS, 'heatmap-empty.png'), fullPage: true });
    await page.close();
  });

  it('the live /admin/heatmap page renders through the authenticated server', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 }, extraHTTPHeaders: { Authorization: `Basic ${Buffer.from(`operator:${TOKEN}`).toString('base64')}` } });
    const page = await ctx.newPage();
    const res = await page.goto(`${server.url}/admin/heatmap?from=2024-05-01&to=2024-05-02`);
    expect(res?.status()).toBe(200);
    await page.waitForSelector('#heatmap-dtmf .main-svg', { timeout: 20000 });
    const total = await page.evaluate(() => {
      const el = (globalThis as unknown as PageGlobals).document.getElementById('heatmap-dtmf')!;
      return (el.data![0]!.z ?? []).flat().reduce((a: number, b: number) => a + Number(b), 0);
    });
    expect(total).toBe(N);
    expect(await page.textContent('#heatmap-footer')).toContain('Data source: embedded store (Redis)');

    // A range with nothing in it says so (not "nothing recorded yet"), and names the range.
    const none = await page.goto(`${server.url}/admin/heatmap?from=2001-01-01&to=2001-01-02`);
    expect(none?.status()).toBe(200);
    const empty = (await page.textContent('#heatmap-empty')) ?? '';
    expect(empty).toContain('No decisions in this time range');
    expect(empty).toContain('2001-01-01 00:00:00 → 2001-01-02 00:00:00 UTC');
    await page.screenshot({ path: join(SCREENSHOTS, 'heatmap-empty-range.png'), fullPage: true });
    await ctx.close();
  });

  it('Bull Board is behind the admin token and lists the three queues', async () => {
    // Without credentials a browser gets the sign-in page (401, no Basic prompt); an API client the Basic challenge.
    // (Browsers send Basic only after a challenge, so the signed-in contexts below send the header themselves.)
    const anon = await browser.newContext();
    const anonPage = await anon.newPage();
    const signIn = await anonPage.goto(`${server.url}/admin/queues`);
    expect(signIn?.status()).toBe(401);
    await anonPage.locator('form[action="/admin/sign-in"] #token').waitFor();
    const denied = await anon.request.get(`${server.url}/admin/queues`, { headers: { accept: 'application/json' } });
    expect(denied.status()).toBe(401);
    expect(denied.headers()['www-authenticate']).toContain('Basic realm="ivr-admin"');
    await anon.close();

    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, extraHTTPHeaders: { Authorization: `Basic ${Buffer.from(`operator:${TOKEN}`).toString('base64')}` } });
    const page = await ctx.newPage();
    const res = await page.goto(`${server.url}/admin/queues`);
    expect(res?.status()).toBe(200);
    for (const name of Object.values(QUEUE_NAMES)) {
      await page.getByText(name, { exact: false }).first().waitFor({ timeout: 20000 });
    }
    const body = (await page.textContent('body')) ?? '';
    for (const name of Object.values(QUEUE_NAMES)) expect(body).toContain(name);
    await page.screenshot({ path: join(SCREENSHOTS, 'bull-board.png'), fullPage: true });

    // The failed write is inspectable from the board.
    await page.goto(`${server.url}/admin/queues/queue/${QUEUE_NAMES.writes}?status=failed`);
    await page.getByText('participant not found').first().waitFor({ timeout: 20000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'bull-board-failed.png'), fullPage: true });
    await ctx.close();
  });
});
