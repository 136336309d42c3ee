import { hostname } from 'node:os';
import { Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { decisionStoreConfig, eventLogger, type Config } from '@ivr/config';
import { classifyGenesysError, createCustomerResolver, type GenesysClient } from '@ivr/genesys';
import { createDecisionStore, initInBackground, writeHeatmapFile, type DecisionStore } from '@ivr/reporting';
import {
  createConversationStore,
  createEstimatedWaitCache,
  createOccupancyCache,
  createReportBatcher,
  defineApplyScripts,
  emitWriteOutcome,
  processApply,
  processDecide,
  processReport,
  throttle,
  logJobFailure,
  type OccupancyCache,
  type OccupancyPush,
  type ReportBatcher,
} from '@ivr/pipeline';
import { createMetrics, type IvrMetrics } from '@ivr/metrics';
import { createQueues, keyspace, QUEUE_NAMES } from '@ivr/queue-contract';
import { createRedis, waitForRedis, warnIfEvicting, assertRedisMemory } from '@ivr/redis';
import { loadRoutingPolicy } from './policy';
import { policyQueues } from '@ivr/core';
import { instrumentGenesys } from './genesys-metrics';
import { startOccupancyPushRole } from './occupancy-push';

export type Role = 'decide' | 'apply' | 'report';

export interface RunningWorkers {
  workers: Worker[];
  genesys: GenesysClient;
  occupancy: OccupancyCache;
  /** The notification channel candidate (decide role, OCCUPANCY_SOURCE not polling). */
  push: OccupancyPush | undefined;
  batcher: ReportBatcher;
  store: DecisionStore;
  /** This process's Prometheus metrics (serve with serveMetrics, as main.ts does). */
  metrics: IvrMetrics;
  close(): Promise<void>;
}

/** Wire config → connections → Genesys client → processors → one BullMQ Worker per role. */
export async function startWorkers(
  config: Config,
  logger: Logger,
  /** Closed by close() (it holds the budget's Redis connection). */
  genesys: GenesysClient,
  roles: readonly Role[] = config.WORKER_ROLES,
  opts: { metrics?: IvrMetrics } = {},
): Promise<RunningWorkers> {
  const metrics = opts.metrics ?? createMetrics();
  const api = instrumentGenesys(genesys, metrics);
  const prefix = config.QUEUE_PREFIX;
  const ks = keyspace(prefix);
  const workerConn = createRedis(config.REDIS_URL, 'worker');
  // No enableAutoPipelining: it measured no faster in `pnpm bench --only e2e` (docs/performance.md), and with it any
  // script defined after start-up would kill the process (see defineApplyScripts, the cause of the old scaling hang).
  const client = createRedis(config.REDIS_URL, 'worker', { connectionName: 'ivr-worker-client' });
  const eventLog = eventLogger(logger);
  for (const [name, conn] of [['worker', workerConn], ['client', client]] as const) {
    conn.on('error', (err) => logger.warn({ connection: name, err: err.message }, 'Redis connection error'));
  }
  await waitForRedis(client, 10000);
  await warnIfEvicting(client, logger);
  await assertRedisMemory(client, logger);
  const policy = loadRoutingPolicy(config);
  const queues = createQueues(client, prefix, { applyAttempts: config.APPLY_ATTEMPTS, applyBackoffMs: config.APPLY_BACKOFF_MS });
  const conversations = createConversationStore(client, ks, config.IDEMPOTENCY_TTL_S);
  // Every script this process runs on `client` is defined here, before any job: see defineApplyScripts.
  defineApplyScripts(client);
  const push = roles.includes('decide') ? startOccupancyPushRole(config, logger, api, client, ks, policyQueues(policy)) : undefined;
  const occupancy = createOccupancyCache({ redis: client, ks, cacheMs: config.OCCUPANCY_CACHE_MS, fetch: (q) => api.queryObservations(q), mediaType: config.MEDIA_TYPE, lockMs: config.GENESYS_TIMEOUT_MS + 500, companions: policyQueues(policy) });
  // The store's init (Elasticsearch: index template, index) runs in the background until it succeeds: a store that
  // is down at start does not stop decisions or Genesys writes; report jobs fail with the reason and are retried.
  const store = initInBackground(createDecisionStore(decisionStoreConfig(config), client, prefix), { logger });
  const regenerate = throttle(
    async () => {
      const r = await writeHeatmapFile(store, config.REPORTS_DIR);
      logger.debug({ path: r.path, decisions: r.decisions }, 'heatmap regenerated');
    },
    2000,
    (e) => logger.warn({ err: e.message }, 'heatmap regeneration failed'),
  );
  const batcher = createReportBatcher({
    store,
    batchSize: config.REPORT_BATCH_SIZE,
    lingerMs: config.REPORT_LINGER_MS,
    onBatch: (b) => {
      metrics.observeBatch(b.size);
      regenerate();
    },
    logger,
  });
  metrics.watchOccupancy(() => occupancy.stats());
  metrics.watchGenesysBudget(() => genesys.stats().budget);
  metrics.watchBatcher(() => batcher.stats());
  metrics.watchQueues(queues.all);
  if (roles.includes('report')) await store.init(); // returns at once; see initInBackground

  // `name` is stored on every job this process takes (job.processedBy, shown by Bull Board): which process handled it.
  // maxStalledCount 5 (BullMQ's default is 1): a Redis outage longer than the lock makes every active job "stalled",
  // and a job stalled twice would fail for good although its work was done (chaos 3 saw 98 report jobs and write
  // outcomes fail so, their documents stored). All three processors are idempotent (decision per key, write under
  // lock + sequence, documents and outcomes by decision id), so running a stalled job again is safe.
  const common = { name: `${hostname()}-${process.pid}`, connection: workerConn, prefix, lockDuration: config.LOCK_DURATION_MS, stalledInterval: config.STALLED_INTERVAL_MS, maxStalledCount: 5, autorun: true };
  const workers: Worker[] = [];
  if (roles.includes('decide')) {
    const estimatedWait = createEstimatedWaitCache({ redis: client, ks, cacheMs: config.OCCUPANCY_CACHE_MS, lockMs: config.GENESYS_TIMEOUT_MS + 500, fetch: (q) => api.getEstimatedWaitSeconds(q, config.MEDIA_TYPE) });
    const deps = { conversations, occupancy, estimatedWait, policy, defaultRoute: config.DEFAULT_ROUTE, writes: queues.writes, reports: queues.reports, publisher: client, ks, logger: eventLog, writeBack: config.WRITE_BACK, answerGraceMs: config.WRITE_ANSWER_GRACE_MS };
    workers.push(new Worker(QUEUE_NAMES.events, (job: Job) => processDecide(job, deps), { ...common, concurrency: config.DECIDE_CONCURRENCY }));
  }
  if (roles.includes('apply')) {
    let applyWorker: Worker | undefined;
    const customers = createCustomerResolver({ redis: client, prefix, getConversation: (cid) => api.getConversation(cid) });
    const deps = {
      patchAttributes: (cid: string, pid: string, attrs: Record<string, string>) => api.patchParticipantAttributes(cid, pid, attrs),
      resolveParticipant: (cid: string) => customers.resolve(cid),
      recordOutcome: (o: Parameters<typeof emitWriteOutcome>[1]) => emitWriteOutcome(queues.reports, o),
      classify: classifyGenesysError,
      redis: client,
      ks,
      rateLimit: (ms: number) => {
        metrics.observePause(QUEUE_NAMES.writes, ms);
        return applyWorker!.rateLimit(ms);
      },
      logger: eventLog,
      lockMs: config.GENESYS_TIMEOUT_MS * 2 + 1000,
      writeBack: config.WRITE_BACK,
      maxAgeMs: config.WRITE_MAX_AGE_S * 1000,
    };
    applyWorker = new Worker(QUEUE_NAMES.writes, (job: Job, token?: string) => processApply(job, deps, token), {
      ...common,
      // No BullMQ limiter: the shared Genesys budget (in the client's request path) paces writes by delaying the
      // job, so the queue is only ever rate limited (Bull Board's badge) by a Genesys 429's Retry-After.
      concurrency: config.APPLY_CONCURRENCY,
    });
    workers.push(applyWorker);
  }
  if (roles.includes('report')) {
    workers.push(new Worker(QUEUE_NAMES.reports, (job: Job) => processReport(job, { batcher, logger: eventLog }), { ...common, concurrency: config.REPORT_CONCURRENCY }));
  }
  for (const w of workers) {
    metrics.watchWorker(w);
    w.on('failed', (job, err) => logJobFailure(logger, w.name, job, err));
    w.on('error', (err) => logger.warn({ queue: w.name, err: err.message }, 'worker error'));
  }
  logger.info({ roles, prefix, workerName: common.name, concurrency: { decide: config.DECIDE_CONCURRENCY, apply: config.APPLY_CONCURRENCY, report: config.REPORT_CONCURRENCY }, ratePerMin: config.GENESYS_RATE_PER_MIN, writeBack: config.WRITE_BACK, writeMaxAgeS: config.WRITE_MAX_AGE_S }, 'workers running');

  return {
    workers,
    genesys,
    occupancy,
    push,
    batcher,
    store,
    metrics,
    async close() {
      // Stop taking jobs and let in-flight ones finish; the batcher flushes what its jobs are waiting on.
      const closing = workers.map((w) => w.close());
      await push?.stop(); // gives the lease up: another process takes the channel over at once
      await batcher.flush();
      await Promise.all(closing);
      await regenerate.flush();
      await queues.close();
      await store.close();
      workerConn.disconnect();
      client.disconnect();
      await genesys.close?.(); // the client's budget connection
    },
  };
}
