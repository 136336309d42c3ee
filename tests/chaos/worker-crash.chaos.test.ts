/**
 * Chaos 2: three worker processes; one is SIGKILLed while it holds active jobs (every Genesys write takes
 * 300 ms, so each worker always has writes in flight). Its locks expire (LOCK_DURATION_MS 5000), another
 * worker's stalled check (STALLED_INTERVAL_MS 2000) puts the jobs back, and every accepted event is decided,
 * written to the simulator and stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '@ivr/reporting';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Answer, Cleanup, type NodeProcess, paced, postWebhook, tally, TEST_REDIS_URL, waitFor } from '@ivr/testing';
import { appliedInSim, baseEnv, countStalled, createCalls, decidedCount, failedCount, makeEvents, openQueues, type Queues, type Receiver, recordRow, scenarioRedis, secondsSince, type Sim, startReceiverProcess, startSimProcess, startWorkerProcesses, waitDrained } from './harness';

const EVENTS = 1200;
const RATE = 120; // per second, so the run lasts ~10 s and the kill lands mid-run

describe('chaos 2: a worker process is SIGKILLed mid-run', () => {
  const cleanup = new Cleanup();
  let sim: Sim;
  let receiver: Receiver;
  let queues: Queues;
  let workers: NodeProcess[];
  let prefix: string;
  let redis: ReturnType<typeof scenarioRedis>['redis'];
  let stalled: ReturnType<typeof countStalled>;

  beforeAll(async () => {
    ({ prefix, redis } = scenarioRedis('crash', cleanup));
    sim = await startSimProcess('2-worker-crash', cleanup);
    await sim.control.setQueue('demo-queue', { idle: 8 });
    queues = openQueues(TEST_REDIS_URL, prefix);
    cleanup.add('close queues', () => queues.close());
    stalled = countStalled(TEST_REDIS_URL, prefix);
    cleanup.add('close queue events', () => stalled.close());
    await stalled.ready;
    const env = baseEnv({ redisUrl: TEST_REDIS_URL, prefix, simUrl: sim.url, extra: { LOCK_DURATION_MS: '5000', STALLED_INTERVAL_MS: '2000' } });
    workers = await startWorkerProcesses('2-worker-crash', env, 3, queues, cleanup);
    receiver = await startReceiverProcess('2-worker-crash', env, cleanup);
  });
  afterAll(() => cleanup.run());

  it('every accepted event is decided and applied; the killed worker\'s jobs are recovered as stalled', async () => {
    const t0 = Date.now();
    await sim.control.fault({ match: 'attributes', latencyMs: 300 });
    const events = makeEvents('crash', EVENTS);
    await createCalls(sim.url, events);
    const answers: Answer[] = new Array(EVENTS);
    const victim = workers[0]!;
    let activeAtKill = -1;
    const killer = (async () => {
      // Mid-run, once the writes queue is busy (every worker holds writes in flight), kill worker-1 with no warning.
      await sleep(3000);
      await waitFor(async () => (await queues.writes.getActiveCount()) >= 30, 'writes in flight before the kill', 20000, 50);
      activeAtKill = (await queues.writes.getActiveCount()) + (await queues.events.getActiveCount()) + (await queues.reports.getActiveCount());
      victim.proc.kill('SIGKILL');
      await victim.exited;
    })();
    await paced(events, RATE, 50, async (e, i) => {
      answers[i] = await postWebhook(receiver.url, e.body, e.key);
    });
    await killer;
    const accepted = events.filter((_, i) => answers[i]?.status === 202).map((e) => e.key);

    await waitFor(async () => (await decidedCount(redis, prefix, accepted)) === accepted.length, 'every accepted event decided', 60000, 500).catch(() => undefined);
    await waitDrained(queues, 'all queues drained after the crash', 60000).catch(() => undefined);
    await sim.control.clearFaults();
    const decided = await decidedCount(redis, prefix, accepted);
    const acceptedCids = events.filter((_, i) => answers[i]?.status === 202).map((e) => e.cid);
    const applied = await appliedInSim(sim.url, acceptedCids);
    const stored = await createEmbeddedStore(redis, prefix).count();
    const failed = await failedCount(queues);
    const stalledTotal = Object.values(stalled.counts).reduce((a, b) => a + b, 0);
    const statuses = tally(answers);

    const pass = accepted.length === EVENTS && decided === accepted.length && applied.applied === accepted.length && stored === accepted.length && stalledTotal > 0 && Object.values(failed).every((n) => n === 0);
    recordRow({
      scenario: '2 worker SIGKILL',
      load: `${EVENTS} events at ${RATE}/s, 3 workers`,
      fault: `SIGKILL worker-1 mid-run (${activeAtKill} jobs active); lock 5 s, stalled check 2 s`,
      result: `lost ${accepted.length - decided}, not applied ${accepted.length - applied.applied}`,
      figures: `answers ${JSON.stringify(statuses)}; decided ${decided}; applied ${applied.applied}; stored ${stored}; stalled recovered ${JSON.stringify(stalled.counts)}; failed ${JSON.stringify(failed)}`,
      seconds: secondsSince(t0),
      pass,
    });

    expect(victim.exitCode(), 'the victim was killed').not.toBeNull();
    expect(statuses).toEqual({ '202': EVENTS });
    expect(decided, 'every accepted event decided').toBe(accepted.length);
    expect(applied.missing.slice(0, 5), 'accepted events whose decision never reached the simulator').toEqual([]);
    expect(stored, 'documents in the store').toBe(accepted.length);
    expect(stalledTotal, 'jobs the killed worker held were recovered as stalled').toBeGreaterThan(0);
    expect(failed, 'no job failed for good').toEqual({ 'ivr-events': 0, 'genesys-writes': 0, 'decision-reports': 0 });
  });
});
