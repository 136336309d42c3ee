import type { Context, Hono } from 'hono';
import { HttpError } from '@ivr/core';
import { describeStoreSource, emptyHeatmap, formatBucket, renderHeatmapHtml, writeHeatmapFile, type HeatmapQuery } from '@ivr/reporting';
import type { AdminEnv } from '../admin-auth';
import { storeUnavailable } from '../errors';
import { NAV_CSS, navHtml } from '../layout';
import { wantsHtml } from '../security';
import { RANGE_PRESETS, heatmapRange, parseTimeRange } from '../time-range';
import type { RouteContext } from './context';

/** A filesystem error from Node (writing the report file), as opposed to a store failure. */
const isFsError = (e: unknown): boolean =>
  e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string' && typeof (e as NodeJS.ErrnoException).code === 'string';

async function fromStore<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof HttpError || isFsError(e)) throw e;
    throw storeUnavailable(e);
  }
}

async function rangeFrom(c: Context): Promise<HeatmapQuery> {
  let from = c.req.query('from');
  let to = c.req.query('to');
  if (c.req.method === 'POST' && (c.req.header('content-type') ?? '').includes('application/json')) {
    const body = (await c.req.json().catch(() => {
      throw new HttpError(400, 'bad_request', 'request body is not valid JSON');
    })) as unknown;
    if (body && typeof body === 'object') {
      const b = body as Record<string, unknown>;
      if (typeof b.from === 'string') from ??= b.from;
      if (typeof b.to === 'string') to ??= b.to;
    }
  }
  return parseTimeRange({ from, to });
}

/** GET /admin/heatmap (the live page over a time range), and the tutorial's POST /admin/generate-heatmap (writes the file). */
export function heatmapRoutes(app: Hono<AdminEnv>, ctx: RouteContext): void {
  const { deps, now, nav, audit, htmlError } = ctx;

  app.get('/admin/heatmap', async (c) => {
    const params = { range: c.req.query('range'), from: c.req.query('from'), to: c.req.query('to') };
    const controls = (from: string, to: string, preset: string | undefined, note?: string) => ({
      action: '/admin/heatmap',
      from,
      to,
      presets: [
        ...RANGE_PRESETS.map((p) => ({ label: p.label, href: `/admin/heatmap?range=${p.id}`, active: p.id === preset })),
        { label: 'All time', href: '/admin/heatmap', active: !preset && !from && !to },
      ],
      ...(note ? { note } : {}),
    });
    const shell = { title: 'IVR routing decisions', generatedAt: new Date(now()).toISOString(), source: describeStoreSource(deps.store), headerHtml: navHtml(nav(c, 'heatmap')), headCss: NAV_CSS };
    c.header('Cache-Control', 'no-store');
    let range;
    try {
      range = heatmapRange(params, now());
    } catch (e) {
      if (!(e instanceof HttpError) || !wantsHtml(c)) throw e;
      return c.html(renderHeatmapHtml(emptyHeatmap(), { ...shell, error: e.message, controls: controls(params.from ?? '', params.to ?? '', undefined) }), 400);
    }
    const note = range.query.bucketMs ? `Over time: buckets of ${formatBucket(range.query.bucketMs)}` : undefined;
    try {
      const data = await fromStore(() => deps.store.heatmap(range.query));
      return c.html(renderHeatmapHtml(data, { ...shell, range: range.query, controls: controls(range.from, range.to, range.preset, note) }));
    } catch (e) {
      if (!(e instanceof HttpError) || !wantsHtml(c)) throw e;
      return c.html(renderHeatmapHtml(emptyHeatmap(), { ...shell, error: e.message, controls: controls(range.from, range.to, range.preset) }), e.status === 503 ? 503 : 400);
    }
  });

  // The tutorial's endpoint writes a file: POST only (GET must not change state).
  app.get('/admin/generate-heatmap', (c) => {
    c.header('Allow', 'POST');
    return htmlError(c, 405, 'method_not_allowed', 'POST /admin/generate-heatmap regenerates the heatmap file (GET never changes state); the live page is /admin/heatmap', 'Use POST');
  });
  app.post('/admin/generate-heatmap', async (c) => {
    const query = await rangeFrom(c);
    const result = await fromStore(() => writeHeatmapFile(deps.store, deps.reportsDir, query));
    audit(c, 'regenerate-heatmap', { decisions: result.decisions, status: result.status });
    return c.json({ status: result.status, path: result.path, decisions: result.decisions, from: result.from, to: result.to });
  });
}
