/**
 * Chaos 4: Genesys misbehaves while calls come in: 30% 409 on attribute writes, a burst of 429 with
 * Retry-After 1 s, 500s, 2 s latency on some calls, every token revoked twice mid-run. Every decision is
 * applied within APPLY_ATTEMPTS; a separate set of calls whose conversation Genesys answers 404 for end
 * failed (not retried) with Genesys' message and contextId in job.failedReason, in the failed list that
 * Bull Board shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmbeddedStore } from '@ivr/reporting';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Answer, Cleanup, paced, postWebhook, tally, TEST_REDIS_URL, waitFor } from '@ivr/testing';
import { appliedInSim, baseEnv, createCalls, decidedCount, makeEvents, openQueues, type Queues, type Receiver, recordRow, scenarioRedis, secondsSince, type Sim, startReceiverProcess, startSimProcess, startWorkerProcesses, waitDrained } from './harness';

const GOOD = 300;
const GONE = 20;
const APPLY_ATTEMPTS = 12;
const RATE = 40;

describe('chaos 4: Genesys faults (409, 429, 5xx, latency, token expiry, 404)', () => {
  const cleanup = new Cleanup();
  let sim: Sim;
  let receiver: Receiver;
  let queues: Queues;
  let prefix: string;
  let redis: ReturnType<typeof scenarioRedis>['redis'];

  beforeAll(async () => {
    ({ prefix, redis } = scenarioRedis('gen', cleanup));
    sim = await startSimProcess('4-genesys-faults', cleanup);
    await sim.control.setQueue('demo-queue', { idle: 8 });
    queues = openQueues(TEST_REDIS_URL, prefix);
    cleanup.add('close queues', () => queues.close());
    const env = baseEnv({ redisUrl: TEST_REDIS_URL, prefix, simUrl: sim.url, extra: { APPLY_ATTEMPTS: String(APPLY_ATTEMPTS), APPLY_BACKOFF_MS: '100', OCCUPANCY_CACHE_MS: '200' } });
    await startWorkerProcesses('4-genesys-faults', env, 2, queues, cleanup);
    receiver = await startReceiverProcess('4-genesys-faults', env, cleanup);
  });
  afterAll(() => cleanup.run());

  it('every decision applied within APPLY_ATTEMPTS; 404 conversations fail for good with the reason', async () => {
    const good = makeEvents('gfault', GOOD);
    const gone = makeEvents('gone', GONE);
    // Only the good calls exist: the strict simulator answers 404 for the gone ones, as Genesys does.
    await createCalls(sim.url, good);
    const t0 = Date.now();
    // Order matters: the first matching fault with a status answers. The gone calls were never created, so the
    // strict simulator answers 404 for them anyway; this fault answers it first, before any retryable fault below.
    await sim.control.fault({ match: '/gone-conv-', status: 404, rate: 1 });
    await sim.control.fault({ match: 'attributes', status: 429, retryAfterS: 1, rate: 0.2, count: 8 });
    // Rarer faults before the 409 one: a request both would hit answers with the rarer status.
    await sim.control.fault({ match: 'attributes', status: 500, rate: 0.1, count: 20 });
    await sim.control.fault({ match: 'attributes', status: 503, rate: 0.07, count: 5 });
    await sim.control.fault({ match: 'attributes', status: 409, rate: 0.3 });
    await sim.control.fault({ match: 'attributes', latencyMs: 2000, rate: 0.05, count: 20 });
    await sim.control.fault({ match: 'observations', latencyMs: 2000, rate: 0.2, count: 5 });

    const all = [...good, ...gone].sort((a, b) => Number(a.key.split('-').pop()) - Number(b.key.split('-').pop()));
    const answers: Answer[] = new Array(all.length);
    let revoked = 0;
    const expiry = (async () => {
      for (const at of [2500, 5000]) {
        await sleep(at - (Date.now() - t0));
        revoked += await sim.control.expireTokens();
      }
    })();
    await paced(all, RATE, 50, async (e, i) => {
      answers[i] = await postWebhook(receiver.url, e.body, e.key);
    });
    await expiry;

    const goodKeys = good.map((e) => e.key);
    const goneKeys = gone.map((e) => e.key);
    await waitFor(async () => (await queues.writes.getCompletedCount()) >= GOOD && (await queues.writes.getFailedCount()) >= GONE, 'writes completed and 404s failed', 90000, 500).catch(() => undefined);
    await waitDrained(queues, 'queues drained', 60000).catch(() => undefined);
    await sim.control.clearFaults();

    const decided = await decidedCount(redis, prefix, [...goodKeys, ...goneKeys]);
    const applied = await appliedInSim(sim.url, good.map((e) => e.cid));
    const completed = await queues.writes.getCompleted(0, -1);
    const maxAttempts = Math.max(0, ...completed.map((j) => j.attemptsMade));
    const retried = completed.filter((j) => j.attemptsMade > 1).length;
    const overBudget = completed.filter((j) => j.attemptsMade > APPLY_ATTEMPTS);
    const failedJobs = await queues.writes.getFailed(0, -1);
    const failedCids = new Set(failedJobs.map((j) => (j.data as { conversationId: string }).conversationId));
    const goneCids = new Set(gone.map((e) => e.cid));
    const withReason = failedJobs.filter((j) => /Genesys 404/.test(j.failedReason) && /not\.found/.test(j.failedReason) && /contextId [0-9a-f-]{36}/.test(j.failedReason));
    const failedRetried = failedJobs.filter((j) => j.attemptsMade > 1);
    const stats = await sim.control.stats();
    const attr = stats.byEndpoint['attributes'] ?? {};
    const stored = await createEmbeddedStore(redis, prefix).count();
    const statuses = tally(answers);

    const pass =
      decided === GOOD + GONE &&
      applied.applied === GOOD &&
      overBudget.length === 0 &&
      failedJobs.length === GONE &&
      [...failedCids].every((c) => goneCids.has(c)) &&
      withReason.length === GONE &&
      failedRetried.length === 0 &&
      stored === GOOD + GONE;
    recordRow({
      scenario: '4 Genesys faults',
      load: `${GOOD + GONE} events at ${RATE}/s, 2 workers, APPLY_ATTEMPTS ${APPLY_ATTEMPTS}`,
      fault: `409 30%, 429 x8 (Retry-After 1 s), 500/503, 2 s latency, ${revoked} tokens revoked, ${GONE} convs 404`,
      result: `applied ${applied.applied}/${GOOD}; 404s failed ${failedJobs.length}/${GONE} with reason ${withReason.length}`,
      figures: `sim attributes ${JSON.stringify(attr)}; token calls ${stats.countByEndpoint['token'] ?? 0}; writes retried ${retried}, max attemptsMade ${maxAttempts}; stored ${stored}; answers ${JSON.stringify(statuses)}`,
      seconds: secondsSince(t0),
      pass,
    });

    expect(statuses).toEqual({ '202': GOOD + GONE });
    expect(decided, 'every event decided (the 404 ones too: the decision exists, only its write failed)').toBe(GOOD + GONE);
    expect(applied.missing.slice(0, 5), 'decisions never applied').toEqual([]);
    expect(overBudget.map((j) => `${j.id}:${j.attemptsMade}`), `completed writes that used more than ${APPLY_ATTEMPTS} attempts`).toEqual([]);
    expect(attr['409'] ?? 0, 'the 409 fault was hit').toBeGreaterThan(0);
    expect(attr['429'] ?? 0, 'the 429 fault was hit').toBeGreaterThan(0);
    expect(attr['401'] ?? 0, 'calls with a revoked token got 401 (and the client logged in again)').toBeGreaterThan(0);
    expect(attr['500'] ?? 0, 'the 500 fault was hit').toBeGreaterThan(0);
    expect(attr['503'] ?? 0, 'the 503 fault was hit').toBeGreaterThan(0);
    expect(retried, 'writes needed more than one attempt').toBeGreaterThan(0);
    expect(failedJobs.length, 'failed writes = the 404 conversations').toBe(GONE);
    expect([...failedCids].sort()).toEqual([...goneCids].sort());
    expect(failedRetried.map((j) => j.id), '404 is not retried').toEqual([]);
    expect(withReason.length, `failedReason carries Genesys' status, code, message and contextId; e.g. ${failedJobs[0]?.failedReason}`).toBe(GONE);
    expect(stored, 'every decision stored').toBe(GOOD + GONE);
  });
});
