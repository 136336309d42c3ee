/**
 * The preferWait step with the real decision waiter (Redis pub/sub): a decision published before the deadline is the
 * answer; none in time falls back to ingest's 202. (Delivery marks over a real socket: prefer.int.test.ts.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { jobIdForKey, scopedKey } from '@ivr/core';
import { createDecisionWaiter, type DecisionWaiter } from '@ivr/intake';
import { createRedis } from '@ivr/redis';
import { keyspace } from '@ivr/queue-contract';
import { silentLogger, TEST_REDIS_URL, testRedis, waitFor } from '@ivr/testing';
import type { Redis } from 'ioredis';
import { ingest } from './ingest';
import { parseWebhook } from './parse-webhook';
import { preferWait, type DecidedAnswer, type PreferWaitDeps } from './prefer-wait';
import { received } from './received';
import type { ReceiverEnv } from './webhook-env';

const body = JSON.stringify({ conversationId: 'conv-1', participantId: 'part-1', dtmf: '2' });
const decision: DecidedAnswer = { status: 'decided', routing: 'route_to_vm', availableAgents: 2, queueId: 'q-1' };

describe('preferWait (real Redis decision waiter)', () => {
  let t: ReturnType<typeof testRedis>;
  let subscriber: Redis;
  let waiter: DecisionWaiter<DecidedAnswer>;
  let subscribed: string[];

  beforeEach(() => {
    t = testRedis('prefer-step');
    subscriber = createRedis(TEST_REDIS_URL, 'worker');
    subscribed = [];
    const inner = createDecisionWaiter<DecidedAnswer>({ subscriber, ks: keyspace(t.prefix), lookup: async () => undefined });
    waiter = { wait: (key, ms) => (subscribed.push(key), inner.wait(key, ms)), close: () => inner.close() };
  });
  afterEach(async () => {
    await waiter.close();
    subscriber.disconnect();
    await t.cleanup();
  });

  function app(marked: string[], o: { hrNow?: () => number; decideInCall?: PreferWaitDeps['decideInCall'] } = {}) {
    const a = new Hono<ReceiverEnv>();
    a.post(
      '/',
      received(Date.now, o.hrNow),
      parseWebhook(() => undefined),
      ingest({ ingest: async (job) => ({ kind: 'accepted', jobId: jobIdForKey(job.idempotencyKey) }), storeTimeoutMs: 2000, maxWaitMs: 10_000, observe: () => undefined, logger: silentLogger, ...(o.hrNow ? { hrNow: o.hrNow } : {}) }),
      preferWait({ waitForDecision: (k, ms) => waiter.wait(k, ms), markAnswered: async (id) => void marked.push(id), logger: silentLogger, now: Date.now, decideInCall: o.decideInCall, ...(o.hrNow ? { hrNow: o.hrNow } : {}) }),
    );
    return a;
  }
  /** A monotonic clock that reads these values in turn (the stages' start and end, in the order the steps read them). */
  const readings = (...ms: number[]) => () => {
    const v = ms.shift();
    if (v === undefined) throw new Error('the clock was read more often than the test expects');
    return v;
  };
  const post = (a: Hono<ReceiverEnv>, prefer: string, key: string) =>
    a.request('/', { method: 'POST', body, headers: { 'content-type': 'application/json', prefer, 'idempotency-key': key } });

  it('a decision published while waiting is the answer: 200 decided with Preference-Applied', async () => {
    const pending = post(app([]), 'wait=5', 'k-1');
    await waitFor(() => subscribed.includes(scopedKey('k-1')), 'the step to wait for k-1');
    // the decide worker's message (published until one waiter hears it: the pattern subscription may still be settling)
    await waitFor(async () => (await t.redis.publish(keyspace(t.prefix).decisionChannel(scopedKey('k-1')), JSON.stringify(decision))) > 0, 'a subscriber to hear the decision');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('preference-applied')).toBe('wait=5');
    expect(await res.json()).toEqual({ ...decision, jobId: jobIdForKey('k-1'), idempotencyKey: 'k-1' });
  });

  it('no decision within the wait: the usual 202 accepted; nothing marked (app.request delivers no Node response)', async () => {
    const marked: string[] = [];
    const res = await post(app(marked), 'wait=0.2', 'k-2');
    expect(res.status).toBe(202);
    expect(res.headers.get('preference-applied')).toBeNull();
    expect(await res.json()).toEqual({ status: 'accepted', jobId: jobIdForKey('k-2'), idempotencyKey: 'k-2' });
    expect(subscribed).toEqual([scopedKey('k-2')]);
    expect(marked).toEqual([]);
  });

  it('a decision made in the receiver: Server-Timing tells read, store, decide and total from the monotonic clock', async () => {
    // received 10, store 10.25 → 10.75, decide 11 → 13, answer built 13.5
    const res = await post(app([], { hrNow: readings(10, 10.25, 10.75, 11, 13, 13.5), decideInCall: async () => decision }), 'wait=5', 'k-3');
    expect(res.status).toBe(200);
    expect(res.headers.get('server-timing')).toBe('read;dur=0.250, store;dur=0.500, decide;dur=2.000, total;dur=3.500');
    expect(subscribed).toEqual([]); // decided here: no wait for a worker
  });

  it("a worker's decision: the time waiting for it is the wait stage, and there is no decide stage without an in-call decider", async () => {
    // received 0, store 1 → 2, decide from 3 (nothing to decide here) to 3, the wait for the worker until 8, answer built 9
    const pending = post(app([], { hrNow: readings(0, 1, 2, 3, 3, 8, 9) }), 'wait=5', 'k-4');
    await waitFor(() => subscribed.includes(scopedKey('k-4')), 'the step to wait for k-4');
    await waitFor(async () => (await t.redis.publish(keyspace(t.prefix).decisionChannel(scopedKey('k-4')), JSON.stringify(decision))) > 0, 'a subscriber to hear the decision');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('server-timing')).toBe('read;dur=1.000, store;dur=1.000, wait;dur=5.000, total;dur=9.000');
  });

  it('no Prefer: wait: no Server-Timing on the 202 (the plain ingest path stays as cheap as it was)', async () => {
    const res = await app([]).request('/', { method: 'POST', body, headers: { 'content-type': 'application/json', 'idempotency-key': 'k-5' } });
    expect(res.status).toBe(202);
    expect(res.headers.get('server-timing')).toBeNull();
  });
});
