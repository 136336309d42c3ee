import { hostname } from 'node:os';
import type { Worker, WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '@ivr/config';
import type { GenesysClient } from '@ivr/genesys';
import { logJobFailure } from '@ivr/pipeline';
import { type IvrMetrics } from '@ivr/metrics';
import { type IvrQueues, type Keyspace } from '@ivr/queue-contract';

/** What every role of a worker process is built from: one set of connections, queues and metrics per process. */
export interface RoleContext {
  config: Config;
  logger: Logger;
  /** The logger processors log events with (constant messages, ids as fields). */
  eventLog: Logger;
  metrics: IvrMetrics;
  /** The Genesys client, instrumented (every call counted and timed). */
  api: GenesysClient;
  /** Commands and scripts (every script defined before the first job: defineApplyScripts). */
  client: Redis;
  ks: Keyspace;
  queues: IvrQueues;
  /** Options shared by every BullMQ Worker of this process (connection, name, lock, stalled checks). */
  workerOptions: WorkerOptions;
}

/**
 * The BullMQ Worker options every role uses. `name` is stored on every job this process takes (job.processedBy, shown
 * by Bull Board): which process handled it. maxStalledCount 5 (BullMQ's default is 1): a Redis outage longer than the
 * lock makes every active job "stalled", and a job stalled twice would fail for good although its work was done
 * (chaos 3 saw 98 report jobs and write outcomes fail so, their documents stored). All three processors are
 * idempotent (decision per key, write under lock + sequence, documents and outcomes by decision id), so running a
 * stalled job again is safe.
 */
export function sharedWorkerOptions(config: Config, connection: Redis): WorkerOptions & { name: string } {
  return { name: `${hostname()}-${process.pid}`, connection, prefix: config.QUEUE_PREFIX, lockDuration: config.LOCK_DURATION_MS, stalledInterval: config.STALLED_INTERVAL_MS, maxStalledCount: 5, autorun: true };
}

/** Metrics and logs of a role's Worker: job counts and durations, each job failed for good, connection errors. */
export function watchWorker(w: Worker, ctx: Pick<RoleContext, 'metrics' | 'logger'>): Worker {
  ctx.metrics.watchWorker(w);
  w.on('failed', (job, err) => logJobFailure(ctx.logger, w.name, job, err));
  w.on('error', (err) => ctx.logger.warn({ queue: w.name, err: err.message }, 'worker error'));
  return w;
}
