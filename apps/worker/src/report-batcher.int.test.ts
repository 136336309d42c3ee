/**
 * createReportBatcher and processReport's batch jobs (report-batch, write-outcome-batch: packages/pipeline/src/processors/report.ts) against the real embedded decision store on real
 * Redis (the store the worker uses without Elasticsearch): it lives here, where both are wired, because neither
 * @ivr/reporting nor @ivr/pipeline depends on the other.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { UnrecoverableError } from 'bullmq';
import { createReportBatcher, processReport } from '@ivr/pipeline';
import { REPORT_BATCH_JOB, WRITE_OUTCOME_BATCH_JOB, type DecisionReportJob } from '@ivr/queue-contract';
import { createEmbeddedStore } from '@ivr/reporting';
import { makeDoc } from '@ivr/reporting/fixtures';
import { silentLogger, testRedis, TEST_REDIS_URL } from '@ivr/testing';

const doc = (i: number, over: Partial<DecisionReportJob> = {}) => makeDoc(i, over) as DecisionReportJob;
const logger = silentLogger as unknown as Parameters<typeof createReportBatcher>[0]['logger'];

describe('createReportBatcher (real embedded store, real Redis)', () => {
  let t: ReturnType<typeof testRedis>;
  beforeEach(() => {
    t = testRedis('batcher');
  });
  afterEach(() => t.cleanup());

  it('a full batch goes out at once, in one write, without waiting for the linger', async () => {
    const store = createEmbeddedStore(t.redis, t.prefix);
    const batches: Array<{ size: number; written: number }> = [];
    const b = createReportBatcher({ store, batchSize: 3, lingerMs: 60_000, logger, onBatch: (x) => batches.push(x) });
    expect(await Promise.all([b.add(doc(1)), b.add(doc(2)), b.add(doc(3))])).toEqual(['written', 'written', 'written']);
    expect(batches).toEqual([{ size: 3, written: 3 }]);
    expect(b.stats()).toMatchObject({ batches: 1, docs: 3, written: 3, lastBatchSize: 3 });
    expect(await store.count()).toBe(3);
  });

  it('fewer than a batch go out when the oldest has lingered', async () => {
    const store = createEmbeddedStore(t.redis, t.prefix);
    const b = createReportBatcher({ store, batchSize: 100, lingerMs: 20, logger });
    expect(await Promise.all([b.add(doc(1)), b.add(doc(2))])).toEqual(['written', 'written']);
    expect(b.stats()).toMatchObject({ batches: 1, docs: 2 });
  });

  it('flush writes what waits now (shutdown)', async () => {
    const store = createEmbeddedStore(t.redis, t.prefix);
    const b = createReportBatcher({ store, batchSize: 100, lingerMs: 60_000, logger });
    const added = [b.add(doc(1)), b.add(doc(2))];
    await b.flush();
    expect(await Promise.all(added)).toEqual(['written', 'written']);
    expect(await store.count()).toBe(2);
  });

  it('one decision twice in a batch is stored once; stored already, it counts as a duplicate, not an error', async () => {
    const store = createEmbeddedStore(t.redis, t.prefix);
    const batches: Array<{ size: number; written: number }> = [];
    const b = createReportBatcher({ store, batchSize: 2, lingerMs: 60_000, logger, onBatch: (x) => batches.push(x) });
    await Promise.all([b.add(doc(1)), b.add(doc(1))]);
    expect(b.stats()).toMatchObject({ batches: 1, docs: 1, written: 1 });
    await Promise.all([b.add(doc(1)), b.add(doc(1))]);
    expect(b.stats()).toMatchObject({ batches: 2, docs: 2, written: 1, duplicates: 1, failed: 0 });
    expect(batches).toEqual([{ size: 1, written: 1 }]); // onBatch only for a batch that stored something
    expect(await store.count()).toBe(1);
  });

  it('a document the store rejects fails its own job for good; its neighbours are stored', async () => {
    const store = createEmbeddedStore(t.redis, t.prefix);
    const b = createReportBatcher({ store, batchSize: 2, lingerMs: 60_000, logger });
    const [good, bad] = await Promise.allSettled([b.add(doc(1)), b.add(doc(2, { routing_decision: 'route_to_nowhere' as never }))]);
    expect(good).toEqual({ status: 'fulfilled', value: 'written' });
    expect(bad.status).toBe('rejected');
    const reason = (bad as PromiseRejectedResult).reason as Error;
    expect(reason).toBeInstanceOf(UnrecoverableError);
    expect(reason.message).toMatch(/^decision store rejected d-2: /);
    expect(b.stats()).toMatchObject({ written: 1, failed: 1 });
  });

  it('a store that is down fails every job of the batch with a retryable reason', async () => {
    const down = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    const b = createReportBatcher({ store: createEmbeddedStore(down, t.prefix), batchSize: 2, lingerMs: 60_000, logger });
    const r = await Promise.allSettled([b.add(doc(1)), b.add(doc(2))]);
    for (const x of r) {
      expect(x.status).toBe('rejected');
      const e = (x as PromiseRejectedResult).reason as Error;
      expect(e).not.toBeInstanceOf(UnrecoverableError);
      expect(e.message).toMatch(/^decision store unavailable \(will retry\): /);
    }
    down.disconnect();
  });

  it('processReport stores the documents of a report-batch job (one stored already is no failure); an invalid one fails the job for good, its neighbours stored; a store down retries it', async () => {
    const store = createEmbeddedStore(t.redis, t.prefix);
    const deps = { batcher: createReportBatcher({ store, batchSize: 100, lingerMs: 1, logger }), logger };
    const job = (reports: DecisionReportJob[]) => ({ id: 'B1', name: REPORT_BATCH_JOB, data: { reports } });
    await deps.batcher.add(doc(2));
    expect(await processReport(job([doc(1), doc(2), doc(3)]), deps)).toEqual({ status: 'batch', decisions: 3 });
    expect(await store.count()).toBe(3);

    const bad = processReport(job([doc(4), doc(5, { routing_decision: 'route_to_nowhere' as never })]), deps);
    await expect(bad).rejects.toThrow(/^1 of 2 decisions of the batch not stored \(first d-5\): not a valid report \(routing_decision: /);
    await expect(bad).rejects.toBeInstanceOf(UnrecoverableError);
    expect(await store.count()).toBe(4); // d-4 stored beside it

    const down = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    down.on('error', () => undefined); // its refusals are what the test reads
    const downDeps = { batcher: createReportBatcher({ store: createEmbeddedStore(down, t.prefix), batchSize: 100, lingerMs: 1, logger }), logger };
    const retry = processReport(job([doc(6)]), downDeps);
    await expect(retry).rejects.toThrow(/^1 of 1 decisions of the batch not stored \(first d-6\): decision store unavailable \(will retry\)/);
    await expect(retry).rejects.not.toBeInstanceOf(UnrecoverableError);
    down.disconnect();
    const empty = processReport(job([]), deps);
    await expect(empty).rejects.toThrow(/^report-batch job malformed: /);
    await expect(empty).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it('processReport records the outcomes of a write-outcome-batch job on their decisions; an invalid one fails the job for good; a decision not stored yet retries it', async () => {
    const store = createEmbeddedStore(t.redis, t.prefix);
    const deps = { batcher: createReportBatcher({ store, batchSize: 100, lingerMs: 1, logger }), logger };
    const job = (outcomes: unknown[]) => ({ id: 'O1', name: WRITE_OUTCOME_BATCH_JOB, data: { outcomes } });
    await Promise.all([deps.batcher.add(doc(1)), deps.batcher.add(doc(2))]);
    const written = { decisionId: 'd-1', writeStatus: 'written', writtenAt: '2024-03-01T10:00:00.000Z' };
    const skipped = { decisionId: 'd-2', writeStatus: 'skipped', writeReason: 'superseded by a later key press on this conversation (sequence 3)' };
    expect(await processReport(job([written, skipped]), deps)).toEqual({ status: 'outcomes', outcomes: 2 });
    expect(await store.getDecision('d-1')).toMatchObject({ writeStatus: 'written', writtenAt: written.writtenAt });
    expect(await store.getDecision('d-2')).toMatchObject({ writeStatus: 'skipped', writeReason: skipped.writeReason });

    const bad = processReport(job([{ decisionId: 'd-1', writeStatus: 'lost' }]), deps);
    await expect(bad).rejects.toThrow(/^1 of 1 write outcomes of the batch not recorded \(first d-1\): not a valid write outcome \(writeStatus: /);
    await expect(bad).rejects.toBeInstanceOf(UnrecoverableError);

    const early = processReport(job([{ ...written, decisionId: 'd-9' }]), deps);
    await expect(early).rejects.toThrow(/^1 of 1 write outcomes of the batch not recorded \(first d-9\): write outcome for d-9 not recorded \(will retry\)/);
    await expect(early).rejects.not.toBeInstanceOf(UnrecoverableError);
    await expect(processReport({ id: 'O2', name: WRITE_OUTCOME_BATCH_JOB, data: {} }, deps)).rejects.toThrow(/^write-outcome-batch job malformed: /);
  });
});
