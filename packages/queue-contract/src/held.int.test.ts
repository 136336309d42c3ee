/**
 * Held events (held.ts) on real Redis and real BullMQ: exactly one of release, move or sweep takes each event, a move
 * adds the job ingestEvent would have added, a failed add leaves the event held, releases of one turn share a round
 * trip.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { testRedis } from '@ivr/testing';
import { jobIdForKey } from '@ivr/core';
import { heldReleaser, moveHeld, releaseHeld, sweepHeld, dueHeld, heldState } from './held';
import { EVENT_JOB, type IvrEventJob } from './jobs';
import { keyspace } from './names';
import { createQueues, type IvrQueues } from './queues';

const event = (key: string): IvrEventJob => ({ idempotencyKey: key, receivedAt: 1_700_000_000_000, answerBy: 1_700_000_002_000, conversationId: `c-${key}`, participantId: 'p', flowInstanceId: `c-${key}`, dtmf: '1', source: 'data-action' });

describe('held events (real Redis, real BullMQ)', () => {
  let t: ReturnType<typeof testRedis>;
  let queues: IvrQueues;
  const ks = () => keyspace(t.prefix);
  beforeEach(() => {
    t = testRedis('held');
    queues = createQueues(t.redis, t.prefix, { applyAttempts: 1, applyBackoffMs: 100 });
  });
  afterEach(async () => {
    await queues.close();
    await t.cleanup();
  });

  /** The state ingestEvent's holdScript leaves (asserted in @ivr/intake's ingest tests). */
  const hold = async (key: string, dueAt: number) => {
    const jobId = jobIdForKey(key);
    await t.redis.multi().hset(ks().heldEvents, jobId, JSON.stringify(event(key))).zadd(ks().held, dueAt, jobId).exec();
    return jobId;
  };
  const held = async () => ({ set: await t.redis.zrange(ks().held, 0, -1), data: await t.redis.hkeys(ks().heldEvents) });

  it('a move adds the job ingestEvent would have added (id, name, data, the queue\'s job options) and stops holding; a second move adds nothing', async () => {
    const jobId = await hold('m1', Date.now() + 60_000);
    expect(await moveHeld(queues.events, ks(), [{ jobId, job: event('m1') }])).toEqual(['moved']);
    const job = (await queues.events.getJob(jobId))!;
    expect({ name: job.name, data: job.data, state: await job.getState() }).toEqual({ name: EVENT_JOB, data: event('m1'), state: 'waiting' });
    expect(job.opts.removeOnComplete).toEqual(queues.events.defaultJobOptions.removeOnComplete);
    expect(await held()).toEqual({ set: [], data: [] });
    expect(await moveHeld(queues.events, ks(), [{ jobId, job: event('m1') }])).toEqual(['not_held']);
    expect(await queues.events.getJobCountByTypes('waiting')).toBe(1);
  });

  it('released, then moved: no job; moved, then released: the job stays', async () => {
    const a = await hold('r1', Date.now() + 60_000);
    await releaseHeld(t.redis, ks(), [a]);
    expect(await moveHeld(queues.events, ks(), [{ jobId: a, job: event('r1') }])).toEqual(['not_held']);
    expect(await queues.events.getJob(a)).toBeUndefined();
    const b = await hold('r2', Date.now() + 60_000);
    await moveHeld(queues.events, ks(), [{ jobId: b, job: event('r2') }]);
    await releaseHeld(t.redis, ks(), [b]);
    expect(await (await queues.events.getJob(b))?.getState()).toBe('waiting');
  });

  it('sweeps: only due events are moved; two processes sweeping at once add one job per event', async () => {
    const now = Date.now();
    const due = await Promise.all(Array.from({ length: 30 }, (_, i) => hold(`s${i}`, now - i)));
    const later = await hold('later', now + 60_000);
    // A second process: its own connection and queue, sweeping at the same moment (small pages, so they interleave).
    const other = t.redis.duplicate() as Redis;
    const otherQueues = createQueues(other, t.prefix, { applyAttempts: 1, applyBackoffMs: 100 });
    const moved = await Promise.all([sweepHeld(queues.events, ks(), now, 4), sweepHeld(otherQueues.events, ks(), now, 4)]);
    expect(moved[0] + moved[1]).toBe(30);
    expect(await queues.events.getJobCountByTypes('waiting')).toBe(30);
    expect((await Promise.all(due.map((id) => queues.events.getJob(id)))).every((j) => j !== undefined)).toBe(true);
    expect(await held()).toEqual({ set: [later], data: [later] });
    expect(await heldState(t.redis, ks())).toEqual({ count: 1, oldestDueAt: now + 60_000 });
    expect(await sweepHeld(queues.events, ks(), now)).toBe(0);
    await otherQueues.close();
    other.disconnect();
  });

  it('an add that fails leaves the event held (the move rejects with Redis\'s reason); the next sweep moves it', async () => {
    const jobId = await hold('f1', Date.now() - 1);
    await t.redis.set(queues.events.keys['id']!, 'not-a-counter'); // BullMQ's add INCRs it: the script errors
    await expect(sweepHeld(queues.events, ks(), Date.now())).rejects.toThrow(/not an integer/);
    expect(await held()).toEqual({ set: [jobId], data: [jobId] });
    await t.redis.del(queues.events.keys['id']!);
    expect(await sweepHeld(queues.events, ks(), Date.now())).toBe(1);
    expect(await queues.events.getJob(jobId)).toBeDefined();
  });

  it('an id in the held set without its data is dropped by the sweep, not moved', async () => {
    await t.redis.zadd(ks().held, Date.now() - 1, 'orphan');
    expect(await dueHeld(t.redis, ks(), Date.now(), 10)).toEqual([]);
    expect(await held()).toEqual({ set: [], data: [] });
    expect(await heldState(t.redis, ks())).toEqual({ count: 0, oldestDueAt: null });
  });

  it('releases asked for in one turn go out together: one ZREM and one HDEL for all of them', async () => {
    const ids = await Promise.all(['b1', 'b2', 'b3'].map((k) => hold(k, Date.now() + 60_000)));
    const conn = t.redis.duplicate() as Redis; // its own connection, connected: only the releaser's commands on it
    await conn.ping();
    const sent: Array<{ name: string; args: unknown[] }> = [];
    const original = conn.sendCommand.bind(conn);
    conn.sendCommand = ((cmd: { name: string; args: unknown[] }) => {
      sent.push({ name: cmd.name, args: cmd.args });
      return original(cmd as never);
    }) as typeof conn.sendCommand;
    const release = heldReleaser(conn, ks());
    await Promise.all(ids.map((id) => release(id)));
    conn.disconnect();
    expect(sent.map((c) => c.name)).toEqual(['multi', 'zrem', 'hdel', 'exec']);
    expect(sent[1]!.args).toEqual([ks().held, ...ids]);
    expect(await held()).toEqual({ set: [], data: [] });
  });
});
