/**
 * createReportSender on real Redis and real BullMQ: reports sent within the linger go in one report-batch job, each
 * send resolves only once that job is stored, each decision points to its batch job, a full batch goes at once,
 * flush sends what waits, and a batch whose add fails rejects every send in it (the in-call decider then keeps the
 * event's job, which reports the decision itself).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createQueues, keyspace, REPORT_BATCH_JOB, type DecisionReportJob, type IvrQueues } from '@ivr/queue-contract';
import { silentLogger, testRedis } from '@ivr/testing';
import { createReportSender, type ReportSenderOptions } from './report-sender';

/** A report as the sender sees it: data it carries, never reads (the report worker validates it: report-batcher.int.test.ts in apps/worker). */
const report = (n: number) => ({ decisionId: `d-${n}`, conversationId: `c-${n}` }) as DecisionReportJob;

describe('createReportSender (real Redis, real BullMQ)', () => {
  let t: ReturnType<typeof testRedis>;
  let queues: IvrQueues;
  const ks = () => keyspace(t.prefix);
  const sender = (o: Partial<ReportSenderOptions> = {}) =>
    createReportSender({ reports: queues.reports, redis: t.redis, ks: ks(), lingerMs: 20, maxBatch: 100, pointerTtlS: 60, logger: silentLogger, ...o });
  const batchJobs = async () => (await queues.reports.getJobs(['waiting'])).filter((j) => j.name === REPORT_BATCH_JOB);

  beforeEach(() => {
    t = testRedis('rsend');
    queues = createQueues(t.redis, t.prefix, { applyAttempts: 1, applyBackoffMs: 100 });
  });
  afterEach(async () => {
    await queues.close();
    await t.cleanup();
  });

  it('reports sent within the linger: one job carrying them all, stored before any send resolves, each decision pointing to it', async () => {
    const s = sender();
    const sent = [1, 2, 3].map((n) => s.send(report(n)).then(async () => (await batchJobs()).length));
    // Each send resolves only once the job is in Redis: every one of them sees it.
    expect(await Promise.all(sent)).toEqual([1, 1, 1]);
    const [job] = await batchJobs();
    expect(job!.data.reports.map((r: DecisionReportJob) => r.decisionId)).toEqual(['d-1', 'd-2', 'd-3']);
    for (const n of [1, 2, 3]) expect(await t.redis.get(ks().reportBatch(`d-${n}`))).toBe(job!.id);
    expect(await t.redis.ttl(ks().reportBatch('d-1'))).toBeGreaterThan(50);
    expect(await queues.reports.count()).toBe(1); // no report job of its own per decision
    expect(s.stats()).toEqual({ batches: 1, reports: 3 });
  });

  it('a full batch is added without waiting for the linger; flush adds what waits', async () => {
    const s = sender({ maxBatch: 2, lingerMs: 60_000 });
    await Promise.all([s.send(report(1)), s.send(report(2))]); // would hang for a minute if the linger applied
    const third = s.send(report(3));
    await s.flush();
    await third;
    expect((await batchJobs()).map((j) => j.data.reports.length).sort()).toEqual([1, 2]);
  });

  it('the add fails: every send of the batch rejects with the reason', async () => {
    const s = sender({ reports: { add: () => Promise.reject(new Error('READONLY You can\'t write against a read only replica.')) } });
    const results = await Promise.allSettled([s.send(report(1)), s.send(report(2))]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'resolved'))).toEqual([
      "report batch not added: READONLY You can't write against a read only replica.",
      "report batch not added: READONLY You can't write against a read only replica.",
    ]);
    expect(s.stats().batches).toBe(0);
  });

});
