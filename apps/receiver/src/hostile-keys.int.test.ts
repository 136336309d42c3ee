import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Worker } from 'bullmq';
import { silentLogger, TEST_REDIS_URL, testRedis, waitFor } from '@ivr/testing';
import { resolveIdempotencyKey } from '@ivr/core';
import { createIdempotencyStore, ingestEvent } from '@ivr/intake';
import { createQueues, keyspace, queueReadiness, QUEUE_STRUCTURE_TYPES, type IvrQueues } from '@ivr/queue-contract';
import { createRedis } from '@ivr/redis';
import { createApp } from './app';

/**
 * Issue 13 item 1: an idempotency key equal to one of BullMQ's structure names (sent in the header or the body)
 * used to become the job id verbatim: `meta`, `id`, `events` answered 202 without a job (every retry a
 * "duplicate", the call never decided) or wrote a job hash over a structure (`wait`, `marker`), after which every
 * webhook answered 503 and workers logged WRONGTYPE, while /readyz stayed 200.
 */
const STRUCTURES = [...Object.keys(QUEUE_STRUCTURE_TYPES), 'de', '', 'x:lock', 'x:logs', '{ivr}', 'meta:lock'].filter((k) => k.length > 0);

const post = (app: ReturnType<typeof createApp>, body: unknown, headers: Record<string, string> = {}) =>
  app.request('/webhook/genesys-dtmf', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('hostile idempotency keys (real Redis + BullMQ)', () => {
  let t: ReturnType<typeof testRedis>;
  let queues: IvrQueues;
  let app: ReturnType<typeof createApp>;
  let worker: Worker | undefined;
  beforeEach(() => {
    t = testRedis('hostile');
    queues = createQueues(t.redis, t.prefix, { applyAttempts: 5, applyBackoffMs: 1000 });
    const idempotency = createIdempotencyStore(t.redis, keyspace(t.prefix), 60);
    app = createApp({
      ingest: (job, fp) => ingestEvent({ idempotency, events: queues.events }, job, fp),
      ready: () => queueReadiness(t.redis, [queues.events]),
      logger: silentLogger,
    });
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await queues.close();
    await t.cleanup();
  });

  it.each([
    ['header', (k: string, i: number) => [{ conversationId: `c-h-${i}`, participantId: 'p', dtmf: '1' }, { 'idempotency-key': k }] as const],
    ['body', (k: string, i: number) => [{ conversationId: `c-b-${i}`, participantId: 'p', dtmf: '1', idempotencyKey: k }, {}] as const],
  ])('keys named like BullMQ structures (%s) each make a job that a worker processes; the queue keeps working', async (_where, make) => {
    const answers = [];
    for (const [i, k] of STRUCTURES.entries()) {
      const [body, headers] = make(k, i);
      const res = await post(app, body, headers);
      answers.push({ key: k, status: res.status, body: (await res.json()) as { jobId?: string; idempotencyKey?: string } });
    }
    expect(answers.filter((a) => a.status !== 202)).toEqual([]);
    for (const a of answers) expect(a.body.idempotencyKey).toBe(a.key); // the answer keeps the sender's key
    // A re-delivery is a duplicate of the same job, another body a conflict: dedupe still works.
    const [body0, headers0] = make(STRUCTURES[0]!, 0);
    expect((await post(app, body0, headers0)).status).toBe(200);
    expect((await post(app, { ...body0, dtmf: '9' }, headers0)).status).toBe(422);
    // Every structure still has the type BullMQ needs, and readiness says so.
    expect(await queueReadiness(t.redis, [queues.events])).toEqual({ ok: true });
    expect((await app.request('/readyz')).status).toBe(200);
    const seen = new Set<string>();
    worker = new Worker(queues.events.name, async (job) => void seen.add((job.data as { idempotencyKey: string }).idempotencyKey), { connection: createRedis(TEST_REDIS_URL, 'worker'), prefix: t.prefix });
    await waitFor(() => seen.size === STRUCTURES.length, `all ${STRUCTURES.length} hostile-key jobs processed`, 15000);
    const after = await post(app, { conversationId: 'c-after', participantId: 'p', dtmf: '2' }, { 'idempotency-key': 'ordinary-key' });
    expect(after.status).toBe(202);
  });

  it('a client key equal to the key the receiver derives for a keyless body does not pre-empt that body', async () => {
    const victim = { conversationId: 'c-victim', participantId: 'p', dtmf: '3' };
    const derived = resolveIdempotencyKey({}, victim);
    expect(derived.ok && derived.from).toBe('hash');
    const attacker = await post(app, { conversationId: 'c-attacker', participantId: 'p', dtmf: '4' }, { 'idempotency-key': derived.ok ? derived.key : '' });
    expect(attacker.status).toBe(202);
    const res = await post(app, victim);
    expect(res.status).toBe(202); // was 422: the attacker had claimed the victim's key
    const body = (await res.json()) as { jobId: string; idempotencyKey: string };
    expect(body.idempotencyKey).toBe(derived.ok ? derived.key : '');
    expect(body.jobId).not.toBe(((await attacker.json()) as { jobId: string }).jobId);
    expect((await queues.events.getJob(body.jobId))?.data).toMatchObject({ conversationId: 'c-victim', keySpace: 'body' });
    expect((await post(app, victim)).status).toBe(200); // the keyless re-delivery is still a duplicate
  });

  it('/readyz answers 503 with the reason when a queue structure has the wrong type', async () => {
    expect((await app.request('/readyz')).status).toBe(200);
    await t.redis.set(queues.events.toKey('wait'), 'not a list');
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reason: string }).reason).toMatch(new RegExp(`${queues.events.toKey('wait')} is a string, BullMQ needs a list`));
  });
});
