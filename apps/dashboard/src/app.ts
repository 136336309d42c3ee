import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { HttpError } from '@ivr/core';
import { StoreUnavailableError, describeStoreSource } from '@ivr/reporting';
import { adminAuth, type AdminEnv } from './admin-auth';
import { BULL_BOARD_PATH, bullBoard } from './bull-board';
import type { DashboardDeps } from './deps';
import { storeUnavailable } from './errors';
import { page } from './layout';
import { errorPage, metricsPage } from './pages';
import { eventRoutes } from './routes/events';
import { failureRoutes } from './routes/failures';
import { heatmapRoutes } from './routes/heatmap';
import { routeContext } from './routes/context';
import { signInAnswer, signInRoutes } from './routes/sign-in';
import { GuessThrottle, SAFE_METHODS, crossSiteRefusal, loopbackHostOnly, wantsHtml } from './security';
import { collectStatus, statusHtml } from './status';

export type { DashboardDeps, DashboardLogger } from './deps';

/**
 * Operators' app: status, call look-up, heatmaps, failures, Bull Board, the tutorial's generate-heatmap endpoint.
 * Every `/admin/*` route is behind the admin token (session cookie from the sign-in page, or bearer/basic), every
 * state-changing one is CSRF-checked, refused in read-only mode and audit-logged; GET never changes state.
 * Routes by concern: sign-in (routes/sign-in.ts), call look-up (routes/events.ts), failures and the Bull Board
 * overrides (routes/failures.ts), heatmaps (routes/heatmap.ts); the order of registration below is the order of checks.
 */
export function createDashboardApp(deps: DashboardDeps): Hono<AdminEnv> {
  const ctx = routeContext(deps);
  const { log, now, token, readOnly, address, nav, audit, htmlError } = ctx;
  const throttle = deps.throttle ?? new GuessThrottle();
  const app = new Hono<AdminEnv>();

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

  signInRoutes(app, ctx, throttle);

  const auth = adminAuth({ token, throttle, clientAddress: address, signInPage: signInAnswer(token) });
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
    const status = await collectStatus(deps.queues, deps.store, now(), deps.budget, deps.held);
    c.header('Cache-Control', 'no-store');
    return c.html(page({ ...nav(c, 'home'), title: 'Status', body: statusHtml(status, { storeSource: describeStoreSource(deps.store) }), refreshSeconds: 15 }));
  });

  eventRoutes(app, ctx);
  failureRoutes(app, ctx);
  heatmapRoutes(app, ctx);

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
