import type { Queue } from 'bullmq';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describeStoreSource, renderHeatmapHtml, writeHeatmapFile, type DecisionStore, type HeatmapQuery } from '@ivr/reporting';
import { adminAuth } from './admin-auth';
import { BULL_BOARD_PATH, bullBoard } from './bull-board';
import { HttpError, storeUnavailable } from './errors';
import { parseTimeRange } from './time-range';

/** The part of a pino logger the dashboard uses. */
export interface DashboardLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface DashboardDeps {
  queues: Queue[];
  store: DecisionStore;
  /** Where `/admin/generate-heatmap` writes the HTML file. */
  reportsDir: string;
  /** Required on every `/admin/*` route when set. Unset: open (main.ts binds to 127.0.0.1 only). */
  adminToken?: string | undefined;
  /** Bull Board without retry/clean/pause/add (mutations answer 405). */
  readOnly?: boolean | undefined;
  logger?: DashboardLogger | undefined;
  /** Prometheus exposition text for `GET /metrics` (outside /admin, like the receiver's; route absent when unset). */
  metrics?: (() => Promise<string>) | undefined;
  /** Installed before every route: HTTP server metrics (`httpMetrics` from @ivr/queues). */
  httpMetrics?: MiddlewareHandler | undefined;
}

const noopLogger: DashboardLogger = { info() {}, warn() {}, error() {} };

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

/** Operators' app: Bull Board, the live heatmap, the tutorial's generate-heatmap endpoint; all `/admin/*` behind the admin token. */
export function createDashboardApp(deps: DashboardDeps): Hono {
  const log = deps.logger ?? noopLogger;
  const app = new Hono();
  if (deps.httpMetrics) app.use('*', deps.httpMetrics);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  const metrics = deps.metrics;
  if (metrics) app.get('/metrics', async (c) => c.body(await metrics(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
  app.get('/', (c) => c.redirect(BULL_BOARD_PATH, 302));

  app.use('/admin', adminAuth({ token: deps.adminToken }));
  app.use('/admin/*', adminAuth({ token: deps.adminToken }));

  app.get('/admin', (c) => c.redirect(BULL_BOARD_PATH, 302));
  // Bull Board's UI links to its base path with a trailing slash; a reload there must not 404.
  app.get(`${BULL_BOARD_PATH}/`, (c) => c.redirect(BULL_BOARD_PATH, 302));

  app.get('/admin/heatmap', async (c) => {
    const query = await rangeFrom(c);
    const data = await fromStore(() => deps.store.heatmap(query));
    const html = renderHeatmapHtml(data, {
      title: 'IVR routing decisions',
      generatedAt: new Date().toISOString(),
      range: query,
      source: describeStoreSource(deps.store),
    });
    c.header('Cache-Control', 'no-store');
    return c.html(html);
  });

  const generate = async (c: Context) => {
    const query = await rangeFrom(c);
    const result = await fromStore(() => writeHeatmapFile(deps.store, deps.reportsDir, query));
    log.info({ path: result.path, decisions: result.decisions, status: result.status }, 'heatmap file written');
    return c.json({ status: result.status, path: result.path, decisions: result.decisions, from: result.from, to: result.to });
  };
  app.get('/admin/generate-heatmap', generate);
  app.post('/admin/generate-heatmap', generate);

  app.route(BULL_BOARD_PATH, bullBoard(deps.queues, { readOnly: deps.readOnly ?? false }));

  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404));

  app.onError((err, c) => {
    if (err instanceof HttpError) {
      if (err.status >= 500) log.warn({ err: err.message, code: err.code, status: err.status, path: c.req.path }, 'dashboard request failed');
      return c.json({ error: { code: err.code, message: err.message } }, err.status);
    }
    if (err instanceof HTTPException) {
      return c.json({ error: { code: 'http_error', message: err.message || 'request failed' } }, err.status);
    }
    log.error({ err, path: c.req.path }, 'unhandled dashboard error');
    return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
  });

  return app;
}
