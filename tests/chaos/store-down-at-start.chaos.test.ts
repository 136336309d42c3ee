/**
 * Chaos 5b: the decision store (a REAL Elasticsearch node, the chaos suite's own on CHAOS_ES_PORT) is DOWN when the
 * workers start. They start anyway (the store's index template is retried in the background), decide every call
 * and write it to Genesys; report jobs wait with the reason visible (job failure reason, worker log) and are
 * stored, once each, after the node comes back. Issue 13 item 2, worker side.
 */
import type { EsClient as Client } from '@ivr/reporting/real-elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionIdFor } from '@ivr/core';
import { type Answer, Cleanup, type NodeProcess, paced, postWebhook, tally, TEST_REDIS_URL, waitFor } from '@ivr/testing';
import { appliedInSim, baseEnv, createCalls, decidedCount, failedCount, makeEvents, openQueues, type Queues, type Receiver, recordRow, reportsDone, scenarioRedis, secondsSince, type Sim, startReceiverProcess, startSimProcess, startWorkerProcesses } from './harness';
import { CHAOS_ES_URL, chaosClient, startChaosNode, stopChaosNode, storedFigures } from './store-outage-es';

const RATE = 15;
const EVENTS = 150;
const SCENARIO = '5b-store-down-at-start';

// Started (and fetched, the first time) here so that it can be stopped for real before the workers start.
const node = await startChaosNode();
if (!node.run) console.warn(`[chaos 5b] skipped: ${node.problem}`);

describe.runIf(node.run)('chaos 5b: decision store (real Elasticsearch) down when the workers start', () => {
  const cleanup = new Cleanup();
  let sim: Sim;
  let receiver: Receiver;
  let queues: Queues;
  let workers: NodeProcess[];
  let es: Client;
  let index: string;
  let prefix: string;
  let redis: ReturnType<typeof scenarioRedis>['redis'];

  beforeAll(async () => {
    if (node.problem) throw new Error(node.problem);
    ({ prefix, redis } = scenarioRedis('storestart', cleanup));
    index = `decisions-${prefix.toLowerCase()}`;
    es = chaosClient();
    cleanup.add('delete the index and template, close the client', async () => {
      await startChaosNode(); // leave the node running for whoever comes next (.ci/run stops it)
      await es.indices.delete({ index, ignore_unavailable: true }).catch(() => undefined);
      await es.indices.deleteIndexTemplate({ name: index }).catch(() => undefined);
      await es.close();
    });
    await stopChaosNode();
    sim = await startSimProcess(SCENARIO, cleanup);
    await sim.control.setQueue('demo-queue', { idle: 8 });
    queues = openQueues(TEST_REDIS_URL, prefix);
    cleanup.add('close queues', () => queues.close());
    const env = baseEnv({ redisUrl: TEST_REDIS_URL, prefix, simUrl: sim.url, extra: { ELASTICSEARCH_URL: CHAOS_ES_URL, ELASTICSEARCH_INDEX: index } });
    // Before issue 13 the worker exited here, on the failed index-template call.
    workers = await startWorkerProcesses(SCENARIO, env, 2, queues, cleanup);
    receiver = await startReceiverProcess(SCENARIO, env, cleanup);
  }, 240_000);
  afterAll(() => cleanup.run(), 240_000);

  it('decides and writes to Genesys with the store down; stores everything once it is back', async () => {
    const t0 = Date.now();
    const events = makeEvents('storestart', EVENTS);
    await createCalls(sim.url, events); // calls exist before their webhooks (strict simulator)
    const keys = events.map((e) => e.key);
    const answers: Answer[] = new Array(EVENTS);
    await paced(events, RATE, 50, async (e, i) => {
      answers[i] = await postWebhook(receiver.url, e.body, e.key);
    });
    await waitFor(async () => (await decidedCount(redis, prefix, keys)) === EVENTS, 'every event decided with the store down', 30000, 250).catch(() => undefined);
    const decidedWhileDown = await decidedCount(redis, prefix, keys);
    const appliedWhileDown = await appliedInSim(sim.url, events.map((e) => e.cid));
    const waiting = await queues.reports.getJobs(['delayed', 'waiting', 'active']);
    const reasonWhileDown = waiting.find((j) => j.failedReason)?.failedReason ?? '';
    const storedWhileDown = await queues.reports.getCompletedCount();
    const aliveWhileDown = workers.filter((w) => w.exitCode() === null).length;
    const logSaysWhy = workers.some((w) => /"msg":"decision store not initialised; retrying".*ECONNREFUSED|ECONNREFUSED.*"msg":"decision store not initialised; retrying"/.test(w.output()));

    const tStart = Date.now();
    const up = await startChaosNode();
    if (up.problem) throw new Error(up.problem);
    const tUp = Date.now();
    // Every decision's document (in report-batch jobs) and its write's outcome (a job each, recorded on the document).
    await waitFor(async () => {
      const r = await reportsDone(queues);
      return r.documents >= EVENTS && r.outcomes >= EVENTS;
    }, 'every report and write outcome stored after the store came back', 180000, 500).catch(() => undefined);
    const drainS = (Date.now() - tUp) / 1000;
    const stored = await storedFigures(es, index, keys.map((k) => decisionIdFor(k)));
    const mapping = await es.indices.getMapping({ index });
    const dtmfType = (mapping[index]?.mappings.properties?.dtmf as { type?: string } | undefined)?.type;
    const failed = await failedCount(queues);
    const statuses = tally(answers);

    const pass =
      aliveWhileDown === 2 && decidedWhileDown === EVENTS && appliedWhileDown.applied === EVENTS && storedWhileDown === 0 && /not initialised yet/.test(reasonWhileDown) &&
      stored.found === EVENTS && stored.docs === EVENTS && stored.duplicated === 0 && dtmfType === 'keyword' && failed['decision-reports'] === 0;
    recordRow({
      scenario: '5b store down at start',
      load: `${EVENTS} events at ${RATE}/s, 2 workers, real Elasticsearch ${node.version}`,
      fault: 'ES node stopped before the workers start; started after the load',
      result: `workers up ${aliveWhileDown}/2; decided ${decidedWhileDown}, applied ${appliedWhileDown.applied} while down; lost ${EVENTS - stored.found}, duplicated ${stored.duplicated}`,
      figures: `job reason while down: "${reasonWhileDown.slice(0, 140)}"; worker log names it: ${logSaysWhy}; ES answering ${((tUp - tStart) / 1000).toFixed(1)} s after start; docs ${stored.docs}; drained ${drainS.toFixed(1)} s after; dtmf ${dtmfType}; failed ${JSON.stringify(failed)}`,
      seconds: secondsSince(t0),
      pass,
    });

    expect(statuses).toEqual({ '202': EVENTS });
    expect(aliveWhileDown, 'worker processes running with the store down').toBe(2);
    expect(decidedWhileDown, 'decisions made with the store down').toBe(EVENTS);
    expect(appliedWhileDown.missing.slice(0, 5), 'Genesys writes with the store down').toEqual([]);
    expect(storedWhileDown, 'nothing stored while the store is down').toBe(0);
    expect(reasonWhileDown, 'the report jobs say why they wait').toMatch(/decision store not initialised yet \(index template and index\): Elasticsearch unavailable/);
    expect(logSaysWhy, 'the worker log says why').toBe(true);
    expect(stored.found, 'decisions in the index after it came back').toBe(EVENTS);
    expect(stored.docs).toBe(EVENTS);
    expect(stored.duplicated).toBe(0);
    expect(dtmfType, 'the index was created from the template, not by a dynamic write').toBe('keyword');
    expect(failed['decision-reports'], 'report jobs failed for good').toBe(0);
  }, 420_000);
});
