/** The ingest step against real Redis and BullMQ (ingestEvent), behind the steps that feed it. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { errorBody, HttpError, jobIdForKey } from '@ivr/core';
import { createIdempotencyStore, ingestEvent } from '@ivr/intake';
import { createQueues, keyspace, type IvrEventJob, type IvrQueues } from '@ivr/queue-contract';
import { createRedis } from '@ivr/redis';
import { freePort, testRedis } from '@ivr/testing';
import { ingest, type IngestStepDeps } from './ingest';
import { parseWebhook } from './parse-webhook';
import { received } from './received';
import type { ReceiverEnv } from './webhook-env';

const RECEIVED_AT = 1_700_000_000_000;
const body = JSON.stringify({ conversationId: 'conv-1', participantId: 'part-1', dtmf: '2' });

describe('ingest (real Redis + BullMQ)', () => {
  let t: ReturnType<typeof testRedis>;
  let queues: IvrQueues;
  let outcomes: string[];
  let logs: Array<{ level: string; msg: string | undefined; fields: object }>;
  let accepted: Array<{ raw: string; job: IvrEventJob }>;
  const log = (level: string) => (fields: object, msg?: string) => void logs.push({ level, msg, fields });

  function app(over: Partial<IngestStepDeps> = {}) {
    const idempotency = createIdempotencyStore(t.redis, keyspace(t.prefix), 60);
    const a = new Hono<ReceiverEnv>();
    a.post(
      '/',
      received(() => RECEIVED_AT),
      parseWebhook((o) => outcomes.push(o)),
      ingest({
        ingest: (job, fp) => ingestEvent({ idempotency, events: queues.events }, job, fp),
        storeTimeoutMs: 2000,
        maxWaitMs: 0,
        onAccepted: (raw, job) => void accepted.push({ raw, job }),
        observe: (o) => outcomes.push(o),
        logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
        ...over,
      }),
      (c) => c.text('next step reached', 299 as never),
    );
    a.onError((err, c) => (err instanceof HttpError ? c.json(errorBody(err.code, err.message), err.status, err.headers) : c.text(err.message, 500)));
    return a;
  }
  const post = (a: Hono<ReceiverEnv>, b: string, headers: Record<string, string> = {}) =>
    a.request('/', { method: 'POST', body: b, headers: { 'content-type': 'application/json', ...headers } });

  beforeEach(() => {
    t = testRedis('ingest-step');
    queues = createQueues(t.redis, t.prefix, { applyAttempts: 5, applyBackoffMs: 1000 });
    outcomes = [];
    logs = [];
    accepted = [];
  });
  afterEach(async () => {
    await queues.close();
    await t.cleanup();
  });

  it('a new event: one job with receivedAt and the kept headers, 202 accepted, counted, logged, recorded', async () => {
    const res = await post(app(), body, { 'idempotency-key': 'k-1', 'user-agent': 'genesys' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted', jobId: jobIdForKey('k-1'), idempotencyKey: 'k-1' });
    const job = await queues.events.getJob(jobIdForKey('k-1'));
    expect(job?.data).toMatchObject({ conversationId: 'conv-1', dtmf: '2', idempotencyKey: 'k-1', receivedAt: RECEIVED_AT, headers: { 'user-agent': 'genesys' } });
    expect(job?.data).not.toHaveProperty('answerBy');
    expect(job?.data).not.toHaveProperty('keySpace');
    expect(outcomes).toEqual(['accepted']);
    expect(logs).toEqual([{ level: 'debug', msg: 'accepted', fields: { idempotencyKey: 'k-1', conversationId: 'conv-1', jobId: jobIdForKey('k-1'), dtmf: '2', keyFrom: 'header' } }]);
    expect(accepted.map((a) => a.raw)).toEqual([body]);
  });

  it('a key derived from the body is stored in the body key space', async () => {
    const res = await post(app(), body);
    const { jobId, idempotencyKey } = (await res.json()) as { jobId: string; idempotencyKey: string };
    expect(idempotencyKey).toMatch(/^sha256-/);
    expect(jobId).toBe(jobIdForKey(idempotencyKey, 'body'));
    expect((await queues.events.getJob(jobId))?.data).toMatchObject({ keySpace: 'body' });
  });

  it('the same key again: 200 duplicate, no second job, not recorded; another body: 422', async () => {
    const a = app();
    await post(a, body, { 'idempotency-key': 'k-2' });
    const dup = await post(a, body, { 'idempotency-key': 'k-2' });
    expect(dup.status).toBe(200);
    expect(await dup.json()).toEqual({ status: 'duplicate', jobId: jobIdForKey('k-2'), idempotencyKey: 'k-2' });
    const conflict = await post(a, body.replace('"2"', '"3"'), { 'idempotency-key': 'k-2' });
    expect(conflict.status).toBe(422);
    expect(await conflict.json()).toEqual(errorBody('idempotency_conflict', 'idempotency key k-2 was already used with a different body'));
    expect(outcomes).toEqual(['accepted', 'duplicate', 'conflict']);
    expect(accepted).toHaveLength(1);
    expect(await queues.events.getJobCounts('waiting')).toEqual({ waiting: 1 });
  });

  it('Prefer: wait with a waiter: the job carries its answer deadline and the next step answers', async () => {
    const res = await post(app({ maxWaitMs: 10_000 }), body, { 'idempotency-key': 'k-3', prefer: 'wait=4' });
    expect(res.status).toBe(299);
    expect((await queues.events.getJob(jobIdForKey('k-3')))?.data).toMatchObject({ answerBy: RECEIVED_AT + 4000 });
    // without a waiter (maxWaitMs 0) the preference is ignored
    const plain = await post(app(), body.replace('conv-1', 'conv-2'), { 'idempotency-key': 'k-4', prefer: 'wait=4' });
    expect(plain.status).toBe(202);
    expect((await queues.events.getJob(jobIdForKey('k-4')))?.data).not.toHaveProperty('answerBy');
  });

  it('Redis down (nothing listening): 503 store_unavailable with Retry-After, logged with the ids', async () => {
    const down = createRedis(`redis://127.0.0.1:${await freePort()}`, 'producer', { retryStrategy: () => null, lazyConnect: true });
    down.on('error', () => undefined);
    const idempotency = createIdempotencyStore(down, keyspace(t.prefix), 60);
    const downQueues = createQueues(down, t.prefix, { applyAttempts: 5, applyBackoffMs: 1000 }, { skipWaitingForReady: true });
    for (const q of downQueues.all) q.on('error', () => undefined); // BullMQ prints connection errors without a listener
    try {
      const res = await post(app({ ingest: (job, fp) => ingestEvent({ idempotency, events: downQueues.events }, job, fp) }), body, { 'idempotency-key': 'k-5' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toEqual(errorBody('store_unavailable', 'the event could not be stored (Redis unavailable); retry later'));
      expect(logs).toMatchObject([{ level: 'error', msg: 'event not stored: Redis unavailable', fields: { idempotencyKey: 'k-5', conversationId: 'conv-1', jobId: jobIdForKey('k-5') } }]);
    } finally {
      await downQueues.close().catch(() => undefined);
      down.disconnect();
    }
  });

  it('no answer within storeTimeoutMs: 503 store_outcome_unknown (a retry with the same key is safe)', async () => {
    const res = await post(app({ ingest: () => new Promise(() => undefined), storeTimeoutMs: 50 }), body, { 'idempotency-key': 'k-6' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('store_outcome_unknown');
    expect(logs).toMatchObject([{ level: 'error', msg: 'event outcome unknown: Redis did not answer; a retry with the same key is safe', fields: { idempotencyKey: 'k-6', err: 'storing the event timed out after 50 ms' } }]);
  });
});
