import { Counter, Histogram } from 'prom-client';
import type { SeriesContext } from './series';

/** Receiver and dashboard: answered webhooks, duplicates seen, HTTP request durations. */
export function httpSeries({ enable, unregistered }: SeriesContext) {
  const webhooks = new Counter({ name: 'ivr_webhooks_total', help: 'Webhooks answered by the receiver, by outcome', labelNames: ['outcome'], registers: unregistered });
  const dedupe = new Counter({
    name: 'ivr_dedupe_hits_total',
    help: 'Events recognised as already seen: stage=receiver (duplicate webhook, 200), stage=decide (a re-run job found its stored decision)',
    labelNames: ['stage'],
    registers: unregistered,
  });
  // The conventional HTTP server histogram (method, route pattern, status code), as prometheus client libraries name it.
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests answered by this server: time to the response, by method, route pattern (never the raw path) and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: unregistered,
  });

  return {
    /** Also counted by the decide worker (stage=decide): job-series.ts. */
    dedupe,
    observeWebhook(outcome: string) {
      enable(webhooks, dedupe);
      webhooks.inc({ outcome });
      if (outcome === 'duplicate') dedupe.inc({ stage: 'receiver' });
    },
    observeHttp(method: string, route: string, statusCode: number, secs: number) {
      enable(httpDuration);
      httpDuration.observe({ method, route, status_code: String(statusCode) }, secs);
    },
    watchHttp() {
      enable(httpDuration);
    },
  };
}
