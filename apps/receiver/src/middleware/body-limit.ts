import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/**
 * hono's bodyLimit, with a fast path: when the request declares Content-Length (and no Transfer-Encoding),
 * compare the header and go on without touching `c.req.raw.body`. hono's middleware reads `raw.body` first,
 * which makes @hono/node-server build a full WHATWG Request (AbortController, ReadableStream, Headers) for
 * every webhook: that was ~10% of the receiver's CPU in the bench profile (docs/performance.md). Node's HTTP
 * parser rejects a body longer than its Content-Length, so the header is authoritative; chunked bodies still
 * go through hono's counting reader.
 */
export function fastBodyLimit(opts: { maxSize: number; onError: () => never }): MiddlewareHandler {
  const slow = bodyLimit({ maxSize: opts.maxSize, onError: opts.onError });
  return async function bodyLimitFast(c, next) {
    const len = c.req.header('content-length');
    if (len !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number.parseInt(len, 10) > opts.maxSize) opts.onError();
      return next();
    }
    return slow(c, next);
  };
}
