/**
 * The in-call path (INCALL_DECIDE, default on): the receiver decides a `Prefer: wait` request itself when the shared
 * caches hold the queue's figures, with the event held (no job) as the fallback. Real receiver, real workers,
 * real BullMQ and Redis, the simulator as Genesys.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { decisionIdFor, jobIdFor, jobIdForKey, scopedKey, singleQueuePolicy } from '@ivr/core';
import { createConversation } from '@ivr/genesys-sim/testing';
import { inCallStartCall, inCallStartScript, storePushedObservations } from '@ivr/pipeline';
import { createIdempotencyStore, ingestEvent } from '@ivr/intake';
import { keyspace, type IvrEventJob } from '@ivr/queue-contract';
import { waitFor } from '@ivr/testing';
import { startPipeline, type Pipeline } from './pipeline-harness';

const QUEUE = 'q-incall';
let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

/** The queue's figures in the shared cache, as the push path stores them (storePushedObservations). */
const cacheFigures = (pl: Pipeline, idle: number) =>
  storePushedObservations(pl.redis, keyspace(pl.prefix), [{ observation: { queueId: QUEUE, idle, interacting: 0, waiting: 0, mediaType: 'voice', observedAt: Date.now() }, ttlMs: 60_000 }]);

const metric = async (pl: Pipeline, name: string) => {
  const text = await pl.receiver.metrics.render();
  return text.split('\n').filter((l) => l.startsWith(name)).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
};

describe('the in-call decision (receiver decides on cached figures)', () => {
  it('no decide worker running: decided by the receiver, the held event released (never a job), the write settled as skipped (no write job) and the report stored', async () => {
    p = await startPipeline({ TARGET_QUEUE_ID: QUEUE, OCCUPANCY_THRESHOLD: '2', WORKER_ROLES: 'apply,report', WRITE_ANSWER_GRACE_MS: '0' });
    const pl = p;
    await cacheFigures(pl, 5);
    await createConversation(pl.sim.url, 'c-in-1', { customerId: 'cust-1' });
    // Every command Redis runs, as MONITOR reports it: a client's own, or one run inside a script (source "lua").
    const seen: Array<{ args: string[]; lua: boolean }> = [];
    const monitor = await pl.redis.duplicate().monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ args, lua: source === 'lua' }));
    const res = await pl.post({ conversationId: 'c-in-1', participantId: 'cust-1', dtmf: '1' }, { prefer: 'wait=3', 'idempotency-key': 'in-1' });
    expect(res.status).toBe(200);
    const decisionId = decisionIdFor(scopedKey('in-1'));
    // The decision was started inside the event's own ingest script: the queue's figure was read there, never by a
    // command of its own, and the decision's stored after it (by the commit script).
    const ks = keyspace(pl.prefix);
    const is = (c: { args: string[] }, name: string, key: string) => c.args[0]?.toLowerCase() === name && c.args[1] === key;
    const storedAt = () => seen.findIndex((c) => is(c, 'set', ks.decision(scopedKey('in-1'))));
    await waitFor(async () => storedAt() >= 0, 'the decision stored (MONITOR)');
    monitor.disconnect();
    // Up to the decision's SET (what comes after, the settle step, reads the conversation too, in its own time).
    const before = seen.slice(0, storedAt());
    const commands = (name: string, key: string) => before.filter((c) => is(c, name, key));
    expect(commands('get', ks.occupancy(QUEUE)).map((c) => c.lua)).toEqual([true]);
    expect(commands('hmget', ks.conversation('c-in-1')).length).toBe(2); // START (in the ingest) and COMMIT, once each
    expect(res.body).toMatchObject({ status: 'decided', routing: 'route_to_queue', availableAgents: 5, queueId: QUEUE, occupancySource: 'notification', decisionId, jobId: jobIdForKey('in-1') });
    expect(await metric(pl, 'ivr_decisions_total{route="route_to_queue",occupancy_source="notification"}')).toBe(1);
    // The held event was only the fallback: released once the report was enqueued and the write settled, no job.
    await waitFor(async () => (await pl.redis.zcard(ks.held)) === 0 && (await pl.redis.hlen(ks.heldEvents)) === 0, 'the held event released');
    expect(await pl.receiver.queues.events.getJob(jobIdForKey('in-1'))).toBeUndefined();
    // The answer was delivered: the receiver settled the write as skipped (no write job), the store records it.
    expect(await pl.receiver.queues.writes.getJob(jobIdFor('apply', decisionId))).toBeUndefined();
    expect(await pl.redis.hget(keyspace(pl.prefix).conversation('c-in-1'), 'state')).toBe('COMPLETE');
    expect(await metric(pl, 'ivr_writes_skipped_total{reason="answered_synchronously"}')).toBe(1);
    const storedDoc = async () => JSON.parse((await pl.redis.hget(`${pl.prefix}:ivr:store:docs`, decisionId)) ?? '{}') as Record<string, unknown>;
    await waitFor(async () => (await storedDoc()).writeStatus === 'skipped', 'the decision stored with its write outcome', 10_000);
    expect(await storedDoc()).toMatchObject({ routing_decision: 'route_to_queue', writeReason: expect.stringContaining('synchronous answer') });
    expect((await pl.sim.control.calls('attributes')).filter((c) => c.path.includes('/c-in-1/'))).toEqual([]); // nothing sent to Genesys
    // A re-delivery of the same key is answered with the same decision (the waiter's lookup), no second job.
    const again = await pl.post({ conversationId: 'c-in-1', participantId: 'cust-1', dtmf: '1' }, { prefer: 'wait=3', 'idempotency-key': 'in-1' });
    expect(again.body).toMatchObject({ status: 'decided', decisionId });
    expect(await pl.receiver.queues.events.count()).toBe(0);
  });

  it('figures not cached: the event\'s job is added at once and a worker decides (polled), well within the wait', async () => {
    p = await startPipeline({ TARGET_QUEUE_ID: QUEUE, OCCUPANCY_THRESHOLD: '2' }); // OCCUPANCY_CACHE_MS 0: nothing cached
    const pl = p;
    await pl.sim.control.setQueue(QUEUE, { idle: 1, interacting: 0, waiting: 0 });
    await createConversation(pl.sim.url, 'c-in-2', { customerId: 'cust-2' });
    const res = await pl.post({ conversationId: 'c-in-2', participantId: 'cust-2', dtmf: '1' }, { prefer: 'wait=5', 'idempotency-key': 'in-2' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'decided', routing: 'route_to_vm', availableAgents: 1, occupancySource: 'poll' });
    expect(res.ms).toBeLessThan(4000); // not held until the 5 s deadline
    expect(await pl.redis.zcard(keyspace(pl.prefix).held)).toBe(0);
    // The worker's job, not the receiver (it completes once its report's batch job is stored, just after the answer).
    await waitFor(async () => (await (await pl.receiver.queues.events.getJob(jobIdForKey('in-2')))?.getState()) === 'completed', 'the decide job completed');
    expect(await metric(pl, 'ivr_decisions_total')).toBe(0); // the receiver decided nothing
  });

  it('a receiver that held an event and died before deciding: a sweep by a worker adds its job when due and a worker decides', async () => {
    p = await startPipeline({ TARGET_QUEUE_ID: QUEUE, OCCUPANCY_THRESHOLD: '2' });
    const pl = p;
    await pl.sim.control.setQueue(QUEUE, { idle: 4, interacting: 0, waiting: 0 });
    await createConversation(pl.sim.url, 'c-in-3', { customerId: 'cust-3' });
    // What the receiver's ingest step does for a held event (held, no job; the decision started in the same script),
    // without the decision that would follow.
    const event: IvrEventJob = { idempotencyKey: 'in-3', receivedAt: Date.now(), answerBy: Date.now() + 300, conversationId: 'c-in-3', participantId: 'cust-3', flowInstanceId: 'c-in-3', dtmf: '1', source: 'data-action' };
    const ks = keyspace(pl.prefix);
    const idempotency = createIdempotencyStore(pl.redis, ks, 60);
    const whenNew = inCallStartCall({ ks, ttlSeconds: 60, policy: singleQueuePolicy(QUEUE, 2) }, event);
    expect((await ingestEvent({ idempotency, events: pl.receiver.queues.events, whenNew: inCallStartScript() }, event, 'fp', { delayMs: 300, whenNew })).kind).toBe('accepted');
    expect(await pl.redis.hget(ks.conversation('c-in-3'), 'state')).toBe('CHECKING_QUEUE'); // started, never decided
    expect(await pl.receiver.queues.events.getJob(jobIdForKey('in-3'))).toBeUndefined();
    expect(await pl.redis.zrange(ks.held, 0, -1)).toEqual([jobIdForKey('in-3')]);
    await waitFor(async () => (await (await pl.receiver.queues.events.getJob(jobIdForKey('in-3')))?.getState()) === 'completed', 'the worker decided', 10_000);
    const stored = JSON.parse((await pl.redis.get(keyspace(pl.prefix).decision(scopedKey('in-3'))))!) as Record<string, unknown>;
    expect(stored).toMatchObject({ routing_decision: 'route_to_queue', queue_occupancy: 4, occupancySource: 'poll' });
  });
});
