import type { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { decisionStoreConfig, eventLogger, loadRoutingPolicy, type Config } from '@ivr/config';
import { policyQueues } from '@ivr/core';
import type { GenesysClient } from '@ivr/genesys';
import { createDecisionStore, initInBackground, type DecisionStore } from '@ivr/reporting';
import { assertRedisMemory, createRedis, waitForRedis, warnIfEvicting } from '@ivr/redis';
import { createConversationStore, createOccupancyCache, createReportBatcher, defineApplyScripts, startHeldSweep, type OccupancyCache, type OccupancyPush, type ReportBatcher } from '@ivr/pipeline';
import { createMetrics, type IvrMetrics } from '@ivr/metrics';
import { createQueues, heldState, keyspace, prepareHeldMove } from '@ivr/queue-contract';
import { instrumentGenesys } from './genesys-metrics';
import { heatmapRegeneration } from './heatmap-regeneration';

import { applyWorker } from './roles/apply';
import { sharedWorkerOptions, watchWorker, type RoleContext } from './roles/context';
import { decideWorker } from './roles/decide';
import { startOccupancyPushRole } from './roles/occupancy-push';
import { reportWorker } from './roles/report';

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

/**
 * Wire config → connections → Genesys client → one BullMQ Worker per role, each built in its own file:
 * decide (roles/decide.ts) with the occupancy push holder (roles/occupancy-push.ts), apply (roles/apply.ts),
 * report (roles/report.ts) with the heatmap regeneration policy (heatmap-regeneration.ts).
 */
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
  if (roles.includes('decide')) await prepareHeldMove(queues.events); // the sweep's move script (held events)
  const workerOptions = sharedWorkerOptions(config, workerConn);
  const ctx: RoleContext = { config, logger, eventLog: eventLogger(logger), metrics, api, client, ks, queues, workerOptions };

  const push = roles.includes('decide') ? startOccupancyPushRole(config, logger, api, client, ks, policyQueues(policy)) : undefined;
  // Events held for an in-call decision whose receiver died: their jobs are added once due (@ivr/queue-contract held.ts).
  const sweep = roles.includes('decide') ? startHeldSweep({ events: queues.events, ks, logger: ctx.eventLog }) : undefined;
  const occupancy = createOccupancyCache({ redis: client, ks, cacheMs: config.OCCUPANCY_CACHE_MS, fetch: (q) => api.queryObservations(q), mediaType: config.MEDIA_TYPE, lockMs: config.GENESYS_TIMEOUT_MS + 500, companions: policyQueues(policy) });
  // The store's init (Elasticsearch: index template, index) runs in the background until it succeeds: a store that
  // is down at start does not stop decisions or Genesys writes; report jobs fail with the reason and are retried.
  const store = initInBackground(createDecisionStore(decisionStoreConfig(config), client, prefix), { logger });
  const regenerate = heatmapRegeneration(store, config.REPORTS_DIR, logger);
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
  metrics.watchHeld(() => heldState(client, ks));
  if (roles.includes('report')) await store.init(); // returns at once; see initInBackground

  const workers = [
    ...(roles.includes('decide') ? [decideWorker(ctx, { conversations, occupancy, policy })] : []),
    ...(roles.includes('apply') ? [applyWorker(ctx)] : []),
    ...(roles.includes('report') ? [reportWorker(ctx, batcher)] : []),
  ].map((w) => watchWorker(w, ctx));
  logger.info({ roles, prefix, workerName: workerOptions.name, concurrency: { decide: config.DECIDE_CONCURRENCY, apply: config.APPLY_CONCURRENCY, report: config.REPORT_CONCURRENCY }, ratePerMin: config.GENESYS_RATE_PER_MIN, writeBack: config.WRITE_BACK, writeMaxAgeS: config.WRITE_MAX_AGE_S }, 'workers running');

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
      await sweep?.stop();
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
