/**
 * Chaos 1: 10,000 webhooks, 30% of them re-deliveries of an earlier key (some concurrently in flight with their
 * original), over 50 keep-alive connections. Exactly one job per unique key, every unique event decided, applied
 * and stored, nothing lost, every answer 202 (new) or 200 (duplicate).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyspace } from '@ivr/queue-contract';
import { createEmbeddedStore } from '@ivr/reporting';
import { type Answer, Cleanup, countKeys, pool, postWebhook, tally, TEST_REDIS_URL, waitFor } from '@ivr/testing';
import { appliedInSim, baseEnv, createCalls, decidedCount, openQueues, type Queues, type Receiver, recordRow, scenarioRedis, secondsSince, type Sim, startReceiverProcess, startSimProcess, startWorkerProcesses, waitDrained } from './harness';

const TOTAL = Number(process.env.CHAOS_DUP_TOTAL ?? 10_000);
const DUP_SHARE = 0.3;
const CONNECTIONS = 50;
const UNIQUE = Math.round(TOTAL * (1 - DUP_SHARE));
const uniques = Array.from({ length: UNIQUE }, (_, i) => ({
  key: `dup-${i}`,
  body: { conversationId: `dup-conv-${i}`, participantId: `cust-${i}`, dtmf: String((i % 4) + 1) },
}));

/** Deterministic PRNG (mulberry32) so a failing order can be reproduced. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('chaos 1: duplicates under load', () => {
  const cleanup = new Cleanup();
  let sim: Sim;
  let receiver: Receiver;
  let queues: Queues;
  let prefix: string;
  let redis: ReturnType<typeof scenarioRedis>['redis'];

  beforeAll(async () => {
    ({ prefix, redis } = scenarioRedis('dup', cleanup));
    sim = await startSimProcess('1-duplicates', cleanup);
    await sim.control.setQueue('demo-queue', { idle: 8 });
    // The calls exist before their webhooks; created here, outside the timed test.
    await createCalls(sim.url, uniques);
    queues = openQueues(TEST_REDIS_URL, prefix);
    cleanup.add('close queues', () => queues.close());
    const env = baseEnv({ redisUrl: TEST_REDIS_URL, prefix, simUrl: sim.url });
    await startWorkerProcesses('1-duplicates', env, 2, queues, cleanup);
    receiver = await startReceiverProcess('1-duplicates', env, cleanup);
  });
  afterAll(() => cleanup.run());

  it(`${TOTAL} webhooks, ${Math.round(DUP_SHARE * 100)}% duplicates, ${CONNECTIONS} connections: one job per key, all decided, 0 lost`, async () => {
    const t0 = Date.now();
    const rand = rng(42);
    // Re-deliveries: half right next to their original (likely in flight at the same time), half anywhere later.
    const requests: typeof uniques = [];
    const later: typeof uniques = [];
    for (const u of uniques) {
      requests.push(u);
      if (requests.length + later.length >= TOTAL) continue;
      if (rand() < DUP_SHARE / (1 - DUP_SHARE)) (rand() < 0.5 ? requests : later).push(u);
    }
    while (requests.length + later.length < TOTAL) later.push(uniques[Math.floor(rand() * UNIQUE)]!);
    for (const d of later) requests.splice(Math.floor(rand() * requests.length) + 1, 0, d);
    expect(requests.length).toBe(TOTAL);
    const uniqueKeys = new Set(requests.map((r) => r.key));

    const answers: Answer[] = new Array(TOTAL);
    const sendStart = Date.now();
    await pool(requests, CONNECTIONS, async (r, i) => {
      answers[i] = await postWebhook(receiver.url, r.body, r.key);
    });
    const sendS = secondsSince(sendStart);
    const statuses = tally(answers);

    // Exactly one job per unique key, counted before the completed ones could age out.
    const jobCounts = await queues.events.getJobCounts();
    const jobs = Object.values(jobCounts).reduce((a, b) => a + b, 0);

    await waitFor(async () => (await decidedCount(redis, prefix, uniqueKeys)) === uniqueKeys.size, 'every unique event decided', 120_000, 500).catch(() => undefined);
    await waitDrained(queues, 'all queues drained', 120_000).catch(() => undefined);
    const decided = await decidedCount(redis, prefix, uniqueKeys);
    const decisionKeys = await countKeys(redis, keyspace(prefix).decisionPattern);
    const sim2 = await appliedInSim(sim.url, uniques.filter((u) => uniqueKeys.has(u.key)).map((u) => u.body.conversationId));
    const stored = await createEmbeddedStore(redis, prefix).count();
    const writes = Object.values(await queues.writes.getJobCounts()).reduce((a, b) => a + b, 0);
    const lost = uniqueKeys.size - decided;
    const accepted = statuses['202'] ?? 0;
    const dups = statuses['200'] ?? 0;

    const pass =
      accepted === uniqueKeys.size &&
      dups === TOTAL - uniqueKeys.size &&
      jobs === uniqueKeys.size &&
      decisionKeys === uniqueKeys.size &&
      decided === uniqueKeys.size &&
      sim2.applied === uniqueKeys.size &&
      stored === uniqueKeys.size &&
      writes === uniqueKeys.size;
    recordRow({
      scenario: '1 duplicates',
      load: `${TOTAL} webhooks (${uniqueKeys.size} unique), ${CONNECTIONS} conns, 2 workers`,
      fault: `${TOTAL - uniqueKeys.size} re-deliveries`,
      result: `lost ${lost}, extra jobs ${jobs - uniqueKeys.size}`,
      figures: `answers ${JSON.stringify(statuses)}; ivr-events jobs ${jobs}; decision keys ${decisionKeys}; applied ${sim2.applied}; stored ${stored}; ingest ${(TOTAL / sendS).toFixed(0)} req/s`,
      seconds: secondsSince(t0),
      pass,
    });

    expect(statuses, 'every answer is 202 (new) or 200 (duplicate)').toEqual({ '202': uniqueKeys.size, '200': TOTAL - uniqueKeys.size });
    expect(jobs, 'exactly one ivr-events job per unique key').toBe(uniqueKeys.size);
    expect(writes, 'exactly one genesys-writes job per decision').toBe(uniqueKeys.size);
    expect(decisionKeys, 'decision keys under the prefix').toBe(uniqueKeys.size);
    expect(decided, 'every unique key decided').toBe(uniqueKeys.size);
    expect(sim2.missing.slice(0, 5), 'conversations without attributes in the simulator').toEqual([]);
    expect(stored, 'documents in the embedded store').toBe(uniqueKeys.size);
  });
});
