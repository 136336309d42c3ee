import { Worker, type Job } from 'bullmq';
import { classifyGenesysError, createCustomerResolver } from '@ivr/genesys';
import { APPLY_OUTCOME_BATCH, createOutcomeSender, processApply, type ApplyDeps } from '@ivr/pipeline';
import { QUEUE_NAMES } from '@ivr/queue-contract';
import type { RoleContext } from './context';

/**
 * apply (`genesys-writes`, APPLY_CONCURRENCY): processApply writes the decision as participant attributes through the
 * Genesys client (the caller's participant resolved when the webhook named none), records the outcome on the decision,
 * and pauses the whole queue on a Genesys 429 (worker.rateLimit). The outcomes go in write-outcome-batch jobs (an
 * apply job completes once its batch job is stored), not one job each.
 */
export function applyWorker(ctx: RoleContext): Worker {
  const { config, api, client, ks, queues, metrics } = ctx;
  let worker: Worker | undefined;
  const outcomes = createOutcomeSender({ reports: queues.reports, ...APPLY_OUTCOME_BATCH });
  const customers = createCustomerResolver({ redis: client, prefix: config.QUEUE_PREFIX, getConversation: (cid) => api.getConversation(cid) });
  const deps: ApplyDeps = {
    patchAttributes: (cid, pid, attrs) => api.patchParticipantAttributes(cid, pid, attrs),
    resolveParticipant: (cid) => customers.resolve(cid),
    recordOutcome: outcomes.send,
    classify: classifyGenesysError,
    redis: client,
    ks,
    rateLimit: (ms) => {
      metrics.observePause(QUEUE_NAMES.writes, ms);
      return worker!.rateLimit(ms);
    },
    logger: ctx.eventLog,
    lockMs: config.GENESYS_TIMEOUT_MS * 2 + 1000,
    writeBack: config.WRITE_BACK,
    maxAgeMs: config.WRITE_MAX_AGE_S * 1000,
  };
  worker = new Worker(QUEUE_NAMES.writes, (job: Job, token?: string) => processApply(job, deps, token), {
    ...ctx.workerOptions,
    // No BullMQ limiter: the shared Genesys budget (in the client's request path) paces writes by delaying the
    // job, so the queue is only ever rate limited (Bull Board's badge) by a Genesys 429's Retry-After.
    concurrency: config.APPLY_CONCURRENCY,
  });
  return worker;
}
