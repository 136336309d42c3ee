import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testRedis } from '@ivr/testing';
import { createIdempotencyStore } from './idempotency-store';
import { createQueues, type IvrQueues } from './queues';
import { keyspace } from './names';
import { ingestEvent } from './ingest';
import type { IvrEventJob } from './jobs';

const job = (key: string, dtmf = '1'): IvrEventJob => ({
  idempotencyKey: key,
  receivedAt: Date.now(),
  conversationId: 'c-1',
  participantId: 'p-1',
  flowInstanceId: 'c-1',
  dtmf,
  source: 'data-action',
});

describe('ingestEvent (real Redis, real BullMQ)', () => {
  let t: ReturnType<typeof testRedis>;
  let queues: IvrQueues;
  beforeEach(() => {
    t = testRedis('ingest');
    queues = createQueues(t.redis, t.prefix, { applyAttempts: 5, applyBackoffMs: 1000 });
  });
  afterEach(async () => {
    await queues.close();
    await t.cleanup();
  });

  it('two concurrent identical events: exactly one job, one accepted and one duplicate', async () => {
    const deps = { idempotency: createIdempotencyStore(t.redis, keyspace(t.prefix), 60), events: queues.events };
    const outcomes = await Promise.all([ingestEvent(deps, job('k1'), 'fp'), ingestEvent(deps, job('k1'), 'fp')]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['accepted', 'duplicate']);
    expect(await queues.events.getJobCounts('wait', 'active', 'delayed')).toEqual({ wait: 1, active: 0, delayed: 0 });
  });

  it('100 concurrent deliveries of 10 keys: exactly 10 jobs and 10 accepted', async () => {
    const deps = { idempotency: createIdempotencyStore(t.redis, keyspace(t.prefix), 60), events: queues.events };
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => ingestEvent(deps, job(`k${i % 10}`), 'fp')));
    expect(all.filter((o) => o.kind === 'accepted')).toHaveLength(10);
    expect(await queues.events.count()).toBe(10);
  });

  it('same key with another body is a conflict and adds nothing', async () => {
    const deps = { idempotency: createIdempotencyStore(t.redis, keyspace(t.prefix), 60), events: queues.events };
    await ingestEvent(deps, job('k'), 'fp-a');
    expect((await ingestEvent(deps, job('k', '2'), 'fp-b')).kind).toBe('conflict');
    expect(await queues.events.count()).toBe(1);
  });

  it('keys expire after IDEMPOTENCY_TTL_S', async () => {
    const ks = keyspace(t.prefix);
    await ingestEvent({ idempotency: createIdempotencyStore(t.redis, ks, 123), events: queues.events }, job('k'), 'fp');
    const ttl = await t.redis.ttl(ks.idem('k'));
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(123);
  });

  it('a claim left unconfirmed by a crash is repaired by the next delivery (job added once, then confirmed)', async () => {
    const ks = keyspace(t.prefix);
    const idem = createIdempotencyStore(t.redis, ks, 60);
    await idem.claim('k', 'fp'); // crashed before queue.add
    expect(await queues.events.count()).toBe(0);
    const r = await ingestEvent({ idempotency: idem, events: queues.events }, job('k'), 'fp');
    expect(r.kind).toBe('duplicate');
    expect(await queues.events.count()).toBe(1);
    expect(await t.redis.get(ks.idem('k'))).toBe('q|fp');
  });
});
