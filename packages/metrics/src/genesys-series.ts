import { Counter, Histogram } from 'prom-client';
import type { SeriesContext } from './series';

/** The counters of @ivr/genesys's BudgetStats (structurally; this package does not depend on @ivr/genesys). */
export interface BudgetCounters {
  granted: Record<string, Partial<Record<string, number>>>;
  exhausted: Record<string, number>;
}

/** Workers: Genesys answers and latency by endpoint, 429 pauses, and this process's use of the shared budget. */
export function genesysSeries({ enable, unregistered }: SeriesContext) {
  const genesysCalls = new Counter({ name: 'ivr_genesys_requests_total', help: 'Genesys API answers by endpoint and HTTP status (0 = no answer)', labelNames: ['endpoint', 'status'], registers: unregistered });
  const genesysLatency = new Histogram({
    name: 'ivr_genesys_request_duration_seconds',
    help: 'Genesys API call time by endpoint',
    labelNames: ['endpoint'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: unregistered,
  });
  const rateLimited = new Counter({ name: 'ivr_genesys_rate_limited_total', help: 'Genesys 429 answers, by endpoint', labelNames: ['endpoint'], registers: unregistered });
  const pauses = new Counter({ name: 'ivr_queue_pauses_total', help: 'Times a queue was paused (worker.rateLimit) after a Genesys 429', labelNames: ['queue'], registers: unregistered });
  const pausedSeconds = new Counter({ name: 'ivr_queue_paused_seconds_total', help: 'Total pause requested after 429s (Retry-After), by queue', labelNames: ['queue'], registers: unregistered });

  const budgets: Array<() => BudgetCounters | undefined> = [];
  const budgetRequests = new Counter({
    name: 'ivr_genesys_budget_requests_total',
    help: 'Genesys requests let through by the shared budget (GENESYS_RATE_PER_MIN), by endpoint and priority (live: observations and logins; write: attributes and conversation reads)',
    labelNames: ['endpoint', 'priority'],
    registers: unregistered,
    collect() {
      this.reset();
      for (const b of budgets) {
        for (const [endpoint, byPriority] of Object.entries(b()?.granted ?? {})) {
          for (const [priority, n] of Object.entries(byPriority)) if (n) this.inc({ endpoint, priority }, n);
        }
      }
    },
  });
  const budgetExhausted = new Counter({
    name: 'ivr_genesys_budget_exhausted_total',
    help: 'Genesys requests not sent because the shared budget was used up (or paused after a 429): writes are delayed, occupancy reads fail open',
    labelNames: ['endpoint'],
    registers: unregistered,
    collect() {
      this.reset();
      for (const b of budgets) for (const [endpoint, n] of Object.entries(b()?.exhausted ?? {})) if (n) this.inc({ endpoint }, n);
    },
  });

  return {
    observeGenesys(endpoint: string, status: number, secs: number) {
      enable(genesysCalls, genesysLatency, rateLimited);
      genesysCalls.inc({ endpoint, status: String(status) });
      genesysLatency.observe({ endpoint }, secs);
      if (status === 429) rateLimited.inc({ endpoint });
    },
    observePause(queue: string, ms: number) {
      enable(pauses, pausedSeconds);
      pauses.inc({ queue });
      pausedSeconds.inc({ queue }, ms / 1000);
    },
    watchGenesysBudget(stats: () => BudgetCounters | undefined) {
      enable(budgetRequests, budgetExhausted);
      budgets.push(stats);
    },
  };
}
