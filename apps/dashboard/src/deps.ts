import type { Logger } from '@ivr/core';
import type { Queue } from 'bullmq';
import type { Context, MiddlewareHandler } from 'hono';
import type { BudgetUsage } from '@ivr/genesys';
import type { HeldState } from '@ivr/queue-contract';
import type { DecisionStore } from '@ivr/reporting';
import type { GuessThrottle } from './security';

/** The part of a pino logger the dashboard uses. */
export type DashboardLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

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
  /** The events held for an in-call decision right now (heldState of @ivr/queue-contract), for the status page. */
  held?: (() => Promise<HeldState>) | undefined;
  /** Where each process's /metrics is (the metrics page). */
  metricsLinks?: ReadonlyArray<{ label: string; url: string }> | undefined;
  now?: (() => number) | undefined;
}
