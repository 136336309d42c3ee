import type { Context } from 'hono';
import type { AdminEnv } from '../admin-auth';
import type { DashboardDeps, DashboardLogger } from '../deps';
import { errorPage } from '../pages';
import { wantsHtml } from '../security';
import type { NavId } from '../layout';

/** What every group of dashboard routes shares: the deps, and the nav, audit and error answers built from them. */
export interface RouteContext {
  deps: DashboardDeps;
  log: DashboardLogger;
  now: () => number;
  /** ADMIN_TOKEN, undefined when unset (or empty). */
  token: string | undefined;
  readOnly: boolean;
  address: (c: Context) => string;
  nav(c: Context<AdminEnv>, active?: NavId): { active: NavId | undefined; readOnly: boolean; signOut: boolean };
  /** One audit line per state-changing admin action (actor, action, client, time, details). */
  audit(c: Context<AdminEnv>, action: string, detail?: Record<string, unknown>): void;
  /** The error as a page for a browser, as `{"error":{"code","message"}}` for anything else. */
  htmlError(c: Context<AdminEnv>, status: 400 | 403 | 404 | 405 | 409 | 429 | 503, code: string, message: string, title: string): Response | Promise<Response>;
}

const noopLogger: DashboardLogger = { info() {}, warn() {}, error() {} };

export function routeContext(deps: DashboardDeps): RouteContext {
  const log = deps.logger ?? noopLogger;
  const now = deps.now ?? Date.now;
  const token = deps.adminToken || undefined;
  const readOnly = deps.readOnly ?? false;
  const address = deps.clientAddress ?? (() => 'unknown');
  const nav: RouteContext['nav'] = (c, active) => ({ active, readOnly, signOut: Boolean(token) && c.get('actor') !== undefined });
  return {
    deps,
    log,
    now,
    token,
    readOnly,
    address,
    nav,
    audit: (c, action, detail = {}) =>
      log.info({ audit: { actor: c.get('actor') ?? 'unknown', action, client: address(c), at: new Date(now()).toISOString(), ...detail } }, 'admin action'),
    htmlError: (c, status, code, message, title) => (wantsHtml(c) ? c.html(errorPage(title, message, nav(c)), status) : c.json({ error: { code, message } }, status)),
  };
}
