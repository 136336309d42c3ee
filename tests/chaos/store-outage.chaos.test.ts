/**
 * Chaos 5: the decision store (Elasticsearch) is down for 30 s under load: connections refused for 15 s, then
 * 503 (no master) for 15 s. The workers use the real Elasticsearch store code path (@elastic/elasticsearch
 * client, `_bulk` create with `_id` = decisionId) against a minimal fake that can be taken down. Decisions and
 * Genesys writes carry on; report jobs fail and retry with the default backoff (decision-reports: 20 attempts,
 * exponential from 500 ms, which spans far more than 30 s); afterwards the backlog drains and every decision
 * is in the store exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionIdFor } from '@ivr/core';
import { defaultJobOptions } from '@ivr/queues';
import { waitFor } from '@ivr/testing';
import { startFakeEs, type FakeEs } from './fake-es';
import {
  appliedInSim,
  createCalls,
  baseEnv,
  Cleanup,
  decidedCount,
  failedCount,
  makeEvents,
  openQueues,
  paced,
  postWebhook,
  recordRow,
  scenarioRedis,
  secondsSince,
  SHARED_REDIS_URL,
  sleep,
  startReceiverProcess,
  startSimProcess,
  startWorkerProcesses,
  tally,
  type Answer,
  type Queues,
  type Receiver,
  type Sim,
} from './harness';

const RATE = 15;
const UP_BEFORE_S = 3;
const REFUSE_S = 15;
const UNAVAILABLE_S = 15;
const LOAD_S = UP_BEFORE_S + REFUSE_S + UNAVAILABLE_S + 3;
const EVENTS = RATE * LOAD_S;

/** Longest time a report job can keep retrying with the default options (upper bound of the jittered backoff). */
function reportRetrySpanMs(): { attempts: number; spanMs: number } {
  const o = defaultJobOptions({ applyAttempts: 5, applyBackoffMs: 1000 })['decision-reports']!;
  const attempts = o.attempts ?? 1;
  const b = o.backoff as { type: string; delay: number; jitter?: number };
  let minSpan = 0;
  for (let n = 1; n < attempts; n++) minSpan += (b.type === 'exponential' ? 2 ** (n - 1) * b.delay : b.delay) * (1 - (b.jitter ?? 0));
  return { attempts, spanMs: minSpan };
}

describe('chaos 5: decision store down for 30 s', () => {
  const cleanup = new Cleanup();
  let sim: Sim;
  let receiver: Receiver;
  let queues: Queues;
  let es: FakeEs;
  let prefix: string;
  let redis: ReturnType<typeof scenarioRedis>['redis'];

  beforeAll(async () => {
    ({ prefix, redis } = scenarioRedis('store', cleanup));
    es = await startFakeEs();
    cleanup.add('close fake Elasticsearch', () => es.close());
    sim = await startSimProcess('5-store-outage', cleanup);
    await sim.control.setQueue('demo-queue', { idle: 8 });
    queues = openQueues(SHARED_REDIS_URL, prefix);
    cleanup.add('close queues', () => queues.close());
    const env = baseEnv({ redisUrl: SHARED_REDIS_URL, prefix, simUrl: sim.url, extra: { ELASTICSEARCH_URL: es.url, ELASTICSEARCH_INDEX: `decisions-${prefix.toLowerCase()}` } });
    await startWorkerProcesses('5-store-outage', env, 2, queues, cleanup);
    receiver = await startReceiverProcess('5-store-outage', env, cleanup);
  });
  afterAll(() => cleanup.run());

  it('reports retry through the outage; 0 documents lost, none duplicated; the backlog drains', async () => {
    const { attempts, spanMs } = reportRetrySpanMs();
    expect(spanMs, `default decision-reports options (${attempts} attempts) must outlast a 30 s store outage`).toBeGreaterThan((REFUSE_S + UNAVAILABLE_S) * 1000 * 2);

    const t0 = Date.now();
    const events = makeEvents('store', EVENTS);
    await createCalls(sim.url, events);
    const answers: Answer[] = new Array(EVENTS);
    let tDown = 0;
    let tUp = 0;
    let docsAtRecovery = 0;
    const outage = (async () => {
      await sleep(UP_BEFORE_S * 1000);
      tDown = Date.now();
      await es.setMode('refuse');
      await sleep(REFUSE_S * 1000);
      await es.setMode('unavailable');
      await sleep(UNAVAILABLE_S * 1000);
      docsAtRecovery = es.docs.size;
      await es.setMode('up');
      tUp = Date.now();
    })();
    await paced(events, RATE, 50, async (e, i) => {
      answers[i] = await postWebhook(receiver.url, e.body, e.key);
    });
    await outage;
    const keys = events.map((e) => e.key);

    await waitFor(async () => (await decidedCount(redis, prefix, keys)) === EVENTS, 'every event decided', 30000, 500).catch(() => undefined);
    const decided = await decidedCount(redis, prefix, keys);
    // Drain: the slowest report job may be in a backoff of up to ~2x the outage.
    await waitFor(
      async () => {
        const c = await queues.reports.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
        return Object.values(c).every((v) => v === 0) && (await queues.reports.getCompletedCount()) >= decided;
      },
      'decision-reports drained after the store came back',
      90000,
      500,
    ).catch(() => undefined);
    const drainS = (Date.now() - tUp) / 1000;
    const missing = keys.filter((k) => !es.docs.has(decisionIdFor(k)));
    const completed = await queues.reports.getCompleted(0, -1);
    const retriedReports = completed.filter((j) => j.attemptsMade > 1);
    const maxAttempts = Math.max(0, ...completed.map((j) => j.attemptsMade));
    const failed = await failedCount(queues);
    const applied = await appliedInSim(sim.url, events.map((e) => e.cid));
    const statuses = tally(answers);

    const pass = decided === EVENTS && missing.length === 0 && es.docs.size === EVENTS && es.stats.createdTwice === 0 && retriedReports.length > 0 && failed['decision-reports'] === 0 && applied.applied === EVENTS;
    recordRow({
      scenario: '5 store down 30 s',
      load: `${EVENTS} events at ${RATE}/s, 2 workers, Elasticsearch store`,
      fault: `ES refuses connections ${REFUSE_S} s, then 503 ${UNAVAILABLE_S} s`,
      result: `lost ${missing.length} docs, duplicated ${es.stats.createdTwice}`,
      figures: `decided ${decided}; docs ${es.docs.size} (${docsAtRecovery} when the store came back); report jobs retried ${retriedReports.length}, max attemptsMade ${maxAttempts}/${attempts}; drained ${drainS.toFixed(1)} s after recovery; 503s served ${es.stats.unavailableAnswers}; _bulk ${es.stats.bulkRequests}, 409 dup ${es.stats.conflicts}; applied ${applied.applied} during outage; failed ${JSON.stringify(failed)}`,
      seconds: secondsSince(t0),
      pass,
    });

    expect(statuses).toEqual({ '202': EVENTS });
    expect(tDown).toBeGreaterThan(0);
    expect(decided, 'decisions continue while the store is down').toBe(EVENTS);
    expect(applied.missing.slice(0, 5), 'Genesys writes continue while the store is down').toEqual([]);
    expect(retriedReports.length, 'report jobs that needed retries').toBeGreaterThan(0);
    expect(es.stats.unavailableAnswers, 'the 503 phase was exercised').toBeGreaterThan(0);
    expect(missing.slice(0, 5), 'decisions missing from the store').toEqual([]);
    expect(es.docs.size, 'documents in the store').toBe(EVENTS);
    expect(es.stats.createdTwice, 'a document created twice').toBe(0);
    expect(failed['decision-reports'], 'report jobs failed for good').toBe(0);
  });
});
