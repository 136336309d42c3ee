import type { MiddlewareHandler } from 'hono';
import type { Authenticator } from './authenticator';

/**
 * Checks the request's credentials against the raw body bytes, before anything parses them (`createAuthenticator`:
 * Standard Webhooks signature and/or `X-Webhook-Token`); its HttpError 401 says why. Without an authenticator
 * (neither secret configured) every request passes.
 */
export function authenticate(check: Authenticator | undefined): MiddlewareHandler {
  return async function authenticate(c, next) {
    if (check) check({ headers: c.req.raw.headers, body: await c.req.text() });
    await next();
  };
}
