import { createServer, type Server } from 'node:http';
import type { Job, Queue, Worker } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { QUEUE_NAMES } from './names';
import type { OccupancyStats } from './occupancy-cache';
import { isFinalFailure } from './processors/logger';
import type { BatchStats } from './processors/report';

/** How long one set of `getJobCounts` answers is reused between scrapes (several scrapers, one Redis round trip). */
const QUEUE_COUNTS_CACHE_MS = 1000;

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
  /** Job durations, attempts and outcomes; decisions by route and their latency (from the worker's completed/failed events). */
  watchWorker(worker: Worker): void;
  /** One Genesys API answer (status 0 = no HTTP answer: network error or timeout). */
  observeGenesys(endpoint: string, status: number, seconds: number): void;
  /** The queue was paused for `ms` after a 429 (worker.rateLimit). */
  observePause(queue: string, ms: number): void;
  /** Occupancy cache counters of this process, read at scrape time. */
  watchOccupancy(stats: () => OccupancyStats): void;
  /** Report batcher counters of this process, read at scrape time. */
  watchBatcher(stats: () => BatchStats): void;
  /** One `_bulk` (or embedded-store) batch of `size` documents. */
  observeBatch(size: number): void;
  /** This process's use of the shared Genesys request budget, read at scrape time (GenesysStats.budget). */
  watchGenesysBudget(stats: () => BudgetCounters | undefined): void;
}

/** The counters of @ivr/genesys's BudgetStats (structurally; this package does not depend on @ivr/genesys). */
export interface BudgetCounters {
  granted: Record<string, Partial<Record<string, number>>>;
  exhausted: Record<string, number>;
}

export function createMetrics(registry: Registry = new Registry(), opts: { defaultMetrics?: boolean; now?: () => number } = {}): IvrMetrics {
  const now = opts.now ?? Date.now;
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  // Series below are built with `registers: unregistered` and enter the registry when this process wires or uses
  // them (`enable`), so each process exports only its own series: no worker counters reading 0 on the receiver
  // (issue 17). A series built with `registers` is exported by every process from the start.
  const registers: Registry[] = [registry];
  const unregistered: Registry[] = [];
  const enabled = new Set<string>();
  const enable = (...metrics: Array<Counter | Gauge | Histogram>) => {
    for (const m of metrics) {
      const name = (m as unknown as { name: string }).name;
      if (enabled.has(name)) continue;
      enabled.add(name);
      registry.registerMetric(m);
    }
  };

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

  const queues: Queue[] = [];
  let stateCache: { at: number; p: Promise<QueueState[] | undefined> } | undefined;
  /** One read of every watched queue per second at most, shared by the gauges below; undefined when Redis failed. */
  const readQueues = () => {
    const at = now();
    if (!stateCache || at - stateCache.at >= QUEUE_COUNTS_CACHE_MS) {
      stateCache = {
        at,
        p: Promise.all(queues.map((q) => readQueueState(q))).catch(() => {
          stateCache = undefined; // do not cache a failure
          return undefined;
        }),
      };
    }
    return stateCache.p;
  };
  const countsUp = new Gauge({
    name: 'ivr_queue_counts_up',
    help: '1 when reading queue depth from Redis succeeded at this scrape, 0 when it failed',
    registers: unregistered,
    async collect() {
      this.set((await readQueues()) ? 1 : 0);
    },
  });
  const depth = new Gauge({
    name: 'ivr_queue_jobs',
    help: 'Jobs per queue and state (BullMQ getJobCounts, the numbers Bull Board shows); the same from every process, aggregate with max()',
    labelNames: ['queue', 'state'],
    registers: unregistered,
    async collect() {
      this.reset();
      for (const q of (await readQueues()) ?? []) {
        for (const [state, n] of Object.entries(q.counts)) this.set({ queue: q.name, state }, n);
      }
    },
  });
  const oldest = new Gauge({
    name: 'ivr_queue_oldest_job_age_seconds',
    help: 'Age (now - job creation time) of the oldest job waiting to be worked (wait, prioritized; a paused queue keeps its jobs in wait), 0 when none waits; the same from every process, aggregate with max()',
    labelNames: ['queue'],
    registers: unregistered,
    async collect() {
      this.reset();
      const t = now();
      for (const q of (await readQueues()) ?? []) this.set({ queue: q.name }, q.oldestCreatedAt === undefined ? 0 : Math.max(0, (t - q.oldestCreatedAt) / 1000));
    },
  });
  const paused = new Gauge({
    name: 'ivr_queue_paused',
    help: '1 while the queue takes no job: paused by an operator (Bull Board, queue.pause) or rate-limited after a Genesys 429 (worker.rateLimit); the same from every process, aggregate with max()',
    labelNames: ['queue'],
    registers: unregistered,
    async collect() {
      this.reset();
      for (const q of (await readQueues()) ?? []) this.set({ queue: q.name }, q.paused ? 1 : 0);
    },
  });

  const durations = new Histogram({
    name: 'ivr_job_duration_seconds',
    help: 'Processing time of one job attempt (finishedOn - processedOn), by queue and outcome',
    labelNames: ['queue', 'outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: unregistered,
  });
  const finished = new Counter({
    name: 'ivr_jobs_total',
    help: 'Job attempts that ended, by queue and outcome: completed, retrying (failed, will be retried), failed (failed for good)',
    labelNames: ['queue', 'outcome'],
    registers: unregistered,
  });
  const attempts = new Histogram({
    name: 'ivr_job_attempts',
    help: 'attemptsMade of jobs that finished (completed or failed for good), by queue and outcome; _sum is the attempts spent',
    labelNames: ['queue', 'outcome'],
    buckets: [1, 2, 3, 5, 10, 20],
    registers: unregistered,
  });
  const decisions = new Counter({
    name: 'ivr_decisions_total',
    help: 'Routing decisions made (re-runs of a decided event excluded), by route and occupancy source (notification = pushed, poll = polled now, cache = shared by a peer, fail_open)',
    labelNames: ['route', 'occupancy_source'],
    registers: unregistered,
  });
  const decisionLatency = new Histogram({
    name: 'ivr_decision_latency_seconds',
    help: 'Webhook received by the receiver -> decision stored by the decide worker (re-runs excluded), by occupancy source',
    labelNames: ['occupancy_source'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: unregistered,
  });
  const superseded = new Counter({ name: 'ivr_superseded_total', help: 'Jobs dropped because a later key press of the same call superseded them, by queue', labelNames: ['queue'], registers: unregistered });

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

  const occupancy: Array<() => OccupancyStats> = [];
  const sumOcc = (k: keyof OccupancyStats) => occupancy.reduce((n, s) => n + s()[k], 0);
  const fromStats = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: unregistered,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const occupancySeries = [
    fromStats('ivr_occupancy_analytics_calls_total', 'Genesys analytics (queue observations) queries made by this process', () => sumOcc('analyticsCalls')),
    fromStats('ivr_occupancy_cache_hits_total', 'Occupancy readings served from the shared Redis cache without an API call', () => sumOcc('cacheHits')),
    fromStats('ivr_occupancy_waited_for_peer_total', "Occupancy readings that waited for another process's in-flight query (single flight)", () => sumOcc('waitedForPeer')),
    fromStats('ivr_occupancy_fail_open_total', 'Occupancy readings Genesys could not answer (DEFAULT_ROUTE applied)', () => sumOcc('failOpen')),
  ];

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
  const writeLag = new Histogram({
    name: 'ivr_write_lag_seconds',
    help: 'Time from the decision to its successful attribute write',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
    registers: unregistered,
  });
  const writesSkipped = new Counter({
    name: 'ivr_writes_skipped_total',
    help: 'Attribute writes not sent because not needed, by reason: answered_synchronously (Prefer: wait answer delivered), write_back_never (WRITE_BACK=never)',
    labelNames: ['reason'],
    registers: unregistered,
  });
  const writesExpired = new Counter({ name: 'ivr_writes_expired_total', help: 'Attribute writes not sent because older than WRITE_MAX_AGE_S (expired: the call has moved on)', registers: unregistered });

  const batchers: Array<() => BatchStats> = [];
  const storeDocs = new Counter({
    name: 'ivr_store_documents_total',
    help: 'Decision documents sent to the decision store, by result (written, duplicate, failed)',
    labelNames: ['result'],
    registers: unregistered,
    collect() {
      this.reset();
      const s = batchers.map((b) => b());
      this.inc({ result: 'written' }, s.reduce((n, x) => n + x.written, 0));
      this.inc({ result: 'duplicate' }, s.reduce((n, x) => n + x.duplicates, 0));
      this.inc({ result: 'failed' }, s.reduce((n, x) => n + x.failed, 0));
    },
  });
  const batchSizes = new Histogram({
    name: 'ivr_store_batch_size',
    help: 'Documents per decision-store batch (_bulk request or embedded-store round trip)',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000],
    registers: unregistered,
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    observeWebhook(outcome) {
      enable(webhooks, dedupe);
      webhooks.inc({ outcome });
      if (outcome === 'duplicate') dedupe.inc({ stage: 'receiver' });
    },
    observeHttp(method, route, statusCode, secs) {
      enable(httpDuration);
      httpDuration.observe({ method, route, status_code: String(statusCode) }, secs);
    },
    watchHttp() {
      enable(httpDuration);
    },
    watchQueues(qs) {
      enable(countsUp, depth, oldest, paused);
      queues.push(...qs);
    },
    watchWorker(worker) {
      enable(durations, finished, attempts);
      const queue = worker.name;
      if (queue === QUEUE_NAMES.events) enable(decisions, decisionLatency, superseded, dedupe);
      else if (queue === QUEUE_NAMES.writes) enable(superseded);
      worker.on('completed', (job: Job, result: unknown) => {
        durations.observe({ queue, outcome: 'completed' }, seconds(job));
        finished.inc({ queue, outcome: 'completed' });
        attempts.observe({ queue, outcome: 'completed' }, Math.max(1, job.attemptsMade));
        const r = (result ?? {}) as { status?: string; routing?: string; occupancySource?: string; replayed?: boolean; latencyMs?: number; writeStatus?: string; skipReason?: string; lagMs?: number };
        if (r.status === 'superseded') {
          enable(superseded);
          superseded.inc({ queue });
        }
        if (r.writeStatus === 'written' && typeof r.lagMs === 'number') {
          enable(writeLag);
          writeLag.observe(r.lagMs / 1000);
        }
        if (r.writeStatus === 'skipped') {
          enable(writesSkipped);
          writesSkipped.inc({ reason: r.skipReason ?? 'unknown' });
        }
        if (r.writeStatus === 'expired') {
          enable(writesExpired);
          writesExpired.inc();
        }
        if (r.status === 'decided' && r.routing) {
          enable(decisions, decisionLatency, dedupe);
          if (r.replayed) dedupe.inc({ stage: 'decide' });
          else {
            const source = r.occupancySource ?? 'unknown';
            decisions.inc({ route: r.routing, occupancy_source: source });
            if (typeof r.latencyMs === 'number') decisionLatency.observe({ occupancy_source: source }, r.latencyMs / 1000);
          }
        }
      });
      worker.on('failed', (job: Job | undefined, err: Error) => {
        if (!job) return;
        const outcome = isFinalFailure(job, err) ? 'failed' : 'retrying';
        durations.observe({ queue, outcome }, seconds(job));
        finished.inc({ queue, outcome });
        if (outcome === 'failed') attempts.observe({ queue, outcome }, Math.max(1, job.attemptsMade));
      });
    },
    observeGenesys(endpoint, status, secs) {
      enable(genesysCalls, genesysLatency, rateLimited);
      genesysCalls.inc({ endpoint, status: String(status) });
      genesysLatency.observe({ endpoint }, secs);
      if (status === 429) rateLimited.inc({ endpoint });
    },
    observePause(queue, ms) {
      enable(pauses, pausedSeconds);
      pauses.inc({ queue });
      pausedSeconds.inc({ queue }, ms / 1000);
    },
    watchOccupancy(stats) {
      enable(...occupancySeries);
      occupancy.push(stats);
    },
    watchBatcher(stats) {
      enable(storeDocs, batchSizes);
      batchers.push(stats);
    },
    observeBatch(size) {
      enable(batchSizes);
      batchSizes.observe(size);
    },
    watchGenesysBudget(stats) {
      enable(budgetRequests, budgetExhausted);
      budgets.push(stats);
    },
  };
}

/** What the queue gauges show for one queue, read from Redis at scrape time. */
interface QueueState {
  name: string;
  counts: Record<string, number>;
  /** Creation time (ms) of the oldest job waiting to be worked; undefined when none waits. */
  oldestCreatedAt: number | undefined;
  paused: boolean;
}

/** States whose jobs are ready and waiting for a worker (BullMQ 6 keeps a paused queue's jobs in wait; `delayed` jobs are not due yet). */
const WAITING_STATES = ['wait', 'prioritized'] as const;

async function readQueueState(q: Queue): Promise<QueueState> {
  const [counts, oldestJobs, isPaused, limitTtl] = await Promise.all([
    q.getJobCounts(),
    // asc = true: the oldest first (BullMQ 6 queue-getters.d.ts: getJobs(types, start, end, asc)).
    Promise.all(WAITING_STATES.map((t) => q.getJobs([t], 0, 0, true))),
    q.isPaused(),
    // > 0 while worker.rateLimit(ms) (our 429 pause) or a queue limiter that is full holds the queue.
    q.getRateLimitTtl(),
  ]);
  const created = oldestJobs.flat().map((j) => j?.timestamp).filter((t): t is number => typeof t === 'number' && t > 0);
  return { name: q.name, counts, oldestCreatedAt: created.length ? Math.min(...created) : undefined, paused: isPaused || limitTtl > 0 };
}


function seconds(job: Job): number {
  if (!job.processedOn) return 0;
  return Math.max(0, ((job.finishedOn ?? Date.now()) - job.processedOn) / 1000);
}

export interface MetricsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** A tiny HTTP server answering `GET /metrics` (worker processes have no other HTTP surface). */
export async function serveMetrics(metrics: Pick<IvrMetrics, 'render' | 'contentType'>, port: number, host = '0.0.0.0'): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      metrics.render().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(text);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`metrics unavailable: ${err.message}\n`);
        },
      );
      return;
    }
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found: this port serves GET /metrics and GET /healthz only\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(`cannot serve metrics on ${host}:${port}: ${e.code === 'EADDRINUSE' ? 'port in use (set WORKER_METRICS_PORT, or 0 to disable)' : e.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
