/**
 * Chaos 6: SIGTERM to a worker process during load (every Genesys write takes 500 ms, so it always has writes in
 * flight). It stops taking jobs, finishes the ones it holds, flushes its report batch and exits 0 within the
 * grace period; nothing is left for stalled-job recovery (0 stalled), no job stays active as long as a lock
 * (an orphaned job would, until the lock expires and a stalled check puts it back), and every event is decided,
 * applied and stored by the remaining worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '@ivr/reporting';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Answer, Cleanup, type NodeProcess, paced, postWebhook, tally, TEST_REDIS_URL, waitFor } from '@ivr/testing';
import { appliedInSim, baseEnv, countStalled, createCalls, decidedCount, failedCount, makeEvents, openQueues, type Queues, type Receiver, recordRow, scenarioRedis, secondsSince, type Sim, startReceiverProcess, startSimProcess, startWorkerProcesses, waitDrained } from './harness';

const EVENTS = 600;
const RATE = 60;
const GRACE_MS = 10000;
const STALLED_INTERVAL_MS = 2000;
const LOCK_DURATION_MS = 5000;

describe('chaos 6: graceful shutdown (SIGTERM) of a worker under load', () => {
  const cleanup = new Cleanup();
  let sim: Sim;
  let receiver: Receiver;
  let queues: Queues;
  let workers: NodeProcess[];
  let prefix: string;
  let redis: ReturnType<typeof scenarioRedis>['redis'];
  let stalled: ReturnType<typeof countStalled>;

  beforeAll(async () => {
    ({ prefix, redis } = scenarioRedis('term', cleanup));
    sim = await startSimProcess('6-sigterm', cleanup);
    await sim.control.setQueue('demo-queue', { idle: 8 });
    queues = openQueues(TEST_REDIS_URL, prefix);
    cleanup.add('close queues', () => queues.close());
    stalled = countStalled(TEST_REDIS_URL, prefix);
    cleanup.add('close queue events', () => stalled.close());
    await stalled.ready;
    const env = baseEnv({
      redisUrl: TEST_REDIS_URL,
      prefix,
      simUrl: sim.url,
      extra: { SHUTDOWN_GRACE_MS: String(GRACE_MS), STALLED_INTERVAL_MS: String(STALLED_INTERVAL_MS), LOCK_DURATION_MS: String(LOCK_DURATION_MS) },
    });
    workers = await startWorkerProcesses('6-sigterm', env, 2, queues, cleanup);
    receiver = await startReceiverProcess('6-sigterm', env, cleanup);
  });
  afterAll(() => cleanup.run());

  it('the worker finishes its in-flight jobs and exits 0 within the grace period; nothing stalls; everything decided', async () => {
    const t0 = Date.now();
    await sim.control.fault({ match: 'attributes', latencyMs: 500 });
    const events = makeEvents('term', EVENTS);
    await createCalls(sim.url, events);
    const answers: Answer[] = new Array(EVENTS);
    const victim = workers[0]!;

    // Watch every active job: how long does any job stay active (an orphaned one would stay until its lock expires)?
    const activeSince = new Map<string, number>();
    let maxActiveMs = 0;
    let longest = '';
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const now = Date.now();
        const seen = new Set<string>();
        for (const q of queues.all) {
          for (const j of await q.getActive()) {
            const id = `${q.name}:${j.id}:${j.attemptsStarted ?? 0}`;
            seen.add(id);
            const since = activeSince.get(id) ?? Math.max(j.processedOn ?? now, now - 250);
            activeSince.set(id, since);
            if (now - since > maxActiveMs) {
              maxActiveMs = now - since;
              longest = id;
            }
          }
        }
        for (const id of activeSince.keys()) if (!seen.has(id)) activeSince.delete(id);
        await sleep(200);
      }
    })();

    let inFlightAtTerm = -1;
    let exitMs = -1;
    let exit: number | string | undefined; // exit code, or the signal that ended it
    const terminator = (async () => {
      await sleep(3000);
      await waitFor(async () => (await queues.writes.getActiveCount()) >= 20, 'writes in flight before SIGTERM', 20000, 50);
      inFlightAtTerm = (await queues.writes.getActiveCount()) + (await queues.events.getActiveCount()) + (await queues.reports.getActiveCount());
      const tTerm = Date.now();
      victim.proc.kill('SIGTERM');
      const timer = setTimeout(() => victim.proc.kill('SIGKILL'), GRACE_MS + 5000);
      exit = await victim.exited;
      clearTimeout(timer);
      exitMs = Date.now() - tTerm;
    })();
    await paced(events, RATE, 50, async (e, i) => {
      answers[i] = await postWebhook(receiver.url, e.body, e.key);
    });
    await terminator;
    const keys = events.map((e) => e.key);
    await waitFor(async () => (await decidedCount(redis, prefix, keys)) === EVENTS, 'every event decided', 60000, 500).catch(() => undefined);
    await waitDrained(queues, 'queues drained', 60000).catch(() => undefined);
    // One more stalled-check period so a job orphaned by the shutdown would have been reported.
    await sleep(STALLED_INTERVAL_MS + 500);
    watching = false;
    await watcher;
    await sim.control.clearFaults();

    const decided = await decidedCount(redis, prefix, keys);
    const applied = await appliedInSim(sim.url, events.map((e) => e.cid));
    const stored = await createEmbeddedStore(redis, prefix).count();
    const failed = await failedCount(queues);
    const stalledTotal = Object.values(stalled.counts).reduce((a, b) => a + b, 0);
    const statuses = tally(answers);

    const pass =
      exit === 0 && exitMs <= GRACE_MS && stalledTotal === 0 && maxActiveMs < LOCK_DURATION_MS && decided === EVENTS && applied.applied === EVENTS && stored === EVENTS;
    recordRow({
      scenario: '6 worker SIGTERM',
      load: `${EVENTS} events at ${RATE}/s, 2 workers, writes take 500 ms`,
      fault: `SIGTERM worker-1 with ${inFlightAtTerm} jobs active; grace ${GRACE_MS / 1000} s`,
      result: `exit ${exit} after ${(exitMs / 1000).toFixed(1)} s; stalled ${stalledTotal}; lost ${EVENTS - decided}`,
      figures: `longest active ${(maxActiveMs / 1000).toFixed(1)} s (${longest}); decided ${decided}; applied ${applied.applied}; stored ${stored}; failed ${JSON.stringify(failed)}; answers ${JSON.stringify(statuses)}`,
      seconds: secondsSince(t0),
      pass,
    });

    expect(statuses).toEqual({ '202': EVENTS });
    expect(exit, `worker exit (log tail:\n${victim.tail()})`).toBe(0);
    expect(exitMs, 'exited within the grace period').toBeLessThanOrEqual(GRACE_MS);
    expect(stalled.counts, 'jobs left for stalled recovery (a graceful stop leaves none)').toEqual({ 'ivr-events': 0, 'genesys-writes': 0, 'decision-reports': 0 });
    // A job orphaned by the stopping worker would stay active until its lock expires (LOCK_DURATION_MS) and the next
    // stalled check (STALLED_INTERVAL_MS) puts it back; every job here stays active only for its own processing time.
    expect(maxActiveMs, `longest time one job stayed active (${longest})`).toBeLessThan(LOCK_DURATION_MS);
    expect(decided, 'every event decided').toBe(EVENTS);
    expect(applied.missing.slice(0, 5), 'events not applied').toEqual([]);
    expect(stored, 'documents in the store').toBe(EVENTS);
    expect(failed).toEqual({ 'ivr-events': 0, 'genesys-writes': 0, 'decision-reports': 0 });
  });
});
