/**
 * Chaos 8: how long a SIGKILLed worker's jobs take to be finished by another worker (issue 13 item 4: the docs
 * said "within lock + stalled interval, ≤ 60 s with the defaults"; a run measured 73 s).
 * One worker holds decide and apply jobs (every Genesys call takes 2.5 s) when it is SIGKILLed; a fresh worker
 * starts at once. For every job that was active in the dead worker, the time from the kill to its completion
 * is measured; the worst is printed and recorded, and must stay within the documented bound:
 * LOCK_DURATION_MS + 2 × STALLED_INTERVAL_MS + the job's own processing time. The lock expires at most one
 * lock after the kill; then a stalled check puts the job back. BullMQ 6 runs at most one check per
 * stalledInterval across all workers (moveStalledJobsToWait sets `stalled-check` with PX stalledInterval and a
 * worker whose timer fires while it exists skips its turn and waits a whole interval again), so two checks
 * can be up to 2 × stalledInterval apart. (Valid while LOCK_DURATION_MS ≥ 2 × STALLED_INTERVAL_MS, as with the
 * defaults 30 s / 15 s: ≤ 60 s. A first run with lock 10 s / interval 10 s measured 26.5 s, over L + I + processing.)
 * Run with lock 10 s / stalled interval 5 s so it stays short; the bound scales with the settings.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Cleanup, postWebhook, TEST_REDIS_URL, waitFor } from '@ivr/testing';
import { baseEnv, createCalls, makeEvents, openQueues, recordRow, scenarioRedis, secondsSince, startReceiverProcess, startSimProcess, startWorkerProcesses } from './harness';

const LOCK_MS = 10_000;
const STALLED_MS = 5_000;
const CALL_MS = 2_500;

describe('chaos 8: crash recovery bound', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('every job of a SIGKILLed worker completes within lock + 2 × stalled interval + processing', async () => {
    const t0 = Date.now();
    const { prefix } = scenarioRedis('bound', cleanup);
    const sim = await startSimProcess('8-bound', cleanup);
    await sim.control.setQueue('demo-queue', { idle: 8 });
    const queues = openQueues(TEST_REDIS_URL, prefix);
    cleanup.add('close queues', () => queues.close());
    const env = baseEnv({
      redisUrl: TEST_REDIS_URL,
      prefix,
      simUrl: sim.url,
      extra: { LOCK_DURATION_MS: String(LOCK_MS), STALLED_INTERVAL_MS: String(STALLED_MS), OCCUPANCY_CACHE_MS: '0', GENESYS_TIMEOUT_MS: '5000', WORKER_METRICS_PORT: '0' },
    });
    const [victim] = await startWorkerProcesses('8-bound', env, 1, queues, cleanup);
    const receiver = await startReceiverProcess('8-bound', env, cleanup);
    // Decide jobs wait on the occupancy call, apply jobs on the attribute write: both are held for seconds.
    await sim.control.fault({ match: 'observations', latencyMs: CALL_MS });
    await sim.control.fault({ match: 'attributes', latencyMs: CALL_MS });

    const events = makeEvents('bound', 40);
    await createCalls(sim.url, events); // calls exist before their webhooks (strict simulator)
    const first = events.slice(0, 20);
    await Promise.all(first.map((e) => postWebhook(receiver.url, e.body, e.key)));
    await waitFor(async () => (await queues.writes.getActiveCount()) > 0, 'apply jobs active', 30000, 50);
    await Promise.all(events.slice(20).map((e) => postWebhook(receiver.url, e.body, e.key)));
    await waitFor(async () => (await queues.events.getActiveCount()) > 0, 'decide jobs active', 30000, 50);

    const held = [...(await queues.events.getActive()).map((j) => ({ q: queues.events, id: j.id! })), ...(await queues.writes.getActive()).map((j) => ({ q: queues.writes, id: j.id! }))];
    victim!.proc.kill('SIGKILL');
    const killedAt = Date.now();
    await victim!.exited;
    await startWorkerProcesses('8-bound', env, 1, queues, cleanup, 2);

    const done = new Map<string, number>();
    await waitFor(
      async () => {
        for (const h of held) {
          if (done.has(`${h.q.name}:${h.id}`)) continue;
          if ((await h.q.getJobState(h.id)) === 'completed') done.set(`${h.q.name}:${h.id}`, Date.now() - killedAt);
        }
        return done.size === held.length;
      },
      `all ${held.length} jobs held by the killed worker to complete`,
      LOCK_MS + STALLED_MS + 60_000,
      100,
    );
    const worst = Math.max(...done.values());
    const bound = LOCK_MS + 2 * STALLED_MS + 2 * CALL_MS;
    console.log(`[chaos 8] ${held.length} jobs held by the SIGKILLed worker; all completed ${(worst / 1000).toFixed(1)} s after the kill (bound lock ${LOCK_MS / 1000} s + 2 × stalled interval ${STALLED_MS / 1000} s + processing ${(2 * CALL_MS) / 1000} s = ${bound / 1000} s)`);
    recordRow({
      scenario: '8 crash bound',
      load: `40 events, 1 worker, Genesys calls ${CALL_MS / 1000} s`,
      fault: `SIGKILL with ${held.length} jobs active; lock ${LOCK_MS / 1000} s, stalled check ${STALLED_MS / 1000} s`,
      result: `worst ${(worst / 1000).toFixed(1)} s from kill to completed (bound ${bound / 1000} s)`,
      figures: `jobs ${held.length}; median ${([...done.values()].sort((a, b) => a - b)[Math.floor(done.size / 2)]! / 1000).toFixed(1)} s`,
      seconds: secondsSince(t0),
      pass: worst <= bound,
    });
    expect(held.length).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(bound);
  }, 180_000);
});
