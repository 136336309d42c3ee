/**
 * createInCallDecider on real Redis and real BullMQ: decided on cached figures (the held event released once the
 * follow-ups are enqueued, never a job), not cached (the event's job added at once, the conversation left for the
 * worker's run to resume), follow-ups that fail (the event kept held, for a sweep to re-send them when due), and the
 * held write (WRITE_BACK unanswered): settled as skipped when the answer was delivered, enqueued at once when it was not.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { decisionIdFor, jobIdFor, jobIdForKey, scopedKey, singleQueuePolicy } from '@ivr/core';
import { createQueues, keyspace, QUEUE_NAMES, REPORT_BATCH_JOB, type IvrEventJob, type IvrQueues } from '@ivr/queue-contract';
import { silentLogger, testRedis, waitFor } from '@ivr/testing';
import { createConversationStore } from './conversation-store';
import { cachedOnlyEstimatedWait, cachedOnlyOccupancy, createInCallDecider, inCallStartCall, inCallStartScript } from './in-call';
import { createOccupancyCache, storePushedObservations } from './occupancy-cache';
import { createReportSender } from './report-sender';
import { processDecide, type DecideDeps } from './processors/decide';

const QUEUE = 'q-1';
const event = (key: string, cid: string): IvrEventJob => ({
  idempotencyKey: key,
  receivedAt: Date.now(),
  answerBy: Date.now() + 5000,
  conversationId: cid,
  participantId: 'p-1',
  flowInstanceId: cid,
  dtmf: '1',
  source: 'data-action',
});

describe('createInCallDecider (real Redis, real BullMQ)', () => {
  let t: ReturnType<typeof testRedis>;
  let queues: IvrQueues;
  let deps: DecideDeps;
  const ks = () => keyspace(t.prefix);

  beforeEach(() => {
    t = testRedis('incall');
    queues = createQueues(t.redis, t.prefix, { applyAttempts: 1, applyBackoffMs: 100 });
    deps = {
      conversations: createConversationStore(t.redis, ks(), 60),
      occupancy: cachedOnlyOccupancy(t.redis, ks()),
      estimatedWait: cachedOnlyEstimatedWait(t.redis, ks()),
      policy: singleQueuePolicy(QUEUE, 2),
      defaultRoute: 'route_to_queue',
      writes: queues.writes,
      reports: queues.reports,
      publisher: t.redis,
      ks: ks(),
      logger: silentLogger,
      deferFollowUps: true,
    };
  });
  afterEach(async () => {
    await queues.close();
    await t.cleanup();
  });

  /** A held event as ingestEvent leaves it (`delayMs`; asserted in @ivr/intake's ingest tests): no job, held until the deadline. */
  const held = async (ev: IvrEventJob) => {
    const jobId = jobIdForKey(ev.idempotencyKey);
    await t.redis.multi().hset(ks().heldEvents, jobId, JSON.stringify(ev)).zadd(ks().held, Date.now() + 5000, jobId).exec();
    return jobId;
  };
  const isHeld = async (jobId: string) => (await t.redis.zscore(ks().held, jobId)) !== null && (await t.redis.hexists(ks().heldEvents, jobId)) === 1;
  /** Released: neither held nor given a job (the decision was the receiver's). */
  const released = async (jobId: string) => !(await isHeld(jobId)) && (await queues.events.getJob(jobId)) === undefined;
  /** Still the fallback: held, and no job yet. */
  const stillHeld = async (jobId: string) => (await isHeld(jobId)) && (await queues.events.getJob(jobId)) === undefined;
  /** Moved to a worker: a waiting job, no longer held. */
  const movedToWorker = async (jobId: string) => !(await isHeld(jobId)) && (await (await queues.events.getJob(jobId))?.getState()) === 'waiting';
  const cache = (idle: number) => storePushedObservations(t.redis, ks(), [{ observation: { queueId: QUEUE, idle, interacting: 0, waiting: 0, mediaType: 'voice', observedAt: Date.now() }, ttlMs: 60_000 }]);

  it('figures cached: returns the decision, enqueues the write and the report, releases the held event (no job)', async () => {
    await cache(3);
    const ev = event('k-1', 'c-1');
    const jobId = await held(ev);
    const decided: string[] = [];
    const decide = createInCallDecider({ decide: deps, events: queues.events, onDecided: (r) => decided.push(r.routing) });
    const d = await decide(ev, jobId);
    expect(d).toMatchObject({ routing_decision: 'route_to_queue', queue_occupancy: 3, occupancySource: 'notification', decisionId: decisionIdFor(scopedKey('k-1')) });
    expect(decided).toEqual(['route_to_queue']);
    await waitFor(() => released(jobId), 'the held event released');
    expect(await (await queues.writes.getJob(jobIdFor('apply', d!.decisionId)))?.getState()).toBe('delayed'); // until the deadline + grace
    expect(await queues.reports.getJob(jobIdFor('report', d!.decisionId))).toBeDefined();
  });

  /** inCallStartScript as the ingest runs it (there inside its own script; here alone, the same Lua). */
  const startInIngest = async (ev: IvrEventJob) => {
    const script = inCallStartScript();
    const call = inCallStartCall({ ks: ks(), ttlSeconds: 60, policy: deps.policy }, ev);
    return t.redis.eval(script.lua, script.numberOfKeys, ...call.keys, ...call.args);
  };

  it('started in the ingest: the decision takes START and the reading from it, without reading them again', async () => {
    await cache(3);
    const ev = event('k-s', 'c-s');
    const jobId = await held(ev);
    const started = await startInIngest(ev);
    expect(await t.redis.hget(ks().conversation('c-s'), 'state')).toBe('CHECKING_QUEUE');
    await cache(0); // the figure changes after the ingest: the decision is the one read in the ingest's transaction
    const d = await createInCallDecider({ decide: deps, events: queues.events })(ev, jobId, undefined, started);
    expect(d).toMatchObject({ routing_decision: 'route_to_queue', queue_occupancy: 3, sequence: 1 }); // one START: sequence 1
    expect(await t.redis.hget(ks().conversation('c-s'), 'state')).toBe('ROUTING');
    // The same event started and decided again (a re-delivery's job run): the stored decision comes back, replayed.
    const again = await startInIngest(ev);
    expect(await createInCallDecider({ decide: deps, events: queues.events })(ev, jobId, undefined, again)).toMatchObject({ decisionId: d!.decisionId, queue_occupancy: 3 });
  });

  it('started in the ingest with nothing cached: as not cached (the job added at once); a reply it cannot read: the same', async () => {
    const ev = event('k-n', 'c-n');
    const jobId = await held(ev);
    const decide = createInCallDecider({ decide: deps, events: queues.events });
    expect(await decide(ev, jobId, undefined, await startInIngest(ev))).toBeUndefined();
    expect(await movedToWorker(jobId)).toBe(true);
    expect((await queues.events.getJob(jobId))!.data).toEqual(ev);
    const ev2 = event('k-m', 'c-m');
    const jobId2 = await held(ev2);
    await cache(3);
    expect(await decide(ev2, jobId2, undefined, ['not', 'a', 'start'])).toBeUndefined();
    expect(await movedToWorker(jobId2)).toBe(true);
  });

  it('figures not cached: undefined, the job added at once; the worker run resumes the conversation and decides', async () => {
    const ev = event('k-2', 'c-2');
    const jobId = await held(ev);
    const decide = createInCallDecider({ decide: deps, events: queues.events });
    expect(await decide(ev, jobId)).toBeUndefined();
    expect(await movedToWorker(jobId)).toBe(true);
    expect(await decide(ev, jobId)).toBeUndefined(); // again (a second receiver's attempt): still one job
    expect(await queues.events.getJobCountByTypes('waiting')).toBe(1);
    expect(await t.redis.hget(ks().conversation('c-2'), 'state')).toBe('CHECKING_QUEUE'); // left by the attempt
    const polled = createOccupancyCache({ redis: t.redis, ks: ks(), cacheMs: 1000, fetch: async () => ({ results: [{ group: { queueId: QUEUE }, data: [{ metric: 'oOnQueueUsers', qualifier: 'IDLE', stats: { count: 1 } }] }] }) });
    const r = await processDecide({ id: jobId, data: ev }, { ...deps, occupancy: polled, deferFollowUps: false });
    expect(r).toMatchObject({ status: 'decided', routing: 'route_to_vm', occupancySource: 'poll', replayed: false });
  });

  it('follow-ups that fail: the decision is still answered, the event is kept held, for a sweep to re-send them', async () => {
    await cache(3);
    const ev = event('k-3', 'c-3');
    const jobId = await held(ev);
    // The write queue on a connection that is gone: its add rejects, as when Redis drops mid-dispatch.
    const gone = t.redis.duplicate() as Redis;
    const broken = createQueues(gone, t.prefix, { applyAttempts: 1, applyBackoffMs: 100 });
    await broken.writes.waitUntilReady();
    gone.disconnect();
    const decide = createInCallDecider({ decide: { ...deps, writes: broken.writes }, events: queues.events });
    expect(await decide(ev, jobId)).toMatchObject({ routing_decision: 'route_to_queue' });
    await waitFor(async () => (await t.redis.exists(`${t.prefix}:${QUEUE_NAMES.reports}:${jobIdFor('report', decisionIdFor(scopedKey('k-3')))}`)) === 1, 'the report enqueued beside the failed write');
    expect(await stillHeld(jobId)).toBe(true);
    await broken.close().catch(() => undefined);
  });

  describe('the held write (decide.holdWrite)', () => {
    const settled: unknown[] = [];
    const heldDecider = (decide: Partial<DecideDeps> = {}) => (
      (settled.length = 0),
      createInCallDecider({
        decide: { ...deps, holdWrite: true, ...decide },
        events: queues.events,
        settle: { redis: t.redis, ks: ks(), answeredTtlS: 60, logger: silentLogger },
        onWriteSettled: (r) => settled.push(r),
      })
    );
    /** The receiver's report sender, lingering a minute: its batch goes only when a test flushes it. */
    const lingeringSender = () => createReportSender({ reports: queues.reports, redis: t.redis, ks: ks(), lingerMs: 60_000, maxBatch: 100, pointerTtlS: 60, logger: silentLogger });
    /** Every job decision-reports holds (any kind: a report, an outcome, a batch of either), by name. */
    const reportJobs = async () => (await queues.reports.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).map((j) => j.name);

    it('answer delivered: no write job; answered mark, conversation COMPLETE, the report carrying the skipped outcome, then the held event released', async () => {
      await cache(3);
      const ev = event('k-4', 'c-4');
      const jobId = await held(ev);
      // Another receiver waiting for this key on pub/sub gets the decision with the settlement, not before.
      const sub = t.redis.duplicate();
      const published: string[] = [];
      sub.on('message', (_channel: string, message: string) => published.push(message));
      await sub.subscribe(ks().decisionChannel(scopedKey('k-4')));
      let deliver: (ok: boolean) => void = () => undefined;
      const d = await heldDecider()(ev, jobId, new Promise<boolean>((r) => (deliver = r)));
      const decisionId = decisionIdFor(scopedKey('k-4'));
      // A publish sent with the decision's follow-ups (the next macrotask) would have reached the subscriber by now.
      await new Promise((r) => setImmediate(r));
      await t.redis.ping();
      await sub.ping();
      expect(published).toEqual([]);
      expect(d).toMatchObject({ decisionId, routing_decision: 'route_to_queue', state: 'ROUTING' });
      // Until delivery is known the event stays held (the fallback), and the write and the report wait (a report sent
      // before would lack the outcome, and the one below, with the same job id, would add nothing).
      expect(await stillHeld(jobId)).toBe(true);
      expect(await t.redis.hget(ks().conversation('c-4'), 'state')).toBe('ROUTING');
      deliver(true);
      await waitFor(() => released(jobId), 'the held event released');
      expect(await queues.writes.getJob(jobIdFor('apply', decisionId))).toBeUndefined();
      expect(await t.redis.exists(ks().answered(decisionId))).toBe(1);
      expect(await t.redis.hget(ks().conversation('c-4'), 'state')).toBe('COMPLETE');
      expect((await queues.reports.getJob(jobIdFor('report', decisionId)))?.data).toMatchObject({ decisionId, routing_decision: 'route_to_queue', writeStatus: 'skipped', writeReason: expect.stringContaining('synchronous answer') });
      expect(await reportJobs()).toEqual(['report']); // the outcome went with the report: no second job
      expect(settled).toEqual([expect.objectContaining({ status: 'skipped', skipReason: 'answered_synchronously' })]);
      await waitFor(async () => published.length === 1, 'the decision published');
      expect(JSON.parse(published[0]!)).toMatchObject({ status: 'decided', decisionId });
      sub.disconnect();
    });

    it('answer not delivered: the write is enqueued to run at once, nothing marked, then the job removed', async () => {
      await cache(3);
      const ev = event('k-5', 'c-5');
      const jobId = await held(ev);
      const d = await heldDecider()(ev, jobId, Promise.resolve(false));
      await waitFor(() => released(jobId), 'the held event released');
      const write = await queues.writes.getJob(jobIdFor('apply', d!.decisionId));
      expect(await write?.getState()).toBe('waiting'); // not held to the deadline: the caller did not get the answer
      expect(write?.data).toMatchObject({ decisionId: d!.decisionId, conversationId: 'c-5', sequence: d!.sequence });
      expect(await t.redis.exists(ks().answered(d!.decisionId))).toBe(0);
      expect(await t.redis.hget(ks().conversation('c-5'), 'state')).toBe('ROUTING'); // COMPLETE once written
      expect(await reportJobs()).toEqual(['report']); // the outcome is the write job's to send, once it has run
      expect((await queues.reports.getJob(jobIdFor('report', d!.decisionId)))?.data).not.toHaveProperty('writeStatus'); // the write job records it
    });

    it('a later key press decided meanwhile: the settled write leaves that conversation at the later decision', async () => {
      await cache(3);
      const ev = event('k-6', 'c-6');
      const jobId = await held(ev);
      let deliver: (ok: boolean) => void = () => undefined;
      const d = await heldDecider()(ev, jobId, new Promise<boolean>((r) => (deliver = r)));
      // The next press of the same call, decided before this answer's delivery is known.
      const next = { ...event('k-7', 'c-6'), receivedAt: ev.receivedAt + 1 };
      const d2 = await heldDecider()(next, await held(next), Promise.resolve(false));
      expect(d2!.sequence).toBeGreaterThan(d!.sequence);
      deliver(true);
      await waitFor(() => released(jobId), 'the first event released');
      expect(await t.redis.hmget(ks().conversation('c-6'), 'state', 'seq')).toEqual(['ROUTING', String(d2!.sequence)]);
    });

    it('reports sent in batches (the receiver\'s wiring): the report, with its skipped outcome, in a report-batch job; the events released only once that job is stored', async () => {
      await cache(3);
      const sender = lingeringSender();
      const decider = heldDecider({ sendReport: sender.send });
      const evs = [event('k-8', 'c-8'), event('k-9', 'c-9')];
      const jobIds = await Promise.all(evs.map(held));
      const ds = await Promise.all(evs.map((ev, i) => decider(ev, jobIds[i]!, Promise.resolve(true))));
      await waitFor(async () => (await t.redis.exists(ks().answered(ds[1]!.decisionId))) === 1, 'both writes settled');
      // The reports wait in the sender (a minute's linger here): the events stay held, as the fallback.
      for (const id of jobIds) expect(await stillHeld(id)).toBe(true);
      await sender.flush();
      await waitFor(async () => (await t.redis.zcard(ks().held)) === 0 && (await t.redis.hlen(ks().heldEvents)) === 0, 'the events released');
      expect(await queues.events.count()).toBe(0);
      const batches = await queues.reports.getJobs(['waiting']);
      expect(batches.map((j) => j.name)).toEqual([REPORT_BATCH_JOB]);
      expect(batches[0]!.data.reports).toEqual(ds.map((d) => expect.objectContaining({ decisionId: d!.decisionId, writeStatus: 'skipped' })));
      expect(await t.redis.get(ks().reportBatch(ds[0]!.decisionId))).toBe(batches[0]!.id);
      for (const d of ds) expect(await queues.reports.getJob(jobIdFor('report', d!.decisionId))).toBeUndefined();
    });

    it('drain (the receiver\'s shutdown) resolves only once every decision\'s follow-ups are sent and its event released', async () => {
      await cache(3);
      const sender = lingeringSender();
      const decider = heldDecider({ sendReport: sender.send });
      const ev = event('k-10', 'c-10');
      const jobId = await held(ev);
      let deliver: (ok: boolean) => void = () => undefined;
      await decider(ev, jobId, new Promise<boolean>((r) => (deliver = r)));
      let drained = false;
      const draining = decider.drain().then(() => (drained = true));
      deliver(true);
      await waitFor(async () => (await t.redis.exists(ks().answered(decisionIdFor(scopedKey('k-10'))))) === 1, 'the write settled');
      expect(drained).toBe(false); // its report still waits in the sender
      await sender.flush();
      await draining;
      expect(await released(jobId)).toBe(true); // by the time drain resolved
      await decider.drain(); // nothing pending: at once
    });
  });
});
