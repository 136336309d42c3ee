import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Queue, Worker } from 'bullmq';
import { genesysSeries, type BudgetCounters } from './genesys-series';
import { httpSeries } from './http-series';
import { jobSeries, type DecisionOutcome, type WriteResult } from './job-series';
import type { HeldState } from '@ivr/queue-contract';
import { queueSeries } from './queue-series';
import type { SeriesContext } from './series';
import { storeSeries, type BatchCounters, type OccupancyCounters } from './store-series';

export type { BatchCounters, BudgetCounters, DecisionOutcome, OccupancyCounters, WriteResult };

/**
 * Prometheus metrics of one process (receiver or worker). Every series is listed in docs/operations.md.
 * Each call makes its own Registry (tests and `pnpm demo` run several apps in one process).
 */
export interface IvrMetrics {
  registry: Registry;
  contentType: string;
  /** The exposition text (GET /metrics). */
  render(): Promise<string>;
  /** Receiver: one answered webhook (`accepted`, `duplicate`, `conflict`, `skipped`, `error_4xx`...). */
  observeWebhook(outcome: string): void;
  /** HTTP servers (receiver, dashboard): one answered request; `route` is the route pattern, never the raw path. */
  observeHttp(method: string, route: string, statusCode: number, seconds: number): void;
  /** Export `http_request_duration_seconds` from the start (called when the HTTP middleware is installed). */
  watchHttp(): void;
  /** Queue depth per queue and state, read with `getJobCounts()` (the numbers Bull Board shows) at scrape time. */
  watchQueues(queues: readonly Queue[]): void;
  /** Events held for an in-call decision, read at scrape time (`heldState` of @ivr/queue-contract). */
  watchHeld(read: () => Promise<HeldState>): void;
  /** Job durations, attempts and outcomes; decisions by route and their latency (from the worker's completed/failed events). */
  watchWorker(worker: Worker): void;
  /** One decide result outside a worker (the receiver's in-call decision): the same decision series as watchWorker. */
  observeDecision(result: DecisionOutcome): void;
  /** One write's end outside a worker (a write the receiver settled in-call): the same write series as watchWorker. */
  observeWrite(result: WriteResult): void;
  /** One Genesys API answer (status 0 = no HTTP answer: network error or timeout). */
  observeGenesys(endpoint: string, status: number, seconds: number): void;
  /** The queue was paused for `ms` after a 429 (worker.rateLimit). */
  observePause(queue: string, ms: number): void;
  /** Occupancy cache counters of this process, read at scrape time. */
  watchOccupancy(stats: () => OccupancyCounters): void;
  /** Report batcher counters of this process, read at scrape time. */
  watchBatcher(stats: () => BatchCounters): void;
  /** One `_bulk` (or embedded-store) batch of `size` documents. */
  observeBatch(size: number): void;
  /** This process's use of the shared Genesys request budget, read at scrape time (GenesysStats.budget). */
  watchGenesysBudget(stats: () => BudgetCounters | undefined): void;
}

/** The process's metrics: each group of series (./*-series.ts) adds the methods of its concern. */
export function createMetrics(registry: Registry = new Registry(), opts: { defaultMetrics?: boolean; now?: () => number } = {}): IvrMetrics {
  const now = opts.now ?? Date.now;
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  // Series are built with `registers: ctx.unregistered` and enter the registry when this process wires or uses
  // them (`enable`), so each process exports only its own series: no worker counters reading 0 on the receiver
  // (issue 17).
  const enabled = new Set<string>();
  const enable = (...metrics: Array<Counter | Gauge | Histogram>) => {
    for (const m of metrics) {
      const name = (m as unknown as { name: string }).name;
      if (enabled.has(name)) continue;
      enabled.add(name);
      registry.registerMetric(m);
    }
  };
  const ctx: SeriesContext = { enable, unregistered: [], now };
  const { dedupe, ...http } = httpSeries(ctx);

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    ...http,
    ...queueSeries(ctx),
    ...jobSeries(ctx, dedupe),
    ...genesysSeries(ctx),
    ...storeSeries(ctx),
  };
}
