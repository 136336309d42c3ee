/**
 * The status page's line on calls held for an in-call decision (they have no job, so the backlog table does not count
 * them): none, some in flight, and one past its deadline that nobody sweeps (the IvrHeldEventsNotSwept condition).
 * Real Redis, the held set as the receiver's ingest leaves it, the dashboard app with an injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQueues, heldState, keyspace, type IvrQueues } from '@ivr/queue-contract';
import { createEmbeddedStore } from '@ivr/reporting';
import { testRedis } from '@ivr/testing';
import { createDashboardApp } from './app';

describe('status page: calls held for an in-call decision', () => {
  const r = testRedis('dash-held');
  let queues: IvrQueues;
  const clock = { t: 1_800_000_000_000 };
  beforeAll(() => {
    queues = createQueues(r.redis, r.prefix, { applyAttempts: 2, applyBackoffMs: 100 });
  });
  afterAll(async () => {
    await queues.close();
    await r.cleanup();
  });

  const heldLine = async () => {
    const app = createDashboardApp({ queues: queues.all, store: createEmbeddedStore(r.redis, r.prefix), reportsDir: '/nonexistent', held: () => heldState(r.redis, keyspace(r.prefix)), now: () => clock.t });
    const html = await (await app.request('/admin', { headers: { accept: 'text/html' } })).text();
    return /<p class="([a-z]+)" id="status-held">(.*?)<\/p>/.exec(html)?.slice(1);
  };

  it('none, then two in flight (muted), then the earliest 12 s past its deadline (bad, says why)', async () => {
    expect(await heldLine()).toEqual(['muted', 'No call held for an in-call decision.']);
    const ks = keyspace(r.prefix);
    await r.redis.multi().zadd(ks.held, clock.t + 2000, 'E1', clock.t + 9000, 'E2').hset(ks.heldEvents, 'E1', '{}', 'E2', '{}').exec();
    expect(await heldLine()).toEqual(['muted', '2 calls held for an in-call decision now (being decided by their receiver; no job yet).']);
    clock.t += 14_000;
    const [cls, text] = (await heldLine())!;
    expect(cls).toBe('bad');
    expect(text).toMatch(/^2 calls held for an in-call decision, the earliest 12(\.0)? ?s past its deadline: .*no decide worker is sweeping/);
  });
});
