import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQueues, QUEUE_NAMES, type IvrQueues } from '@ivr/queue-contract';
import { createEmbeddedStore, StoreUnavailableError, type DecisionStore, type HeatmapData } from '@ivr/reporting';
import { testRedis } from '@ivr/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from './app';
import { GuessThrottle } from './security';
import { expectedCounts, knownDecisions, matrixCells } from './testing/decisions';

const TOKEN = 'test-admin-token-5f2c';
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
const basic = (user: string, pass: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });

const ADMIN_ROUTES: Array<[method: 'GET' | 'POST', path: string]> = [
  ['GET', '/admin'],
  ['GET', '/admin/queues'],
  ['GET', '/admin/queues/'],
  ['GET', '/admin/queues/queue/ivr-events'],
  ['GET', '/admin/queues/api/queues'],
  ['GET', '/admin/queues/static/images/logo.svg'],
  ['GET', '/admin/heatmap'],
  ['GET', '/admin/heatmap?range=1h'],
  ['GET', '/admin/events'],
  ['GET', '/admin/events?q=nothing-like-this'],
  ['GET', '/admin/failures'],
  ['GET', '/admin/metrics'],
  ['POST', '/admin/generate-heatmap'],
  ['POST', '/admin/failures/retry-retryable'],
];

describe('dashboard app (Redis-backed)', () => {
  const r = testRedis('dash');
  let queues: IvrQueues;
  let store: DecisionStore;
  let reportsDir: string;
  let app: ReturnType<typeof createDashboardApp>;

  beforeAll(async () => {
    queues = createQueues(r.redis, r.prefix, { applyAttempts: 3, applyBackoffMs: 100 });
    store = createEmbeddedStore(r.redis, r.prefix);
    await store.init();
    reportsDir = await mkdtemp(join(tmpdir(), 'ivr-dash-'));
    // A generous throttle: this suite sends hundreds of wrong tokens on purpose (the throttle has its own test).
    app = createDashboardApp({ queues: queues.all, store, reportsDir, adminToken: TOKEN, throttle: new GuessThrottle(100_000) });
  });

  afterAll(async () => {
    await queues?.close();
    await r.cleanup();
    if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
  });

  it('answers /healthz without auth and redirects / to the status page', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    const res = await app.request('/');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/admin');
  });

  describe.each(ADMIN_ROUTES)('%s %s', (method, path) => {
    const wrong: Array<[string, Record<string, string>]> = [
      ['no credentials', {}],
      ['a wrong bearer token', bearer('nope')],
      ['a bearer token with a suffix', bearer(`${TOKEN}x`)],
      ['basic auth with a wrong password', basic('admin', 'nope')],
      ['basic auth with the token as user name', basic(TOKEN, '')],
      ['an unknown scheme', { Authorization: `Token ${TOKEN}` }],
    ];
    it.each(wrong)('401 with %s', async (_what, headers) => {
      const res = await app.request(path, { method, headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="ivr-admin"/);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('unauthorized');
      expect(body.error.message).toBeTruthy();
    });

    it.each([
      ['bearer', bearer(TOKEN)],
      ['basic (any user)', basic('operator', TOKEN)],
    ])('2xx/3xx with %s', async (_what, headers) => {
      const res = await app.request(path, { method, headers });
      // a search that finds nothing is a 404 page, not an auth failure
      if (path.includes('q=nothing')) expect(res.status).toBe(404);
      else expect(res.status, await res.clone().text()).toBeLessThan(400);
    });
  });

  it('serves Bull Board static assets and the UI entry page to an authenticated client', async () => {
    const asset = await app.request('/admin/queues/static/images/logo.svg', { headers: bearer(TOKEN) });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('svg');
    const page = await app.request('/admin/queues', { headers: bearer(TOKEN) });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('/admin/queues/');
    expect(html).toContain('IVR queues');
  });

  it('lists the three queues with their job counts in the Bull Board API', async () => {
    await queues.events.add('dtmf', { n: 1 });
    await queues.events.add('dtmf', { n: 2 });
    await queues.writes.add('apply', { n: 1 }, { delay: 60_000 });
    await queues.reports.add('report', { n: 1 });
    await queues.reports.add('report', { n: 2 });
    await queues.reports.add('report', { n: 3 });

    const res = await app.request('/admin/queues/api/queues', { headers: bearer(TOKEN) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: Array<{ name: string; counts: Record<string, number>; readOnlyMode: boolean }> };
    const byName = new Map(body.queues.map((q) => [q.name, q]));
    expect([...byName.keys()].sort()).toEqual(Object.values(QUEUE_NAMES).sort());
    expect(byName.get(QUEUE_NAMES.events)?.counts.waiting).toBe(2);
    expect(byName.get(QUEUE_NAMES.writes)?.counts.delayed).toBe(1);
    expect(byName.get(QUEUE_NAMES.reports)?.counts.waiting).toBe(3);
    for (const q of body.queues) expect(q.readOnlyMode).toBe(false);
  });

  it('read-only mode is reported per queue and mutations are refused', async () => {
    const ro = createDashboardApp({ queues: queues.all, store, reportsDir, adminToken: TOKEN, readOnly: true });
    const res = await ro.request('/admin/queues/api/queues', { headers: bearer(TOKEN) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: Array<{ name: string; readOnlyMode: boolean; allowRetries: boolean }> };
    expect(body.queues).toHaveLength(3);
    for (const q of body.queues) {
      expect(q.readOnlyMode).toBe(true);
      expect(q.allowRetries).toBe(false);
    }
    const pause = await ro.request(`/admin/queues/api/queues/${QUEUE_NAMES.events}/pause`, { method: 'PUT', headers: bearer(TOKEN) });
    expect(pause.status).toBe(405);
    expect(await queues.events.isPaused()).toBe(false);
    for (const path of ['/admin/generate-heatmap', '/admin/failures/retry-retryable']) {
      const res = await ro.request(path, { method: 'POST', headers: bearer(TOKEN) });
      expect(res.status, path).toBe(405);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('read_only');
    }
    const retryAll = await ro.request(`/admin/queues/api/queues/${QUEUE_NAMES.writes}/retry/failed`, { method: 'PUT', headers: bearer(TOKEN) });
    expect(retryAll.status).toBe(405);
  });

  it('generate-heatmap writes a file whose counts match the stored documents', async () => {
    const docs = knownDecisions(120, r.prefix);
    const written = await store.writeBatch(docs);
    expect(written.written).toBe(docs.length);
    const want = expectedCounts(docs);

    const res = await app.request('/admin/generate-heatmap', { method: 'POST', headers: bearer(TOKEN) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; path: string; decisions: number; from: string | null; to: string | null };
    expect(body.status).toBe('ok');
    expect(body.decisions).toBe(docs.length);
    const times = docs.map((d) => d.timestamp).sort();
    expect(body.from).toBe(times[0]);
    expect(body.to).toBe(times.at(-1));

    const html = await readFile(body.path, 'utf8');
    expect(html).toContain('id="heatmap-dtmf"');
    const json = /<script type="application\/json" id="heatmap-data">([\s\S]*?)<\/script>/.exec(html)?.[1];
    expect(json, 'heatmap-data script').toBeTruthy();
    const payload = JSON.parse(json!) as { data?: HeatmapData } & HeatmapData;
    const data = payload.data ?? payload;
    expect(data.total).toBe(want.total);
    expect(matrixCells(data.dtmfByRoute)).toEqual(want.dtmf);
    expect(matrixCells(data.hourByRoute)).toEqual(want.hour);
    expect(matrixCells(data.agentsByRoute)).toEqual(want.agents);

    // A range with nothing in it: an empty report, not an error.
    const empty = await app.request('/admin/generate-heatmap?from=2001-01-01&to=2001-01-02', { method: 'POST', headers: basic('x', TOKEN) });
    expect(empty.status).toBe(200);
    expect(((await empty.json()) as { status: string; decisions: number })).toMatchObject({ status: 'empty', decisions: 0 });
  });

  it('/admin/heatmap renders the live page and validates from/to', async () => {
    const ok = await app.request('/admin/heatmap?from=2024-05-01T00:00:00Z&to=2024-05-02', { headers: bearer(TOKEN) });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/html');
    const html = await ok.text();
    for (const id of ['heatmap-dtmf', 'heatmap-hour', 'heatmap-agents']) expect(html).toContain(`id="${id}"`);

    for (const qs of ['from=yesterday', 'from=2024-13-45', 'to=12345', 'from=2024-05-02&to=2024-05-01']) {
      const bad = await app.request(`/admin/heatmap?${qs}`, { headers: bearer(TOKEN) });
      expect(bad.status, qs).toBe(400);
      const body = (await bad.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('bad_request');
    }
    const badGen = await app.request('/admin/generate-heatmap?from=nope', { method: 'POST', headers: bearer(TOKEN) });
    expect(badGen.status).toBe(400);
  });

  it('maps store failures to 503 with the reason', async () => {
    const broken: DecisionStore = {
      ...store,
      kind: 'embedded',
      heatmap: () => Promise.reject(new StoreUnavailableError('redis connection lost')),
      count: () => Promise.reject(new StoreUnavailableError('redis connection lost')),
    };
    const bad = createDashboardApp({ queues: queues.all, store: broken, reportsDir, adminToken: TOKEN });
    for (const [method, path] of [['GET', '/admin/heatmap'], ['POST', '/admin/generate-heatmap']] as const) {
      const res = await bad.request(path, { method, headers: bearer(TOKEN) });
      expect(res.status, path).toBe(503);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('store_unavailable');
      expect(body.error.message).toContain('redis connection lost');
    }
  });

  it('without an admin token configured the admin routes are open to a loopback Host only (DNS rebinding)', async () => {
    const open = createDashboardApp({ queues: queues.all, store, reportsDir });
    expect((await open.request('/admin/queues/api/queues')).status).toBe(200);
    for (const host of ['127.0.0.1:3001', 'localhost:3001', '[::1]:3001', 'localhost']) {
      expect((await open.request('http://x/admin/queues/api/queues', { headers: { host } })).status, host).toBe(200);
    }
    for (const host of ['evil.example', 'evil.example:3001', '127.0.0.1.evil.example', 'localhost.evil.example:3001']) {
      const res = await open.request('/admin/queues/api/queues', { headers: { host } });
      expect(res.status, host).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('host_not_allowed');
    }
  });

  it('GET /admin/generate-heatmap changes nothing: 405 with Allow: POST, no file written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ivr-dash-get-'));
    const a = createDashboardApp({ queues: queues.all, store, reportsDir: dir, adminToken: TOKEN });
    const res = await a.request('/admin/generate-heatmap', { headers: bearer(TOKEN) });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    await expect(readFile(join(dir, 'heatmap.html'))).rejects.toThrow(/ENOENT/);
    await rm(dir, { recursive: true, force: true });
  });

  it('answers unknown routes with a JSON 404 (after auth for /admin)', async () => {
    expect((await app.request('/nope')).status).toBe(404);
    expect((await app.request('/admin/nope')).status).toBe(401);
    const res = await app.request('/admin/nope', { headers: bearer(TOKEN) });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    // a browser gets an HTML page with the navigation
    const html = await app.request('/admin/nope', { headers: { ...bearer(TOKEN), accept: 'text/html,application/xhtml+xml' } });
    expect(html.status).toBe(404);
    expect(html.headers.get('content-type')).toContain('text/html');
    const text = await html.text();
    expect(text).toContain('no page at /admin/nope');
    expect(text).toContain('href="/admin/events"');
  });

  it('/admin/heatmap answers a browser with an HTML page naming the bad range (not JSON), and accepts presets and now-1h', async () => {
    const html = { ...bearer(TOKEN), accept: 'text/html' };
    const bad = await app.request('/admin/heatmap?from=last-hour', { headers: html });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('text/html');
    const page = await bad.text();
    expect(page).toContain('id="heatmap-error"');
    expect(page).toContain('&quot;last-hour&quot;');
    expect(page).toContain('now-1h');
    for (const qs of ['range=15m', 'range=1h', 'range=24h', 'range=7d', 'from=now-1h', 'from=now-2h&to=now-1h', 'from=2024-05-01&to=2024-05-02']) {
      const ok = await app.request(`/admin/heatmap?${qs}`, { headers: html });
      expect(ok.status, qs).toBe(200);
    }
    const bucketed = await (await app.request('/admin/heatmap?from=2024-05-01&to=2024-05-02', { headers: html })).text();
    expect(bucketed).toContain('Decisions over time');
    expect(bucketed).toContain('buckets of 30 min');
  });
});
