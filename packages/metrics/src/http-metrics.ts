import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { IvrMetrics } from './metrics';

/** Route label of a request that matched no handler: a bounded value instead of the client-chosen path. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Hono middleware that times every request into `http_request_duration_seconds{method,route,status_code}`.
 * `route` is the pattern of the handler that answered (hono/route `routePath`, e.g. `/admin/queues/api/queues/:queueName`),
 * never the raw path: paths carry client-chosen strings (ids, typos), which must not become series.
 * Install it first (`app.use('*', httpMetrics(metrics))`) so it also sees answers made by onError and notFound.
 */
export function httpMetrics(metrics: Pick<IvrMetrics, 'observeHttp' | 'watchHttp'>, now: () => number = () => performance.now()): MiddlewareHandler {
  metrics.watchHttp();
  return async function httpMetricsMiddleware(c, next) {
    const start = now();
    try {
      await next();
    } finally {
      // After next(), routeIndex points at the last handler that ran; when that is still this middleware, no route matched.
      const own = c.req.routeIndex === 0 || routePath(c) === '*' || routePath(c) === '/*';
      const route = own && c.res.status === 404 ? UNMATCHED_ROUTE : routePath(c) || UNMATCHED_ROUTE;
      metrics.observeHttp(c.req.method, route, c.res.status, (now() - start) / 1000);
    }
  };
}
