import type { Context, MiddlewareHandler } from 'hono';
import { MIN_ADMIN_TOKEN_DISTINCT as ADMIN_TOKEN_MIN_DISTINCT, MIN_SECRET_BYTES as ADMIN_TOKEN_MIN_LENGTH } from '@ivr/config';

/** Why an admin token is too weak to open the dashboard, or null when it is fine. */
export function adminTokenProblem(token: string): string | null {
  if (token.trim() !== token) return 'ADMIN_TOKEN must not start or end with whitespace';
  if (token.length < ADMIN_TOKEN_MIN_LENGTH) {
    return `ADMIN_TOKEN is too short (${token.length} characters; at least ${ADMIN_TOKEN_MIN_LENGTH}): generate one with \`openssl rand -base64 24\``;
  }
  if (new Set(token).size < ADMIN_TOKEN_MIN_DISTINCT) {
    return `ADMIN_TOKEN has fewer than ${ADMIN_TOKEN_MIN_DISTINCT} distinct characters: generate one with \`openssl rand -base64 24\``;
  }
  return null;
}

/** True when the client asked for HTML (a browser navigating) rather than JSON. */
export function wantsHtml(c: Context): boolean {
  const accept = c.req.header('accept') ?? '';
  if (/application\/json/i.test(accept) && !/text\/html/i.test(accept)) return false;
  return /text\/html/i.test(accept);
}

export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Wrong-guess throttle, per client address, in process: at most `maxFailures` wrong credentials per address in
 * `windowMs`; beyond that every credential from that address is refused (429 + Retry-After) until the window ends,
 * so guessing cannot go on even when the next guess would be right. At most `maxClients` addresses are tracked
 * (memory bound; the oldest entry is dropped first). One process: with several dashboard processes each keeps its own.
 */
export class GuessThrottle {
  private readonly entries = new Map<string, { failures: number; resetAt: number }>();
  constructor(
    readonly maxFailures = 10,
    readonly windowMs = 5 * 60_000,
    readonly maxClients = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Ms until this address may try again, 0 when it may try now. */
  blockedFor(address: string): number {
    const e = this.entries.get(address);
    if (!e) return 0;
    const t = this.now();
    if (t >= e.resetAt) {
      this.entries.delete(address);
      return 0;
    }
    return e.failures >= this.maxFailures ? e.resetAt - t : 0;
  }

  fail(address: string): void {
    const t = this.now();
    let e = this.entries.get(address);
    if (!e || t >= e.resetAt) {
      this.entries.delete(address);
      if (this.entries.size >= this.maxClients) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      e = { failures: 0, resetAt: t + this.windowMs };
      this.entries.set(address, e);
    }
    e.failures++;
  }

  succeed(address: string): void {
    this.entries.delete(address);
  }

  size(): number {
    return this.entries.size;
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** The host name of a Host header value, lower-cased, without the port. */
function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/**
 * Loopback mode (no ADMIN_TOKEN): only a loopback Host is served, so a page on another site that re-binds its DNS
 * name to 127.0.0.1 (DNS rebinding) cannot reach the dashboard or Bull Board's API from a local browser.
 */
export function loopbackHostOnly(): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (!LOOPBACK_HOSTS.has(hostName(host))) {
      return c.json({ error: { code: 'host_not_allowed', message: 'without ADMIN_TOKEN the dashboard answers only to 127.0.0.1, localhost or [::1] in the Host header' } }, 403);
    }
    return next();
  };
}

/**
 * CSRF check for state-changing requests: a browser says where a request comes from (Sec-Fetch-Site; Origin on
 * every POST/PUT/PATCH/DELETE). Cross-site or other-origin requests are refused; a request without either header is
 * not from a browser page (curl, scripts) and has no ambient credentials to abuse. GET never changes state here.
 */
export function crossSiteRefusal(c: Context): string | null {
  if (SAFE_METHODS.has(c.req.method)) return null;
  const site = c.req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return 'cross-site request refused (Sec-Fetch-Site is not same-origin)';
  const origin = c.req.header('origin');
  if (origin !== undefined) {
    const own = new URL(c.req.url).origin;
    if (origin !== own) return 'cross-origin request refused (Origin does not match this dashboard)';
  }
  return null;
}

const LOOPBACK_ADDRESSES = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Where the dashboard listens: DASHBOARD_HOST, else 0.0.0.0 with a token and 127.0.0.1 without. Without a token only
 * a loopback address is allowed; a weak token stops the start. Returns the address or a one-line reason.
 */
export function dashboardBind(opts: { host?: string | undefined; token?: string | undefined }): { host: string } | { error: string } {
  if (opts.token) {
    const problem = adminTokenProblem(opts.token);
    if (problem) return { error: problem };
    return { host: opts.host ?? '0.0.0.0' };
  }
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK_ADDRESSES.has(host)) return { error: `DASHBOARD_HOST=${host} needs ADMIN_TOKEN: without a token the dashboard only listens on a loopback address (127.0.0.1, ::1)` };
  return { host };
}
