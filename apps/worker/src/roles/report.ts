import { Worker, type Job } from 'bullmq';
import { processReport, type ReportBatcher } from '@ivr/pipeline';
import { QUEUE_NAMES } from '@ivr/queue-contract';
import type { RoleContext } from './context';

/** report (`decision-reports`, REPORT_CONCURRENCY): processReport hands decisions and write outcomes to the batcher. */
export function reportWorker(ctx: RoleContext, batcher: ReportBatcher): Worker {
  return new Worker(QUEUE_NAMES.reports, (job: Job) => processReport(job, { batcher, logger: ctx.eventLog }), { ...ctx.workerOptions, concurrency: ctx.config.REPORT_CONCURRENCY });
}
