import { Worker, type Job } from 'bullmq';
import { processReport, QUEUE_NAMES, type ReportBatcher } from '@ivr/queues';
import type { RoleContext } from './context';

/** report (`decision-reports`, REPORT_CONCURRENCY): processReport hands decisions and write outcomes to the batcher. */
export function reportWorker(ctx: RoleContext, batcher: ReportBatcher): Worker {
  return new Worker(QUEUE_NAMES.reports, (job: Job) => processReport(job, { batcher, logger: ctx.eventLog }), { ...ctx.workerOptions, concurrency: ctx.config.REPORT_CONCURRENCY });
}
