import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { GuessThrottle, wantsHtml } from './security';

export const ADMIN_REALM = 'ivr-admin';
export const SESSION_COOKIE = 'ivr_admin_session';
/** How long a browser session lasts (the cookie's Max-Age and the signed expiry). */
const SESSION_TTL_MS = 12 * 3600_000;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison: both sides are hashed first so lengths never leak. */
export function tokenMatches(provided: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(digest(provided), expectedDigest);
}

/** The secret presented in `Authorization`: `Bearer <token>` or Basic with the token as password (any user). */
export function presentedSecret(header: string | undefined): string | undefined {
  return presentedCredentials(header)?.secret;
}

/** Scheme, secret and (Basic) user name presented in `Authorization`. */
function presentedCredentials(header: string | undefined): { scheme: 'bearer' | 'basic'; secret: string; user?: string } | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value ? { scheme, secret: value } : undefined;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon < 0 ? undefined : { scheme, secret: decoded.slice(colon + 1), user: decoded.slice(0, colon) };
  }
  return undefined;
}

/** Who did something, for the audit log: "session", "bearer", "basic:<user>" or "local" (no ADMIN_TOKEN). */
type Actor = string;

export type AdminEnv = { Variables: { actor: Actor } };

export interface AdminAuthOptions {
  token?: string | undefined;
  throttle?: GuessThrottle | undefined;
  /** The client's address (throttling key); "unknown" when the server cannot tell. */
  clientAddress?: ((c: Context) => string) | undefined;
  /** Renders the HTML 401 page (the sign-in form) for browsers. */
  signInPage?: ((c: Context, opts: { status: 401 | 429; error?: string }) => Response | Promise<Response>) | undefined;
}

/** The browser session: a signed cookie holding its expiry (HMAC key derived from ADMIN_TOKEN; a new token ends every session). */
function sessionSecret(token: string): string {
  return createHash('sha256').update(`ivr-admin-session\u0000${token}`).digest('hex');
}

const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:';

export async function startSession(c: Context, token: string, now = Date.now()): Promise<void> {
  await setSignedCookie(c, SESSION_COOKIE, String(now + SESSION_TTL_MS), sessionSecret(token), {
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    path: '/admin',
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: '/admin', httpOnly: true, sameSite: 'Strict', secure: isHttps(c) });
}

export async function hasSession(c: Context, token: string, now = Date.now()): Promise<boolean> {
  const v = await getSignedCookie(c, sessionSecret(token), SESSION_COOKIE);
  return typeof v === 'string' && Number(v) > now;
}

/**
 * Admin authentication for every `/admin/*` route (Bull Board's API and static assets included): a session cookie
 * (the sign-in page) or `Authorization` (bearer, or Basic with the token as password) for API clients.
 * Without a token configured, requests pass (the process binds to loopback only and checks the Host header).
 * Refusals: browsers (Accept: text/html) get the sign-in page as a 401 (no Basic prompt); API clients get JSON with
 * `WWW-Authenticate: Basic`. Wrong guesses are throttled per client address (429 + Retry-After).
 */
export function adminAuth(opts: AdminAuthOptions): MiddlewareHandler<AdminEnv> {
  const expected = opts.token ? digest(opts.token) : undefined;
  const throttle = opts.throttle ?? new GuessThrottle();
  const address = opts.clientAddress ?? (() => 'unknown');
  return async (c, next) => {
    if (!expected || !opts.token) {
      c.set('actor', 'local');
      return next();
    }
    if (await hasSession(c, opts.token)) {
      c.set('actor', 'session');
      return next();
    }
    const creds = presentedCredentials(c.req.header('authorization'));
    c.header('Cache-Control', 'no-store');
    if (creds !== undefined) {
      const addr = address(c);
      const wait = throttle.blockedFor(addr);
      if (wait > 0) {
        c.header('Retry-After', String(Math.ceil(wait / 1000)));
        const message = `too many wrong admin tokens from this address; try again in ${Math.ceil(wait / 1000)} s`;
        if (wantsHtml(c) && opts.signInPage) return opts.signInPage(c, { status: 429, error: message });
        return c.json({ error: { code: 'too_many_attempts', message } }, 429);
      }
      if (tokenMatches(creds.secret, expected)) {
        throttle.succeed(addr);
        c.set('actor', creds.scheme === 'basic' ? `basic:${creds.user ?? ''}` : 'bearer');
        return next();
      }
      throttle.fail(addr);
    }
    const message = creds === undefined ? 'admin token required (sign in, or Authorization: Bearer <token> or Basic with the token as password)' : 'invalid admin token';
    if (wantsHtml(c) && opts.signInPage) return opts.signInPage(c, { status: 401, ...(creds ? { error: message } : {}) });
    c.header('WWW-Authenticate', `Basic realm="${ADMIN_REALM}", charset="UTF-8"`);
    return c.json({ error: { code: 'unauthorized', message } }, 401);
  };
}
