import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobIdFor } from '@ivr/core';
import { COMPLETED_JOB_RETENTION_S, REPORT_BATCH_JOB, type DecisionReportJob, type Keyspace, type ReportBatchJob } from '@ivr/queue-contract';
import type { Logger } from './processors/logger';

/** How the in-call path hands a decision's report on: resolves once it is in a stored job, rejects otherwise. */
export type SendReport = (report: DecisionReportJob) => Promise<void>;

export interface ReportSender {
  send: SendReport;
  /** Add whatever waits now (at shutdown, after the server stopped taking requests). */
  flush(): Promise<void>;
  stats(): { batches: number; reports: number };
}

export interface ReportSenderOptions {
  reports: Pick<Queue, 'add'>;
  /** Where the per-decision pointers to their batch job go (the console's journey card reads them). */
  redis: Redis;
  ks: Keyspace;
  /** A batch is added when its oldest report has waited this long... */
  lingerMs: number;
  /** ...or when it holds this many. */
  maxBatch: number;
  /** How long a decision's pointer to its batch job lives: the completed report jobs' retention (queues.ts). */
  pointerTtlS: number;
  logger: Logger;
}

/**
 * The defaults the receiver runs with: at 300 in-call decisions/s a batch carries about 15 reports. The cap keeps
 * a batch job close to a single report's weight for the report worker, whose REPORT_CONCURRENCY counts jobs: after
 * a store outage hundreds of them run at once, and each holds its documents in the store batcher until all are
 * stored (with 200-document batches, 4 worker processes on this 2-core box lost the locks of batch jobs in a backlog:
 * docs/performance.md).
 */
export const IN_CALL_REPORT_BATCH = { lingerMs: 50, maxBatch: 50, pointerTtlS: COMPLETED_JOB_RETENTION_S } as const;

interface Waiting {
  report: DecisionReportJob;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * The receiver's in-call reports, a few milliseconds' worth in one `report-batch` job (instead of one BullMQ job
 * per decision: its add, the worker's move to active and to finished and their events, about 40 Redis commands and
 * a millisecond of worker CPU each). Each `send` resolves only once its batch job is stored, so the in-call decider
 * removes an event's delayed job only after its report is in Redis: a receiver that dies with reports waiting here
 * leaves those jobs to run when their delay ends, and they report their decisions themselves (the store keeps one
 * document per decision). With the job, one pipeline sets each decision's pointer to it (`ks.reportBatch`), which
 * is how a decision's report job is found (ops lookup).
 */
export function createReportSender(opts: ReportSenderOptions): ReportSender {
  let waiting: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;
  const stats = { batches: 0, reports: 0 };

  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!waiting.length) return;
    const batch = waiting;
    waiting = [];
    const jobId = jobIdFor('batch', randomUUID());
    const data: ReportBatchJob = { reports: batch.map((w) => w.report) };
    try {
      const pointers = opts.redis.pipeline();
      for (const w of batch) pointers.set(opts.ks.reportBatch(w.report.decisionId), jobId, 'EX', opts.pointerTtlS);
      // In parallel: a pointer naming a job not added (yet) reads as "no report job kept" in the console.
      const [res] = await Promise.all([pointers.exec(), opts.reports.add(REPORT_BATCH_JOB, data, { jobId })]);
      const err = res?.find(([e]) => e)?.[0];
      if (err) opts.logger.warn({ jobId, err: err.message }, 'report batch pointers not set');
      stats.batches++;
      stats.reports += batch.length;
      for (const w of batch) w.resolve();
      opts.logger.debug({ jobId, size: batch.length }, 'report batch added');
    } catch (err) {
      const e = new Error(`report batch not added: ${(err as Error).message}`);
      for (const w of batch) w.reject(e);
    }
  }

  return {
    send(report) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ report, resolve, reject });
        if (waiting.length >= opts.maxBatch) void flush();
        else if (!timer) timer = setTimeout(() => void flush(), opts.lingerMs);
      });
    },
    flush,
    stats: () => ({ ...stats }),
  };
}
