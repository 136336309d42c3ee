import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger, testRedis } from '@ivr/testing';
import { createIdempotencyStore, ingestEvent } from '@ivr/intake';
import { createQueues, keyspace, type IvrQueues } from '@ivr/queue-contract';
import { jobIdForKey } from '@ivr/core';
import { createApp, type ReceiverDeps } from './app';

const tutorial = { flowInstanceId: 'flow-123', participants: [{ id: 'cust-1', input: { dtmf: '1' } }] };
const dataAction = { conversationId: 'conv-1', participantId: 'part-1', dtmf: '2' };
const post = (app: ReturnType<typeof createApp>, body: unknown, headers: Record<string, string> = {}) =>
  app.request('/webhook/genesys-dtmf', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('POST /webhook/genesys-dtmf (real Redis + BullMQ)', () => {
  let t: ReturnType<typeof testRedis>;
  let queues: IvrQueues;
  let app: ReturnType<typeof createApp>;
  const make = (over: Partial<ReceiverDeps> = {}) => {
    const idempotency = createIdempotencyStore(t.redis, keyspace(t.prefix), 60);
    return createApp({
      ingest: (job, fp) => ingestEvent({ idempotency, events: queues.events }, job, fp),
      ready: async () => (await t.redis.ping()) === 'PONG',
      logger: silentLogger,
      ...over,
    });
  };
  beforeEach(() => {
    t = testRedis('recv');
    queues = createQueues(t.redis, t.prefix, { applyAttempts: 5, applyBackoffMs: 1000 });
    app = make();
  });
  afterEach(async () => {
    await queues.close();
    await t.cleanup();
  });

  it('accepts the tutorial payload: 202 with jobId and key, one job with the normalised event', async () => {
    const res = await post(app, tutorial);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { status: string; jobId: string; idempotencyKey: string };
    expect(body.status).toBe('accepted');
    const job = await queues.events.getJob(body.jobId);
    expect(job?.data).toMatchObject({ conversationId: 'flow-123', participantId: 'cust-1', dtmf: '1', source: 'tutorial', idempotencyKey: body.idempotencyKey });
  });

  it('accepts the data-action payload with an Idempotency-Key header', async () => {
    const res = await post(app, dataAction, { 'idempotency-key': 'abc-1' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted', jobId: jobIdForKey('abc-1'), idempotencyKey: 'abc-1' });
  });

  it('same key and body: 200 duplicate and never a second job; same key, other body: 422', async () => {
    await post(app, dataAction, { 'idempotency-key': 'k' });
    const dup = await post(app, dataAction, { 'idempotency-key': 'k' });
    expect(dup.status).toBe(200);
    expect(await dup.json()).toMatchObject({ status: 'duplicate', jobId: jobIdForKey('k') });
    const conflict = await post(app, { ...dataAction, dtmf: '3' }, { 'idempotency-key': 'k' });
    expect(conflict.status).toBe(422);
    expect(((await conflict.json()) as { error: { code: string } }).error.code).toBe('idempotency_conflict');
    expect(await queues.events.count()).toBe(1);
  });

  it('two concurrent identical requests: one 202, one 200, one job', async () => {
    const [a, b] = await Promise.all([post(app, tutorial), post(app, tutorial)]);
    expect([a.status, b.status].sort()).toEqual([200, 202]);
    expect(await queues.events.count()).toBe(1);
  });

  it('no DTMF: 200 skipped, nothing stored', async () => {
    const res = await post(app, { flowInstanceId: 'f', participants: [{ input: {} }] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'skipped', reason: 'no_dtmf' });
    expect(await queues.events.count()).toBe(0);
  });

  it.each([
    ['{not json', 400, 'invalid_json'],
    [{ participants: [] }, 400, 'invalid_payload'],
    [{ conversationId: 5, dtmf: '1' }, 400, 'invalid_payload'],
    [{ flowInstanceId: 'f', participants: 'nope' }, 400, 'invalid_payload'],
    ['['.repeat(40) + ']'.repeat(40), 400, 'too_deep'],
  ])('bad input %j -> %i %s, nothing stored', async (body, status, code) => {
    const res = await post(app, body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { code: string; message: string } }).error.code).toBe(code);
    expect(await queues.events.count()).toBe(0);
  });

  it('wrong content type: 415; body over the limit: 413', async () => {
    const r1 = await app.request('/webhook/genesys-dtmf', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(r1.status).toBe(415);
    const big = JSON.stringify({ ...dataAction, pad: 'x'.repeat(70 * 1024) });
    const r2 = await post(app, big);
    expect(r2.status).toBe(413);
    expect(await queues.events.count()).toBe(0);
  });

  it('Redis unavailable: 503 with Retry-After, never a 2xx', async () => {
    const down = make({ ingest: () => Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false")) });
    const res = await post(down, dataAction);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('/healthz and /readyz', async () => {
    expect((await app.request('/healthz')).status).toBe(200);
    expect((await app.request('/readyz')).status).toBe(200);
    const notReady = make({ ready: () => Promise.reject(new Error('down')) });
    expect((await notReady.request('/readyz')).status).toBe(503);
  });

  it('Prefer: wait returns the decision when it arrives in time, else 202', async () => {
    const decided = make({ waitForDecision: async () => ({ status: 'decided', routing: 'route_to_vm', availableAgents: 1 }) });
    const r = await post(decided, dataAction, { prefer: 'wait=2' });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'decided', routing: 'route_to_vm', availableAgents: 1 });
    const slow = make({ waitForDecision: async () => undefined });
    expect((await post(slow, { ...dataAction, dtmf: '9' }, { prefer: 'wait=1' })).status).toBe(202);
  });
});
