/**
 * Chaos 10: the in-call path (INCALL_DECIDE) under a receiver crash. Two worker processes, a receiver deciding
 * `Prefer: wait` requests itself on cached figures (polled, OCCUPANCY_CACHE_MS 5 s: the first call after each expiry
 * goes to a worker). Mid-run the receiver is SIGKILLed with requests in flight (some stored as held events, no job,
 * and not yet decided; calls sent while no receiver listens fail to connect, status 0) and a new one takes over. Every
 * event answered 2xx is decided, every event stored is decided (a worker's sweep adds the jobs of the dead receiver's
 * held events once their 2 s are up), each decision is stored once, and each ends with a write outcome
 * (skipped when its answer was delivered, written otherwise: a write held by the dead receiver is not lost).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { jobIdForKey, scopedKey } from '@ivr/core';
import { createEmbeddedStore } from '@ivr/reporting';
import { type Answer, Cleanup, paced, postWebhook, tally, TEST_REDIS_URL, waitFor } from '@ivr/testing';
import { baseEnv, createCalls, decidedCount, failedCount, makeEvents, openQueues, type Queues, type Receiver, recordRow, scenarioRedis, secondsSince, type Sim, startReceiverProcess, startSimProcess, startWorkerProcesses, waitDrained } from './harness';

const EVENTS = 900;
const RATE = 90; // per second: ~10 s, the kill lands mid-run
const PREFER = { prefer: 'wait=2' };

describe('chaos 10: in-call decisions, the receiver SIGKILLed mid-run', () => {
  const cleanup = new Cleanup();
  let sim: Sim;
  let queues: Queues;
  let env: Record<string, string>;
  let prefix: string;
  let redis: ReturnType<typeof scenarioRedis>['redis'];

  beforeAll(async () => {
    ({ prefix, redis } = scenarioRedis('incall', cleanup));
    sim = await startSimProcess('10-incall-crash', cleanup);
    await sim.control.setQueue('demo-queue', { idle: 8 });
    queues = openQueues(TEST_REDIS_URL, prefix);
    cleanup.add('close queues', () => queues.close());
    env = baseEnv({ redisUrl: TEST_REDIS_URL, prefix, simUrl: sim.url, extra: { OCCUPANCY_CACHE_MS: '5000', INCALL_DECIDE: 'true' } });
    await startWorkerProcesses('10-incall-crash', env, 2, queues, cleanup);
  });
  afterAll(() => cleanup.run());

  it('every event answered or stored is decided once; the dead receiver\'s held events are decided by a worker', async () => {
    const t0 = Date.now();
    let receiver: Receiver = await startReceiverProcess('10-incall-crash', env, cleanup, 'receiver-a');
    const events = makeEvents('incall', EVENTS);
    await createCalls(sim.url, events);
    // The first call finds the cache cold (a worker polls and fills it); the next ones are decided in-call.
    const warm = await postWebhook(receiver.url, events[0]!.body, events[0]!.key, 10_000, PREFER);
    expect(warm.status).toBe(200);
    const answers: Answer[] = new Array(EVENTS);
    answers[0] = warm;
    let killedAt = -1;
    const killer = (async () => {
      await sleep(4000);
      killedAt = Date.now() - t0;
      receiver.proc.proc.kill('SIGKILL');
      await receiver.proc.exited;
      receiver = await startReceiverProcess('10-incall-crash', env, cleanup, 'receiver-b');
    })();
    await paced(events.slice(1), RATE, 60, async (e, i) => {
      answers[i + 1] = await postWebhook(receiver.url, e.body, e.key, 10_000, PREFER);
    });
    await killer;

    const keys = events.map((e) => e.key);
    const answered = keys.filter((_, i) => [200, 202].includes(answers[i]!.status));
    await waitDrained(queues, 'every queue drained (the held events of the dead receiver included)', 60_000).catch(() => undefined);
    await waitFor(async () => (await decidedCount(redis, prefix, answered)) === answered.length, 'every answered event decided', 30_000, 250).catch(() => undefined);
    // Stored but never answered (in flight at the kill): its job is still there (removed only once decided in-call).
    const undecidedStored: string[] = [];
    for (const k of keys) {
      if ((await decidedCount(redis, prefix, [scopedKey(k)])) === 1) continue;
      if (await queues.events.getJob(jobIdForKey(k))) undecidedStored.push(k);
    }
    const decidedAll = await decidedCount(redis, prefix, keys.map((k) => scopedKey(k)));
    await waitFor(async () => (await createEmbeddedStore(redis, prefix).count()) === decidedAll, 'every decision stored', 30_000, 250).catch(() => undefined);
    const stored = await createEmbeddedStore(redis, prefix).count();
    // Every decision's write ends somewhere (no held write lost with the receiver): skipped when its answer was
    // delivered (settled by the receiver, or by a write job that found the answered mark), written otherwise.
    const writeStatuses = async () => Object.values(await redis.hgetall(`${prefix}:ivr:store:docs`)).map((d) => String((JSON.parse(d) as { writeStatus?: string }).writeStatus ?? 'none'));
    await waitFor(async () => !(await writeStatuses()).includes('none'), 'every stored decision with its write outcome', 30_000, 250).catch(() => undefined);
    const writes: Record<string, number> = {};
    for (const w of await writeStatuses()) writes[w] = (writes[w] ?? 0) + 1;
    const decided = await decidedCount(redis, prefix, answered);
    const inCallAnswers = answers.filter((a) => a.status === 200 && a.body.includes('"decided"')).length;
    const failed = await failedCount(queues);
    const statuses = tally(answers);
    const pass = decided === answered.length && undecidedStored.length === 0 && stored === decidedAll && inCallAnswers > EVENTS / 2 && Object.values(failed).every((n) => n === 0) && !writes.none;
    recordRow({
      scenario: '10 in-call, receiver SIGKILL',
      load: `${EVENTS} Prefer: wait=2 calls at ${RATE}/s, 2 workers`,
      fault: `SIGKILL the receiver at ${(killedAt / 1000).toFixed(1)} s, a new one started`,
      result: `answered but undecided ${answered.length - decided}, stored but undecided ${undecidedStored.length}; unanswered but stored, decided by a worker ${decidedAll - decided}`,
      figures: `answers ${JSON.stringify(statuses)}; decided ${decidedAll} (answered ${answered.length}); stored ${stored}; writes ${JSON.stringify(writes)}; failed ${JSON.stringify(failed)}`,
      seconds: secondsSince(t0),
      pass,
    });

    expect(inCallAnswers, 'answers 200 decided').toBeGreaterThan(EVENTS / 2);
    expect(decided, 'every answered event decided').toBe(answered.length);
    expect(undecidedStored.slice(0, 5), 'events stored whose job never decided them').toEqual([]);
    expect(stored, 'each decision stored once').toBe(decidedAll);
    expect(writes.none ?? 0, 'stored decisions without a write outcome').toBe(0);
    expect(failed, 'no job failed for good').toEqual({ 'ivr-events': 0, 'genesys-writes': 0, 'decision-reports': 0 });
  });
});
