/**
 * apply's decisions about writes nobody needs (real Redis, real BullMQ): expired writes, WRITE_BACK modes, the
 * "answered" mark, and a write the shared budget refused going back to the queue delayed (no attempt, no pause).
 */
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deletePrefix, silentLogger, TEST_REDIS_URL, uniquePrefix, waitFor } from '@ivr/testing';
import { keyspace, type Keyspace } from '@ivr/queue-contract';
import { createConversationStore } from '../conversation-store';
import { budgetRetryAt, EXPIRED_REASON, markAnswered, writeDelayMs, type WriteOutcome } from '@ivr/queue-contract';
import { defineApplyScripts, processApply, writeOutcomeOf, type ApplyDeps, type ErrorClass } from './apply';

let redis: Redis;
let prefix: string;
let ks: Keyspace;
let patched: string[];
let outcomes: WriteOutcome[];

const write = (n: number) => ({ decisionId: `d-${n}`, idempotencyKey: `key-${n}`, conversationId: `conv-${n}`, participantId: 'p-1', sequence: 1, attributes: { finalRoutingDecision: 'route_to_queue' } });

function deps(over: Partial<ApplyDeps> = {}): ApplyDeps {
  return {
    patchAttributes: async (cid) => {
      patched.push(cid);
      return { status: 202 };
    },
    classify: (e) => e as ErrorClass,
    redis,
    ks,
    rateLimit: async () => undefined,
    logger: silentLogger,
    maxAgeMs: 30_000,
    recordOutcome: async (o) => void outcomes.push(o),
    resolveParticipant: async () => { throw new Error("every write in this file names its participant"); },
    ...over,
  };
}

async function decided(n: number): Promise<void> {
  const conversations = createConversationStore(redis, ks, 60);
  await conversations.startDecision(`conv-${n}`, `key-${n}`, 1000);
  await conversations.commitDecision(`conv-${n}`, `key-${n}`, 1, { routing: 'route_to_queue' });
}

beforeEach(async () => {
  prefix = uniquePrefix('apply-wb');
  ks = keyspace(prefix);
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 3 });
  defineApplyScripts(redis);
  patched = [];
  outcomes = [];
});
afterEach(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe('writes that are not sent', () => {
  it('older than WRITE_MAX_AGE_S: completed as expired with the reason, not written, outcome reported once', async () => {
    await decided(1);
    const now = 1_000_000;
    const r = await processApply({ id: 'apply-d-1', attemptsMade: 0, timestamp: now - 30_001, data: write(1) }, deps({ now: () => now }));
    expect(r).toEqual({ status: 'expired', sequence: 1, writeStatus: 'expired', writeReason: EXPIRED_REASON, ageMs: 30_001 });
    expect(patched).toEqual([]);
    expect(outcomes).toEqual([{ decisionId: 'd-1', writeStatus: 'expired', writeReason: 'expired: the call has moved on' }]);
    expect(await redis.hget(ks.conversation('conv-1'), 'state')).toBe('ROUTING'); // never written: not COMPLETE
  });

  it('exactly WRITE_MAX_AGE_S old is still written', async () => {
    await decided(2);
    const now = 1_000_000;
    const r = await processApply({ id: 'apply-d-2', attemptsMade: 0, timestamp: now - 30_000, data: write(2) }, deps({ now: () => now }));
    expect(r).toMatchObject({ status: 'applied', writeStatus: 'written', lagMs: 30_000 });
    expect(patched).toEqual(['conv-2']);
    expect(await redis.hget(ks.conversation('conv-2'), 'state')).toBe('COMPLETE');
  });

  it('WRITE_BACK=unanswered: a decision marked answered is skipped (and the call is COMPLETE); an unmarked one is written', async () => {
    await decided(3);
    await decided(4);
    await markAnswered(redis, ks, 'd-3', 60);
    const a = await processApply({ id: 'apply-d-3', attemptsMade: 0, timestamp: Date.now(), data: write(3) }, deps());
    const b = await processApply({ id: 'apply-d-4', attemptsMade: 0, timestamp: Date.now(), data: write(4) }, deps());
    expect(a).toMatchObject({ status: 'skipped', skipReason: 'answered_synchronously', writeStatus: 'skipped' });
    expect(b).toMatchObject({ status: 'applied', writeStatus: 'written' });
    expect(patched).toEqual(['conv-4']);
    expect(outcomes).toEqual([
      { decisionId: 'd-3', writeStatus: 'skipped', writeReason: expect.stringContaining('synchronous answer') },
      { decisionId: 'd-4', writeStatus: 'written', writtenAt: expect.any(String) },
    ]);
    expect(await redis.hget(ks.conversation('conv-3'), 'state')).toBe('COMPLETE');
  });

  it('WRITE_BACK=always writes a marked decision; never writes nothing', async () => {
    await decided(5);
    await decided(6);
    await markAnswered(redis, ks, 'd-5', 60);
    await markAnswered(redis, ks, 'd-6', 60);
    expect(await processApply({ id: 'a5', attemptsMade: 0, timestamp: Date.now(), data: write(5) }, deps({ writeBack: 'always' }))).toMatchObject({ status: 'applied' });
    expect(await processApply({ id: 'a6', attemptsMade: 0, timestamp: Date.now(), data: write(6) }, deps({ writeBack: 'never' }))).toMatchObject({ status: 'skipped', skipReason: 'write_back_never' });
    expect(patched).toEqual(['conv-5']);
  });

  it('writeOutcomeOf: written with its time; superseded has no outcome of its own', () => {
    expect(writeOutcomeOf('d-9', { status: 'applied', httpStatus: 202, sequence: 1, writeStatus: 'written', lagMs: 5, participantId: 'p-9' }, Date.UTC(2026, 0, 1))).toEqual({ decisionId: 'd-9', writeStatus: 'written', writtenAt: '2026-01-01T00:00:00.000Z' });
    expect(writeOutcomeOf('d-9', { status: 'superseded', sequence: 1, currentSequence: 2 }, 0)).toBeUndefined();
  });
});

describe('timing helpers', () => {
  it('writeDelayMs: only an unanswered-mode write whose request was waiting is delayed, to its deadline + grace', () => {
    expect(writeDelayMs(10_000, 8_000, 'unanswered', 1000)).toBe(3000);
    expect(writeDelayMs(10_000, 12_000, 'unanswered', 1000)).toBe(0);
    expect(writeDelayMs(undefined, 8_000, 'unanswered', 1000)).toBe(0);
    expect(writeDelayMs(10_000, 8_000, 'always', 1000)).toBe(0);
  });

  it('budgetRetryAt: the older decision comes back first, both after the slot', () => {
    const now = 100_000;
    const older = budgetRetryAt(now - 25_000, now, 500, 30_000);
    const younger = budgetRetryAt(now - 1_000, now, 500, 30_000);
    expect(older).toBeGreaterThanOrEqual(now + 500);
    expect(younger).toBeGreaterThan(older);
  });
});

describe('a write the budget refused (real BullMQ)', () => {
  it('goes back to the queue delayed, without using an attempt or pausing the queue, and is written once', async () => {
    await decided(7);
    const queue = new Queue('genesys-writes', { connection: redis, prefix });
    let refusals = 1;
    const d = deps({
      patchAttributes: async (cid) => {
        if (refusals-- > 0) throw { kind: 'budget_exhausted', retryAfterMs: 300, message: 'not sent: budget used up' } satisfies ErrorClass;
        patched.push(cid);
        return { status: 202 };
      },
      rateLimit: async () => {
        throw new Error('must not pause the queue for the budget');
      },
    });
    const results: unknown[] = [];
    const workerConn = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const worker = new Worker('genesys-writes', (job: Job, token?: string) => processApply(job, d, token), { connection: workerConn, prefix, autorun: true });
    worker.on('completed', (_job, r) => results.push(r));
    try {
      const job = await queue.add('apply', write(7), { jobId: 'apply-d-7', attempts: 3 });
      await waitFor(() => results.length === 1, 'the write to complete', 10_000);
      const done = await queue.getJob(job.id!);
      expect(results[0]).toMatchObject({ status: 'applied', writeStatus: 'written' });
      expect(patched).toEqual(['conv-7']);
      expect(done?.attemptsMade).toBe(0 + 1); // the one successful attempt; the refusal used none
      expect(await queue.getRateLimitTtl()).toBeLessThanOrEqual(0);
    } finally {
      await worker.close();
      await queue.close();
      workerConn.disconnect();
    }
  });

  it('a refusal whose next slot is after the write stops being useful ends it as expired at once', async () => {
    await decided(8);
    const now = 1_000_000;
    const d = deps({
      now: () => now,
      patchAttributes: async () => {
        throw { kind: 'budget_exhausted', retryAfterMs: 5000, message: 'not sent' } satisfies ErrorClass;
      },
    });
    const r = await processApply({ id: 'apply-d-8', attemptsMade: 0, timestamp: now - 28_000, data: write(8) }, d);
    expect(r).toMatchObject({ status: 'expired', writeReason: EXPIRED_REASON });
  });
});
