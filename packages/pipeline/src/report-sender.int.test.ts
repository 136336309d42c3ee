/**
 * createReportSender on real Redis and real BullMQ: reports sent within the linger go in one report-batch job, each
 * send resolves only once that job is stored, each decision points to its batch job, a full batch goes at once,
 * flush sends what waits, and a batch whose add fails rejects every send in it (the in-call decider then keeps the
 * event held, for a sweep to give it the job that reports the decision itself); write outcomes go the same way.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createQueues, keyspace, REPORT_BATCH_JOB, WRITE_OUTCOME_BATCH_JOB, type DecisionReportJob, type IvrQueues, type WriteOutcome } from '@ivr/queue-contract';
import { silentLogger, testRedis } from '@ivr/testing';
import { createOutcomeSender, createReportSender, type ReportSenderOptions } from './report-sender';

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
    expect(s.stats()).toEqual({ batches: 1, items: 3 });
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

  it('write outcomes (the apply workers\' wiring): one write-outcome-batch job for those sent within the linger, stored before any send resolves; an invalid outcome is refused at once', async () => {
    const s = createOutcomeSender({ reports: queues.reports, lingerMs: 20, maxBatch: 10 });
    const outcomes: WriteOutcome[] = [
      { decisionId: 'd-1', writeStatus: 'written', writtenAt: '2024-03-01T10:00:00.000Z' },
      { decisionId: 'd-2', writeStatus: 'failed', writeReason: 'Genesys 404 not.found' },
    ];
    const jobs = async () => (await queues.reports.getJobs(['waiting'])).filter((j) => j.name === WRITE_OUTCOME_BATCH_JOB);
    expect(await Promise.all(outcomes.map((o) => s.send(o).then(async () => (await jobs()).length)))).toEqual([1, 1]);
    expect((await jobs())[0]!.data).toEqual({ outcomes });
    await expect(s.send({ decisionId: 'd-3', writeStatus: 'lost' } as never)).rejects.toThrow(/writeStatus/);
    await s.flush();
    expect(await queues.reports.count()).toBe(1); // nothing added for the invalid one
  });

});
