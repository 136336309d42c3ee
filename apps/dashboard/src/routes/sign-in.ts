import { createHash } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { endSession, hasSession, startSession, tokenMatches, type AdminEnv } from '../admin-auth';
import { safeNext, signInPage } from '../pages';
import type { GuessThrottle } from '../security';
import type { RouteContext } from './context';

const SIGN_IN = '/admin/sign-in';
const SIGN_OUT = '/admin/sign-out';

/** The sign-in page as the answer to a request that needs a session (adminAuth's `signInPage`). */
export function signInAnswer(token: string | undefined) {
  return (c: Context<AdminEnv>, opts: { status: 401 | 429; error?: string }) => {
    c.header('Cache-Control', 'no-store');
    return c.html(signInPage({ next: c.req.method === 'GET' ? c.req.path + (new URL(c.req.url).search || '') : c.req.query('next'), error: opts.error, tokenConfigured: Boolean(token) }), opts.status);
  };
}

/** GET/POST /admin/sign-in (the token for a session cookie, wrong guesses throttled per address), POST /admin/sign-out. */
export function signInRoutes(app: Hono<AdminEnv>, ctx: RouteContext, throttle: GuessThrottle): void {
  const { token, log, now, address } = ctx;
  const expected = token ? createHash('sha256').update(token, 'utf8').digest() : undefined;

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
}
