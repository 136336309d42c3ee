import { Worker, type Job } from 'bullmq';
import type { RoutingPolicy } from '@ivr/core';
import { createEstimatedWaitCache, createReportSender, DECIDE_REPORT_BATCH, processDecide, type ConversationStore, type OccupancyCache } from '@ivr/pipeline';
import { QUEUE_NAMES } from '@ivr/queue-contract';
import type { RoleContext } from './context';

/**
 * decide (`ivr-events`, DECIDE_CONCURRENCY): processDecide with the shared occupancy cache, the estimated-wait cache
 * (read only for targets with maxEstimatedWaitS) and the routing policy; it dispatches the write and the report.
 */
export function decideWorker(ctx: RoleContext, shared: { conversations: ConversationStore; occupancy: OccupancyCache; policy: RoutingPolicy }): Worker {
  const { config, api, client, ks, queues } = ctx;
  const estimatedWait = createEstimatedWaitCache({ redis: client, ks, cacheMs: config.OCCUPANCY_CACHE_MS, lockMs: config.GENESYS_TIMEOUT_MS + 500, fetch: (q) => api.getEstimatedWaitSeconds(q, config.MEDIA_TYPE) });
  // Its reports go in report-batch jobs (a job's completion waits for its batch to be stored), not one job each.
  const sender = createReportSender({ reports: queues.reports, redis: client, ks, logger: ctx.eventLog, ...DECIDE_REPORT_BATCH });
  const deps = { ...shared, estimatedWait, defaultRoute: config.DEFAULT_ROUTE, writes: queues.writes, reports: queues.reports, sendReport: sender.send, publisher: client, ks, logger: ctx.eventLog, writeBack: config.WRITE_BACK, answerGraceMs: config.WRITE_ANSWER_GRACE_MS };
  return new Worker(QUEUE_NAMES.events, (job: Job) => processDecide(job, deps), { ...ctx.workerOptions, concurrency: config.DECIDE_CONCURRENCY });
}
