import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobIdFor } from '@ivr/core';
import { COMPLETED_JOB_RETENTION_S, REPORT_BATCH_JOB, WRITE_OUTCOME_BATCH_JOB, writeOutcomeJobSchema, type DecisionReportJob, type Keyspace, type ReportBatchJob, type WriteOutcome, type WriteOutcomeBatchJob } from '@ivr/queue-contract';
import type { Logger } from './processors/logger';

/** How the in-call path hands a decision's report on: resolves once it is in a stored job, rejects otherwise. */
export type SendReport = (report: DecisionReportJob) => Promise<void>;

/** Items handed on a few milliseconds' worth at a time, each batch as one job. */
export interface BatchSender<T> {
  /** Resolves once the job carrying `item` is stored; rejects with the reason when its add failed. */
  send(item: T): Promise<void>;
  /** Add whatever waits now (at shutdown, after the server stopped taking requests). */
  flush(): Promise<void>;
  stats(): { batches: number; items: number };
}

export type ReportSender = BatchSender<DecisionReportJob>;

interface BatchTiming {
  /** A batch is added when its oldest item has waited this long... */
  lingerMs: number;
  /** ...or when it holds this many. */
  maxBatch: number;
}

export interface ReportSenderOptions extends BatchTiming {
  reports: Pick<Queue, 'add'>;
  /** Where the per-decision pointers to their batch job go (the console's journey card reads them). */
  redis: Redis;
  ks: Keyspace;
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

/**
 * The decide workers' batches: a decide job holds one of its DECIDE_CONCURRENCY slots until its batch is stored, so
 * the linger is short and a batch is half the default concurrency (a full batch never waits for every slot).
 */
export const DECIDE_REPORT_BATCH = { lingerMs: 10, maxBatch: 25, pointerTtlS: COMPLETED_JOB_RETENTION_S } as const;

/** The apply workers' outcome batches, for the same reason (half the default APPLY_CONCURRENCY). */
export const APPLY_OUTCOME_BATCH = { lingerMs: 10, maxBatch: 10 } as const;

interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * THE batching of items into jobs (reports, write outcomes): up to `maxBatch` items, or what came within `lingerMs`
 * of the oldest, handed to `addBatch` together; every `send` of the batch settles with that add. `what` names the
 * batch in the reason of a failed add.
 */
export function createBatchSender<T>(opts: BatchTiming & { what: string; addBatch: (items: T[]) => Promise<void> }): BatchSender<T> {
  let waiting: Array<Waiting<T>> = [];
  let timer: NodeJS.Timeout | undefined;
  const stats = { batches: 0, items: 0 };

  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!waiting.length) return;
    const batch = waiting;
    waiting = [];
    try {
      await opts.addBatch(batch.map((w) => w.item));
      stats.batches++;
      stats.items += batch.length;
      for (const w of batch) w.resolve();
    } catch (err) {
      const e = new Error(`${opts.what} not added: ${(err as Error).message}`);
      for (const w of batch) w.reject(e);
    }
  }

  return {
    send(item) {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        if (waiting.length >= opts.maxBatch) void flush();
        else if (!timer) timer = setTimeout(() => void flush(), opts.lingerMs);
      });
    },
    flush,
    stats: () => ({ ...stats }),
  };
}

/**
 * The reports of a few milliseconds of decisions in one `report-batch` job (instead of one BullMQ job per decision:
 * its add, the worker's move to active and to finished and their events, about 35 Redis commands and a millisecond
 * of worker CPU each): the receiver's in-call decisions and the decide workers'. Each `send` resolves only once its
 * batch job is stored, so the in-call decider releases a held event, and a decide job completes, only after its
 * report is in Redis: a receiver that dies with reports waiting here leaves those events held, for a sweep to give
 * them their jobs, which report their decisions themselves; a worker that dies leaves its decide jobs to stall and
 * run again (the store keeps one document per decision). With the job, one pipeline sets each decision's pointer
 * to it (`ks.reportBatch`), which is how a decision's report job is found (ops lookup).
 */
export function createReportSender(opts: ReportSenderOptions): ReportSender {
  return createBatchSender<DecisionReportJob>({
    ...opts,
    what: 'report batch',
    async addBatch(reports) {
      const jobId = jobIdFor('batch', randomUUID());
      const data: ReportBatchJob = { reports };
      const pointers = opts.redis.pipeline();
      for (const r of reports) pointers.set(opts.ks.reportBatch(r.decisionId), jobId, 'EX', opts.pointerTtlS);
      // In parallel: a pointer naming a job not added (yet) reads as "no report job kept" in the console.
      const [res] = await Promise.all([pointers.exec(), opts.reports.add(REPORT_BATCH_JOB, data, { jobId })]);
      const err = res?.find(([e]) => e)?.[0];
      if (err) opts.logger.warn({ jobId, err: err.message }, 'report batch pointers not set');
      opts.logger.debug({ jobId, size: reports.length }, 'report batch added');
    },
  });
}

/**
 * The write outcomes of a few milliseconds of an apply worker's writes in one `write-outcome-batch` job (instead of
 * one `write-outcome` job each). Each `send` resolves once its batch job is stored, so an apply job completes only
 * after its outcome is in Redis: a worker that dies first leaves the apply job to stall and run again, as a crash
 * between the write and its outcome always did (the same attributes written again, the outcome sent again:
 * recording one twice changes nothing).
 */
export function createOutcomeSender(opts: BatchTiming & { reports: Pick<Queue, 'add'> }): BatchSender<WriteOutcome> {
  const sender = createBatchSender<WriteOutcome>({
    ...opts,
    what: 'write outcome batch',
    async addBatch(outcomes) {
      const data: WriteOutcomeBatchJob = { outcomes };
      await opts.reports.add(WRITE_OUTCOME_BATCH_JOB, data, { jobId: jobIdFor('batch', randomUUID()) });
    },
  });
  // Checked as it is handed on: an invalid outcome is the sender's error, never a batch job that fails later.
  return { ...sender, send: async (o) => sender.send(writeOutcomeJobSchema.parse(o)) };
}
