import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { testRedis } from '@ivr/testing';
import { createIdempotencyStore } from './idempotency-store';
import { createQueues, type IvrQueues } from '@ivr/queue-contract';
import { keyspace } from '@ivr/queue-contract';
import { ingestEvent, ingestFailure } from './ingest';
import type { IvrEventJob } from '@ivr/queue-contract';
import { jobIdForKey } from '@ivr/core';

const job = (key: string, dtmf = '1'): IvrEventJob => ({
  idempotencyKey: key,
  receivedAt: Date.now(),
  conversationId: 'c-1',
  participantId: 'p-1',
  flowInstanceId: 'c-1',
  dtmf,
  source: 'data-action',
});

describe.each([
  ['the ingest on the queue connection', false],
  ['the ingest on its own connection (tx)', true],
])('ingestEvent (real Redis, real BullMQ), %s', (_mode, ownTx) => {
  let t: ReturnType<typeof testRedis>;
  let queues: IvrQueues;
  let tx: Redis | undefined;
  /** The connection the ingest goes out on. */
  let wire: Redis;
  beforeEach(() => {
    t = testRedis('ingest');
    queues = createQueues(t.redis, t.prefix, { applyAttempts: 5, applyBackoffMs: 1000 });
    tx = ownTx ? t.redis.duplicate() : undefined;
    wire = tx ?? t.redis;
  });
  afterEach(async () => {
    await queues.close();
    tx?.disconnect();
    await t.cleanup();
  });

  /** The commands `fn` sends on the ingest's connection (names, in order), and its result. */
  const commandsSent = async <T>(fn: () => Promise<T>): Promise<{ result: T; sent: string[] }> => {
    const sent: string[] = [];
    const original = wire.sendCommand.bind(wire);
    wire.sendCommand = ((cmd: { name: string }) => {
      sent.push(cmd.name);
      return original(cmd as never);
    }) as typeof wire.sendCommand;
    try {
      return { result: await fn(), sent };
    } finally {
      wire.sendCommand = original;
    }
  };

  it('two concurrent identical events: exactly one job, one accepted and one duplicate', async () => {
    const deps = { idempotency: createIdempotencyStore(t.redis, keyspace(t.prefix), 60), events: queues.events, tx };
    const outcomes = await Promise.all([ingestEvent(deps, job('k1'), 'fp'), ingestEvent(deps, job('k1'), 'fp')]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['accepted', 'duplicate']);
    expect(await queues.events.getJobCounts('wait', 'active', 'delayed')).toEqual({ wait: 1, active: 0, delayed: 0 });
  });

  it('100 concurrent deliveries of 10 keys: exactly 10 jobs and 10 accepted', async () => {
    const deps = { idempotency: createIdempotencyStore(t.redis, keyspace(t.prefix), 60), events: queues.events, tx };
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => ingestEvent(deps, job(`k${i % 10}`), 'fp')));
    expect(all.filter((o) => o.kind === 'accepted')).toHaveLength(10);
    expect(await queues.events.count()).toBe(10);
  });

  it('delayMs (an event held for the in-call decision): no job, the event held until its due time; a re-delivery or a conflict holds nothing more', async () => {
    const ks = keyspace(t.prefix);
    const deps = { idempotency: createIdempotencyStore(t.redis, ks, 60), events: queues.events, tx };
    const before = Date.now();
    const event = job('held');
    expect(await ingestEvent(deps, event, 'fp', { delayMs: 2000 })).toEqual({ kind: 'accepted', jobId: jobIdForKey('held') });
    expect(await ingestEvent(deps, job('held'), 'fp', { delayMs: 2000 })).toEqual({ kind: 'duplicate', jobId: jobIdForKey('held') });
    expect((await ingestEvent(deps, job('held', '7'), 'fp-other', { delayMs: 2000 })).kind).toBe('conflict');
    expect(await queues.events.getJobCounts('wait', 'active', 'delayed')).toEqual({ wait: 0, active: 0, delayed: 0 });
    expect(await t.redis.zrange(ks.held, 0, -1)).toEqual([jobIdForKey('held')]);
    expect(Number(await t.redis.zscore(ks.held, jobIdForKey('held')))).toBeGreaterThanOrEqual(before + 2000);
    expect(JSON.parse((await t.redis.hget(ks.heldEvents, jobIdForKey('held')))!)).toEqual(event);
    expect(await deps.idempotency.state('held', 'fp')).toBe('stored'); // a 2xx may be sent: the event is in Redis
  });

  it('same key with another body is a conflict and adds nothing', async () => {
    const deps = { idempotency: createIdempotencyStore(t.redis, keyspace(t.prefix), 60), events: queues.events, tx };
    await ingestEvent(deps, job('k'), 'fp-a');
    expect((await ingestEvent(deps, job('k', '2'), 'fp-b')).kind).toBe('conflict');
    expect(await queues.events.count()).toBe(1);
  });

  it('keys expire after IDEMPOTENCY_TTL_S', async () => {
    const idem = createIdempotencyStore(t.redis, keyspace(t.prefix), 123);
    await ingestEvent({ idempotency: idem, events: queues.events, tx }, job('k'), 'fp');
    const ttl = await t.redis.ttl(idem.recordKey('k'));
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(123);
  });

  it('a claim left unconfirmed by a crash is repaired by the next delivery (job added once, then confirmed)', async () => {
    const ks = keyspace(t.prefix);
    const idem = createIdempotencyStore(t.redis, ks, 60);
    await idem.claim('k', 'fp'); // crashed before queue.add
    expect(await queues.events.count()).toBe(0);
    const r = await ingestEvent({ idempotency: idem, events: queues.events, tx }, job('k'), 'fp');
    expect(r.kind).toBe('duplicate');
    expect(await queues.events.count()).toBe(1);
    expect(await idem.state('k', 'fp')).toBe('stored');
  });
  it('idempotency records are compact: a short key and an integer-encoded value, whatever the key looks like', async () => {
    const idem = createIdempotencyStore(t.redis, keyspace(t.prefix), 60);
    const uuid = '0b8f6c2e-3a71-4d0c-9d55-6f1f2b9c7e41';
    await ingestEvent({ idempotency: idem, events: queues.events, tx }, job(uuid), 'fingerprint-of-the-body');
    const rk = idem.recordKey(uuid);
    expect(rk).toBe(`${t.prefix}:ivr:i:${rk.slice(-18)}`);
    expect(await t.redis.object('ENCODING', rk)).toBe('int');
    expect(await idem.state(uuid, 'fingerprint-of-the-body')).toBe('stored');
    expect(await idem.state(uuid, 'another body')).toBe('conflict');
  });

  it('confirm never recreates an expired record (no key without a TTL)', async () => {
    const idem = createIdempotencyStore(t.redis, keyspace(t.prefix), 60);
    await idem.claim('gone', 'fp');
    await t.redis.del(idem.recordKey('gone')); // expired between claim and confirm
    await idem.confirm('gone', 'fp');
    expect(await t.redis.exists(idem.recordKey('gone'))).toBe(0);
  });
  it('after the job was completed and removed, a re-delivery or a conflicting body adds nothing and leaves no placeholder', async () => {
    const idem = createIdempotencyStore(t.redis, keyspace(t.prefix), 60);
    const deps = { idempotency: idem, events: queues.events, tx };
    expect((await ingestEvent(deps, job('gone-job'), 'fp')).kind).toBe('accepted');
    await queues.events.obliterate({ force: true }); // as removeOnComplete does once the job is done
    expect(await t.redis.exists(queues.events.toKey(jobIdForKey('gone-job')))).toBe(0);
    expect((await ingestEvent(deps, job('gone-job'), 'fp')).kind).toBe('duplicate');
    expect((await ingestEvent(deps, job('gone-job', '7'), 'other-fp')).kind).toBe('conflict');
    expect(await queues.events.count()).toBe(0);
    expect(await t.redis.exists(queues.events.toKey(jobIdForKey('gone-job')))).toBe(0);
  });

  it('one round trip: the claim, the BullMQ add and the finish go out as one script call', async () => {
    const idem = createIdempotencyStore(t.redis, keyspace(t.prefix), 60);
    const deps = { idempotency: idem, events: queues.events, tx };
    await ingestEvent(deps, job('warm'), 'fp'); // scripts loaded
    const { result, sent } = await commandsSent(() => ingestEvent(deps, job('one-trip'), 'fp'));
    expect(result.kind).toBe('accepted');
    expect(sent).toEqual(['evalsha']);
    expect(await idem.state('one-trip', 'fp')).toBe('stored');
  });
  it('an add that fails leaves no claim: the caller hears a Redis error (not stored) and the key stays free', async () => {
    const idem = createIdempotencyStore(t.redis, keyspace(t.prefix), 60);
    const deps = { idempotency: idem, events: queues.events, tx };
    await t.redis.set(queues.events.keys['id']!, 'not-a-counter'); // BullMQ's add INCRs it first: an error before any write
    const err = await ingestEvent(deps, job('fails'), 'fp').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(ingestFailure(err)).toBe('not_stored');
    expect(await idem.state('fails', 'fp')).toBe('absent');
    await t.redis.del(queues.events.keys['id']!);
    expect((await ingestEvent(deps, job('fails'), 'fp')).kind).toBe('accepted');
    expect(await queues.events.count()).toBe(1);
  });
  it('events sharing one write keep their own outcomes: new, duplicate and conflict in the same batch', async () => {
    const deps = { idempotency: createIdempotencyStore(t.redis, keyspace(t.prefix), 60), events: queues.events, tx };
    const out = await Promise.all([
      ingestEvent(deps, job('b1'), 'fp-1'),
      ingestEvent(deps, job('b1', '5'), 'fp-other'),
      ingestEvent(deps, job('b2'), 'fp-2'),
      ingestEvent(deps, job('b2'), 'fp-2'),
    ]);
    expect(out.map((o) => o.kind)).toEqual(['accepted', 'conflict', 'accepted', 'duplicate']);
    expect(await queues.events.count()).toBe(2);
    expect((await queues.events.getJob(jobIdForKey('b1')))?.data).toMatchObject({ dtmf: '1' });
  });

  /** A WhenNewScript that counts its runs in KEYS[1] and echoes its argument (what the in-call start stands on). */
  const counter = { name: 'testCountRuns', numberOfKeys: 1, lua: `return {redis.call('INCR', KEYS[1]), ARGV[1]}` };

  it('whenNew runs inside the ingest only for a new event that was stored (held or its job added), and its reply comes back', async () => {
    const runs = `${t.prefix}:runs`;
    const deps = { idempotency: createIdempotencyStore(t.redis, keyspace(t.prefix), 60), events: queues.events, tx, whenNew: counter };
    const held = { delayMs: 2000, whenNew: { keys: [runs], args: ['hello'] } };
    expect(await ingestEvent(deps, job('w1'), 'fp', held)).toEqual({ kind: 'accepted', jobId: jobIdForKey('w1'), whenNew: [1, 'hello'] });
    // A re-delivery, a conflicting body: the script does not run, nothing comes back.
    expect(await ingestEvent(deps, job('w1'), 'fp', held)).toEqual({ kind: 'duplicate', jobId: jobIdForKey('w1') });
    expect((await ingestEvent(deps, job('w1', '9'), 'fp-other', held)).kind).toBe('conflict');
    // An ingest that does not ask for it, on the same deps: the plain script.
    expect(await ingestEvent(deps, job('w2'), 'fp')).toEqual({ kind: 'accepted', jobId: jobIdForKey('w2') });
    expect(await t.redis.get(runs)).toBe('1');
    // With a job added (no delayMs): an add that fails undoes the claim and the script does not run either.
    const added = { whenNew: held.whenNew };
    await t.redis.set(queues.events.keys['id']!, 'not-a-counter');
    expect(ingestFailure(await ingestEvent(deps, job('w3'), 'fp', added).catch((e: Error) => e))).toBe('not_stored');
    expect(await t.redis.get(runs)).toBe('1');
    await t.redis.del(queues.events.keys['id']!);
    // Still one script call per event, held or added.
    const { result, sent } = await commandsSent(() => ingestEvent(deps, job('w3'), 'fp', added));
    expect(result).toEqual({ kind: 'accepted', jobId: jobIdForKey('w3'), whenNew: [2, 'hello'] });
    expect(sent).toEqual(['evalsha']);
    const again = await commandsSent(() => ingestEvent(deps, job('w4'), 'fp', held));
    expect(again.result).toEqual({ kind: 'accepted', jobId: jobIdForKey('w4'), whenNew: [3, 'hello'] });
    expect(again.sent).toEqual(['evalsha']);
    expect(await queues.events.getJobCounts('wait', 'delayed')).toEqual({ wait: 2, delayed: 0 });
    expect(await t.redis.zcard(keyspace(t.prefix).held)).toBe(2);
  });

  it('whenNew asked for without the script in the deps is refused before anything is sent', async () => {
    const deps = { idempotency: createIdempotencyStore(t.redis, keyspace(t.prefix), 60), events: queues.events, tx };
    await expect(ingestEvent(deps, job('w4'), 'fp', { whenNew: { keys: ['x'], args: [] } })).rejects.toThrow(/needs IngestDeps.whenNew/);
    expect(await queues.events.count()).toBe(0);
  });
});
