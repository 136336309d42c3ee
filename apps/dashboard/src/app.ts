import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BudgetUsage } from '@ivr/genesys';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { findCall, groupFailed, retryRetryableFailed, type CallJourney } from '@ivr/ops';
import { keyspace } from '@ivr/queue-contract';
import {
  StoreUnavailableError,
  describeStoreSource,
  emptyHeatmap,
  formatBucket,
  renderHeatmapHtml,
  writeHeatmapFile,
  type DecisionDoc,
  type DecisionStore,
  type HeatmapQuery,
} from '@ivr/reporting';
import { adminAuth, endSession, hasSession, startSession, tokenMatches, type AdminEnv } from './admin-auth';
import { BULL_BOARD_PATH, bullBoard } from './bull-board';
import { HttpError, storeUnavailable } from './errors';
import { NAV_CSS, navHtml, page, type NavId } from './layout';
import { errorPage, eventsPage, failuresPage, metricsPage, safeNext, signInPage } from './pages';
import { GuessThrottle, SAFE_METHODS, crossSiteRefusal, loopbackHostOnly, wantsHtml } from './security';
import { collectStatus, statusHtml } from './status';
import { RANGE_PRESETS, heatmapRange, parseTimeRange } from './time-range';
import { createHash } from 'node:crypto';

/** The part of a pino logger the dashboard uses. */
export interface DashboardLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface DashboardDeps {
  queues: Queue[];
  store: DecisionStore;
  /** Where `POST /admin/generate-heatmap` writes the HTML file. */
  reportsDir: string;
  /** Required on every `/admin/*` route when set. Unset: open, loopback Host only (main.ts binds to loopback). */
  adminToken?: string | undefined;
  /** Refuse every state-changing route (405): Bull Board mutations, retries, regenerate. */
  readOnly?: boolean | undefined;
  logger?: DashboardLogger | undefined;
  /** Prometheus exposition text for `GET /metrics` (outside /admin, like the receiver's; route absent when unset). */
  metrics?: (() => Promise<string>) | undefined;
  /** Installed before every route: HTTP server metrics (`httpMetrics` from @ivr/metrics). */
  httpMetrics?: MiddlewareHandler | undefined;
  /** The client's address (wrong-guess throttle key, audit log); main.ts reads the socket. */
  clientAddress?: ((c: Context) => string) | undefined;
  throttle?: GuessThrottle | undefined;
  /** The shared Genesys request budget's use right now (budgetUsage of @ivr/genesys), for the status page. */
  budget?: (() => Promise<BudgetUsage>) | undefined;
  /** Where each process's /metrics is (the metrics page). */
  metricsLinks?: ReadonlyArray<{ label: string; url: string }> | undefined;
  now?: (() => number) | undefined;
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

const SIGN_IN = '/admin/sign-in';
const SIGN_OUT = '/admin/sign-out';

/**
 * Operators' app: status, call look-up, heatmaps, failures, Bull Board, the tutorial's generate-heatmap endpoint.
 * Every `/admin/*` route is behind the admin token (session cookie from the sign-in page, or bearer/basic), every
 * state-changing one is CSRF-checked, refused in read-only mode and audit-logged; GET never changes state.
 */
export function createDashboardApp(deps: DashboardDeps): Hono<AdminEnv> {
  const log = deps.logger ?? noopLogger;
  const now = deps.now ?? Date.now;
  const token = deps.adminToken || undefined;
  const readOnly = deps.readOnly ?? false;
  const throttle = deps.throttle ?? new GuessThrottle();
  const address = deps.clientAddress ?? (() => 'unknown');
  const expected = token ? createHash('sha256').update(token, 'utf8').digest() : undefined;
  const queueNamed = (name: string) => deps.queues.find((q) => q.name === name);
  const app = new Hono<AdminEnv>();

  const nav = (c: Context<AdminEnv>, active?: NavId) => ({ active, readOnly, signOut: Boolean(token) && c.get('actor') !== undefined });
  const audit = (c: Context<AdminEnv>, action: string, detail: Record<string, unknown> = {}) =>
    log.info({ audit: { actor: c.get('actor') ?? 'unknown', action, client: address(c), at: new Date(now()).toISOString(), ...detail } }, 'admin action');
  const htmlError = (c: Context<AdminEnv>, status: 400 | 403 | 404 | 405 | 409 | 429 | 503, code: string, message: string, title: string) =>
    wantsHtml(c) ? c.html(errorPage(title, message, nav(c)), status) : c.json({ error: { code, message } }, status);

  if (deps.httpMetrics) app.use('*', deps.httpMetrics);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  const metrics = deps.metrics;
  if (metrics) app.get('/metrics', async (c) => c.body(await metrics(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
  app.get('/', (c) => c.redirect('/admin', 302));

  if (!token) {
    app.use('/admin', loopbackHostOnly());
    app.use('/admin/*', loopbackHostOnly());
  }

  // CSRF: every state-changing request, sign-in included (login CSRF), must come from this dashboard's own pages.
  app.use('/admin/*', async (c, next) => {
    const refused = crossSiteRefusal(c);
    if (refused) {
      log.warn({ path: c.req.path, method: c.req.method, client: address(c) }, 'cross-site request refused');
      return htmlError(c, 403, 'csrf', refused, 'Request refused');
    }
    return next();
  });

  const signInResponse = (c: Context<AdminEnv>, opts: { status: 401 | 429; error?: string }) => {
    c.header('Cache-Control', 'no-store');
    return c.html(signInPage({ next: c.req.method === 'GET' ? c.req.path + (new URL(c.req.url).search || '') : c.req.query('next'), error: opts.error, tokenConfigured: Boolean(token) }), opts.status);
  };

  app.get(SIGN_IN, async (c) => {
    if (token && (await hasSession(c, token))) return c.redirect(safeNext(c.req.query('next')), 303);
    c.header('Cache-Control', 'no-store');
    return c.html(signInPage({ next: c.req.query('next'), tokenConfigured: Boolean(token) }));
  });

  app.post(SIGN_IN, async (c) => {
    if (!token || !expected) return c.redirect('/admin', 303);
    const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const next = safeNext(typeof form.next === 'string' ? form.next : undefined);
    const addr = address(c);
    const wait = throttle.blockedFor(addr);
    c.header('Cache-Control', 'no-store');
    if (wait > 0) {
      c.header('Retry-After', String(Math.ceil(wait / 1000)));
      return c.html(signInPage({ next, error: `Too many wrong tokens from this address; try again in ${Math.ceil(wait / 1000)} s.`, tokenConfigured: true }), 429);
    }
    const given = typeof form.token === 'string' ? form.token : '';
    if (!tokenMatches(given, expected)) {
      throttle.fail(addr);
      log.warn({ client: addr }, 'admin sign-in refused');
      return c.html(signInPage({ next, error: 'That is not the admin token.', tokenConfigured: true }), 401);
    }
    throttle.succeed(addr);
    await startSession(c, token, now());
    log.info({ audit: { actor: 'session', action: 'sign-in', client: addr, at: new Date(now()).toISOString() } }, 'admin action');
    return c.redirect(next, 303);
  });

  app.post(SIGN_OUT, (c) => {
    endSession(c);
    log.info({ audit: { actor: 'session', action: 'sign-out', client: address(c), at: new Date(now()).toISOString() } }, 'admin action');
    return c.redirect(SIGN_IN, 303);
  });

  const auth = adminAuth({ token, throttle, clientAddress: address, signInPage: signInResponse });
  app.use('/admin', auth);
  app.use('/admin/*', auth);

  // Read-only mode refuses every state-changing request (Bull Board's own API answers 405 too).
  app.use('/admin/*', async (c, next) => {
    if (readOnly && !SAFE_METHODS.has(c.req.method)) {
      return htmlError(c, 405, 'read_only', 'the dashboard is read-only (DASHBOARD_READ_ONLY=true): nothing can be changed from it', 'Read-only');
    }
    return next();
  });

  // Audit every change made through Bull Board (retry, clean, pause, resume, promote, remove …), with its outcome.
  app.use(`${BULL_BOARD_PATH}/api/*`, async (c, next) => {
    await next();
    if (!SAFE_METHODS.has(c.req.method)) {
      const route = c.req.path.slice(`${BULL_BOARD_PATH}/api/`.length);
      audit(c, 'bull-board', { method: c.req.method, route, status: c.res.status });
    }
  });

  app.get('/admin', async (c) => {
    const status = await collectStatus(deps.queues, deps.store, now(), deps.budget);
    c.header('Cache-Control', 'no-store');
    return c.html(page({ ...nav(c, 'home'), title: 'Status', body: statusHtml(status, { storeSource: describeStoreSource(deps.store) }), refreshSeconds: 15 }));
  });

  app.get('/admin/events', async (c) => {
    const q = (c.req.query('q') ?? '').trim().slice(0, 300);
    let journey: CallJourney | null = null;
    let stored: DecisionDoc | null = null;
    let storeError: string | undefined;
    if (q) {
      const events = queueNamed('ivr-events');
      const writes = queueNamed('genesys-writes');
      const reports = queueNamed('decision-reports');
      if (!events || !writes || !reports) throw new HttpError(503, 'queues_missing', 'the three queues are not configured');
      const redis = (await events.backend.client) as unknown as Redis;
      journey = await findCall({ queues: { events, writes, reports }, redis, ks: keyspace(events.opts.prefix ?? 'bull') }, q);
      if (journey) {
        try {
          stored = await deps.store.getDecision(journey.decisionId);
        } catch (e) {
          storeError = e instanceof Error ? e.message : String(e);
        }
      }
    }
    c.header('Cache-Control', 'no-store');
    return c.html(eventsPage({ q, journey, stored, storeError, nav: nav(c, 'events') }), q && !journey ? 404 : 200);
  });

  app.get('/admin/failures', async (c) => {
    const groups = await groupFailed(deps.queues);
    const retried = c.req.query('retried');
    const left = c.req.query('left');
    const message = retried !== undefined ? `Retried ${Number(retried) || 0} job(s); ${Number(left) || 0} left failed (Genesys 400/403/404).` : undefined;
    c.header('Cache-Control', 'no-store');
    return c.html(failuresPage({ groups, message, readOnly, nav: nav(c, 'failures') }));
  });

  const retryRetryable = async (c: Context<AdminEnv>, queues: Queue[]) => {
    const r = await retryRetryableFailed(queues);
    const retried = Object.values(r).reduce((a, b) => a + b.retried, 0);
    const left = Object.values(r).reduce((a, b) => a + b.left, 0);
    audit(c, 'retry-retryable', { queues: queues.map((q) => q.name), retried, left });
    return { retried, left };
  };

  app.post('/admin/failures/retry-retryable', async (c) => {
    const { retried, left } = await retryRetryable(c, deps.queues);
    if (wantsHtml(c) || (c.req.header('content-type') ?? '').includes('form')) return c.redirect(`/admin/failures?retried=${retried}&left=${left}`, 303);
    return c.json({ retried, left });
  });

  // Bull Board's "Retry all" on failed jobs: only the retryable ones (a Genesys 400/403/404 stays failed).
  app.put(`${BULL_BOARD_PATH}/api/queues/:queueName/retry/failed`, async (c) => {
    const q = queueNamed(c.req.param('queueName'));
    if (!q) return c.json({ error: 'Queue not found' }, 404);
    const { retried, left } = await retryRetryable(c, [q]);
    return c.json({ retried, skipped: left });
  });

  // No release of a 429 pause (nor deletion of a shared limiter/budget key) from the board.
  app.put(`${BULL_BOARD_PATH}/api/queues/:queueName/rate-limit/release`, (c) =>
    c.json({ error: 'a Genesys 429 pause cannot be released from the dashboard; it ends at Retry-After', message: 'a Genesys 429 pause ends by itself at Retry-After' }, 409),
  );

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

  app.get('/admin/metrics', (c) => c.html(metricsPage(deps.metricsLinks ?? [], nav(c, 'metrics'))));

  // Bull Board's UI links to its base path with a trailing slash; a reload there must not 404.
  app.get(`${BULL_BOARD_PATH}/`, (c) => c.redirect(BULL_BOARD_PATH, 302));
  app.route(BULL_BOARD_PATH, bullBoard(deps.queues, { readOnly }));

  app.notFound((c) => htmlError(c as Context<AdminEnv>, 404, 'not_found', `no page at ${c.req.path.slice(0, 200)}`, 'Not found'));

  app.onError((err, c) => {
    const ctx = c as Context<AdminEnv>;
    if (err instanceof HttpError) {
      if (err.status >= 500) log.warn({ err: err.message, code: err.code, status: err.status, path: c.req.path }, 'dashboard request failed');
      if (wantsHtml(ctx)) return c.html(errorPage(err.status === 503 ? 'Unavailable' : 'Request failed', err.message, nav(ctx)), err.status);
      return c.json({ error: { code: err.code, message: err.message } }, err.status);
    }
    if (err instanceof StoreUnavailableError) {
      const e = storeUnavailable(err);
      return wantsHtml(ctx) ? c.html(errorPage('Unavailable', e.message, nav(ctx)), 503) : c.json({ error: { code: e.code, message: e.message } }, 503);
    }
    if (err instanceof HTTPException) {
      return c.json({ error: { code: 'http_error', message: err.message || 'request failed' } }, err.status);
    }
    log.error({ err, path: c.req.path }, 'unhandled dashboard error');
    return c.json({ error: { code: 'internal', message: 'internal error' } }, 500);
  });

  return app;
}
