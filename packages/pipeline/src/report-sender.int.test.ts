/**
 * createReportSender on real Redis and real BullMQ: reports sent within the linger go in one report-batch job, each
 * send resolves only once that job is stored, each decision points to its batch job, a full batch goes at once,
 * flush sends what waits, and a batch whose add fails rejects every send in it (the in-call decider then keeps the
 * event's job, which reports the decision itself). processReport stores such a job's documents.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createQueues, keyspace, REPORT_BATCH_JOB, type DecisionReportJob, type IvrQueues } from '@ivr/queue-contract';
import { silentLogger, testRedis } from '@ivr/testing';
import { createReportSender, type ReportSenderOptions } from './report-sender';
import { createReportBatcher, processReport, type BatchWriter } from './processors/report';

/** A valid decision document (the schema the report processor parses). */
const report = (n: number): DecisionReportJob => ({
  decisionId: `d-${n}`,
  idempotencyKey: `k-${n}`,
  timestamp: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
  flowInstanceId: `flow-${n}`,
  conversationId: `c-${n}`,
  participantId: `p-${n}`,
  dtmf: '1',
  queueId: 'queue-1',
  threshold: 5,
  queue_occupancy: 3,
  routing_decision: 'route_to_queue',
  state: 'ROUTING',
  sequence: 1,
  latencyMs: 2,
  occupancySource: 'notification',
});

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

  it('processReport stores a batch job\'s documents (one already stored is no failure); a refused one fails the job', async () => {
    const stored = new Set<string>(['d-2']);
    const refuse = new Set<string>();
    const store: BatchWriter = {
      async writeBatch(docs) {
        const failed = docs.filter((d) => refuse.has(d.decisionId)).map((d) => ({ decisionId: d.decisionId, reason: 'mapper_parsing_exception', retryable: false }));
        const ok = docs.filter((d) => !refuse.has(d.decisionId));
        const duplicates = ok.filter((d) => stored.has(d.decisionId)).length;
        for (const d of ok) stored.add(d.decisionId);
        return { written: ok.length - duplicates, duplicates, failed };
      },
      recordWriteOutcomes: async () => ({ updated: 0, failed: [] }),
    };
    const deps = { batcher: createReportBatcher({ store, batchSize: 100, lingerMs: 1, logger: silentLogger }), logger: silentLogger };
    const job = { id: 'B1', name: REPORT_BATCH_JOB, data: { reports: [report(1), report(2), report(3)] } };
    expect(await processReport(job, deps)).toEqual({ status: 'batch', decisions: 3 });
    expect([...stored].sort()).toEqual(['d-1', 'd-2', 'd-3']);
    refuse.add('d-5');
    const bad = processReport({ ...job, data: { reports: [report(4), report(5)] } }, deps);
    await expect(bad).rejects.toThrow(/^1 of 2 decisions of the batch not stored \(first d-5\): decision store rejected d-5: mapper_parsing_exception$/);
    await expect(bad).rejects.toHaveProperty('name', 'UnrecoverableError');
    expect(stored.has('d-4')).toBe(true);
    // The store unavailable: a retryable failure (BullMQ retries the job).
    store.writeBatch = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9200'));
    const down = processReport({ ...job, data: { reports: [report(6)] } }, deps);
    await expect(down).rejects.toThrow(/^1 of 1 decisions of the batch not stored \(first d-6\): decision store unavailable \(will retry\)/);
    await expect(down).rejects.toHaveProperty('name', 'Error');
    await expect(processReport({ ...job, data: { reports: [] } }, deps)).rejects.toThrow(/too_small|>=1/);
  });
});
