/**
 * Horizontal scaling: three REAL worker processes (`node --import tsx apps/worker/src/main.ts`) on one Redis and
 * one queue prefix take ~600 events between them; every event is decided once, written to Genesys once and
 * stored once, whichever process took it. The process that handled a job is BullMQ's `processedBy` (the
 * Worker `name`, `${hostname}-${pid}`), the same field Bull Board shows.
 */
import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from 'bullmq';
import { bodyFingerprint, decisionIdFor, type DecisionRecord } from '@ivr/core';
import { createIdempotencyStore, ingestEvent } from '@ivr/intake';
import { createQueues, keyspace, REPORT_BATCH_JOB, WRITE_OUTCOME_BATCH_JOB, type IvrQueues } from '@ivr/queue-contract';
import { createRedis } from '@ivr/redis';
import { deletePrefix, startApp, TEST_REDIS_URL, uniquePrefix, waitFor, type NodeProcess } from '@ivr/testing';
import { APPS } from '../apps';
import { createConversation, startTestSim, type TestSim } from '@ivr/genesys-sim/testing';

const PROCESSES = 3;
const EVENTS = 600;
const QUEUE = 'scale-queue';

/** The JSON log lines a process wrote (pino, one object per line; stdout is not a TTY here). */
function logLines(w: NodeProcess): Array<Record<string, unknown>> {
  return w
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe(`horizontal scaling: ${PROCESSES} worker processes, one Redis`, () => {
  const prefix = uniquePrefix('scale');
  const redis = createRedis(TEST_REDIS_URL, 'client');
  let sim: TestSim;
  let queues: IvrQueues;
  const workers: NodeProcess[] = [];

  beforeAll(async () => {
    sim = await startTestSim();
    await sim.control.setQueue(QUEUE, { idle: 6, interacting: 2 });
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      GENESYS_CLIENT_ID: '',
      GENESYS_CLIENT_SECRET: '',
      GENESYS_API_BASE: sim.url,
      TARGET_QUEUE_ID: QUEUE,
      OCCUPANCY_THRESHOLD: '5',
      WORKER_METRICS_PORT: '0',
      DECIDE_CONCURRENCY: '8',
      APPLY_CONCURRENCY: '8',
      REPORT_LINGER_MS: '20',
      GENESYS_RATE_PER_MIN: '100000',
      REPORTS_DIR: mkdtempSync(join(tmpdir(), 'ivr-scale-')),
      LOG_LEVEL: 'info',
    };
    for (let i = 1; i <= PROCESSES; i++) workers.push(startApp(APPS.worker, { ...env, WORKER_INDEX: String(i) }, `worker-${i}`));
    // Every process must be taking jobs before the first event goes in, or the first one up takes them all.
    await waitFor(() => workers.every((w) => w.output().includes('"workers running"')), `${PROCESSES} worker processes to start`, 60_000, 100).catch((e: Error) => {
      throw new Error(`${e.message}\n${workers.map((w, i) => `--- worker ${i + 1} (exit ${w.proc.exitCode}):\n${w.output().slice(-2000)}`).join('\n')}`);
    });
    queues = createQueues(redis, prefix, { applyAttempts: 5, applyBackoffMs: 50 });
  }, 90_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await queues?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await sim?.close();
  }, 30_000);

  it(`spreads ${EVENTS} events across the processes and handles each exactly once`, async () => {
    const ks = keyspace(prefix);
    const idempotency = createIdempotencyStore(redis, ks, 3600);
    const keys = Array.from({ length: EVENTS }, (_, i) => `scale-${i}`);
    const now = Date.now();
    // The calls exist in Genesys before their webhooks.
    for (let i = 0; i < EVENTS; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, EVENTS - i) }, (_, j) => createConversation(sim, `scale-conv-${i + j}`, { customerId: `cust-${i + j}` })));
    }
    // As the receiver does: claim the key, add the job, confirm. Every event once, then 10% again (re-deliveries).
    const ingest = (key: string, i: number) => {
      const body = { conversationId: `scale-conv-${i}`, participantId: `cust-${i}`, dtmf: String((i % 4) + 1) };
      return ingestEvent(
        { idempotency, events: queues.events },
        { idempotencyKey: key, receivedAt: now, conversationId: body.conversationId, participantId: body.participantId, flowInstanceId: body.conversationId, dtmf: body.dtmf, source: 'data-action' },
        bodyFingerprint(body),
      );
    };
    const first = await Promise.all(keys.map(ingest));
    expect(first.filter((o) => o.kind === 'accepted')).toHaveLength(EVENTS);
    const again = await Promise.all(keys.filter((_, i) => i % 10 === 0).map((k) => ingest(k, Number(k.split('-')[1]))));
    expect(again.every((o) => o.kind === 'duplicate')).toBe(true);

    /** What the completed batch jobs of decision-reports carried (each job's result counts it): documents, outcomes. */
    const reportsCarried = async () => {
      const done = (await queues.reports.getJobs(['completed'], 0, -1)) as Job[];
      const sum = (name: string, field: 'decisions' | 'outcomes') =>
        done.filter((j) => j.name === name).reduce((a, j) => a + ((j.returnvalue as Record<string, number> | null)?.[field] ?? 0), 0);
      return { decisions: sum(REPORT_BATCH_JOB, 'decisions'), outcomes: sum(WRITE_OUTCOME_BATCH_JOB, 'outcomes') };
    };
    const done = async () => {
      const [e, w, r] = await Promise.all(queues.all.map((q) => q.getJobCounts('completed', 'failed', 'active', 'wait', 'delayed')));
      // decision-reports: batch jobs carrying one document and one write outcome per event (reportsCarried).
      const idle = r!.active === 0 && r!.wait === 0 && r!.delayed === 0;
      const carried = idle ? await reportsCarried() : undefined;
      return e!.completed === EVENTS && w!.completed === EVENTS && carried?.decisions === EVENTS && carried.outcomes === EVENTS ? { e, w, r } : undefined;
    };
    const counts = await waitFor(done, `${EVENTS} events decided, written and stored`, 90_000, 200).catch(async (err: Error) => {
      throw new Error(`${err.message}; counts ${JSON.stringify(await Promise.all(queues.all.map((q) => q.getJobCounts())))}`);
    });
    expect([counts.e!.failed, counts.w!.failed, counts.r!.failed]).toEqual([0, 0, 0]);

    // Which process handled each job (BullMQ processedBy = the Worker name `${hostname}-${pid}`).
    const names = new Map(workers.map((w, i) => [`${hostname()}-${w.proc.pid}`, i + 1]));
    const spread: Record<string, Record<string, number>> = {};
    for (const q of queues.all) {
      const jobs = (await q.getJobs(['completed'], 0, -1)) as Job[];
      if (q !== queues.reports) expect(jobs).toHaveLength(EVENTS);
      const byProc: Record<string, number> = {};
      for (const j of jobs) {
        const who = names.get(j.processedBy ?? '');
        expect(who, `job ${j.id} of ${q.name} processed by ${j.processedBy}, not one of our processes`).toBeDefined();
        byProc[`worker-${who}`] = (byProc[`worker-${who}`] ?? 0) + 1;
      }
      spread[q.name] = byProc;
    }
    console.log(`jobs per process: ${JSON.stringify(spread)}`);
    for (const byProc of Object.values(spread)) {
      expect(Object.keys(byProc).sort()).toEqual(Array.from({ length: PROCESSES }, (_, i) => `worker-${i + 1}`));
    }

    // One decision per key, never re-decided.
    const decisions = (await redis.mget(...keys.map((k) => ks.decision(k)))).map((v) => JSON.parse(v!) as DecisionRecord);
    expect(decisions.map((d) => d.decisionId)).toEqual(keys.map(decisionIdFor));
    expect(new Set(decisions.map((d) => d.conversationId)).size).toBe(EVENTS);
    const decideResults = ((await queues.events.getJobs(['completed'], 0, -1)) as Job[]).map((j) => j.returnvalue as { status: string; replayed: boolean });
    expect(decideResults.filter((r) => r.status === 'decided' && !r.replayed)).toHaveLength(EVENTS);

    // One attribute write per decision in the simulator, each 200, one per conversation.
    const writes = await sim.control.calls('attributes');
    expect(writes).toHaveLength(EVENTS);
    expect(writes.every((c) => c.status === 200)).toBe(true);
    expect(new Set(writes.map((c) => c.path)).size).toBe(EVENTS);
    // Every decision's report and its write's outcome went in a batch job, once: no job of their own.
    expect(await reportsCarried()).toEqual({ decisions: EVENTS, outcomes: EVENTS });
    const kinds = new Set(((await queues.reports.getJobs(['completed'], 0, -1)) as Job[]).map((j) => j.name));
    expect([...kinds].sort()).toEqual([REPORT_BATCH_JOB, WRITE_OUTCOME_BATCH_JOB]);
    // The three processes share the occupancy cache: analytics calls grow with time, not with calls.
    const analytics = await sim.control.calls('observations');
    console.log(`analytics calls: ${analytics.length} for ${EVENTS} decisions`);
    expect(analytics.length).toBeLessThan(EVENTS / 10);

    // Logs: every line about an event names it (idempotencyKey, conversationId, jobId, decisionId), and each
    // event was decided by exactly one process.
    const decidedBy = new Map<string, number>();
    for (const [i, w] of workers.entries()) {
      for (const line of logLines(w)) {
        if (line.msg !== 'decided' && line.msg !== 'applied') continue;
        for (const f of ['idempotencyKey', 'conversationId', 'jobId', 'decisionId']) expect(line[f], `${f} on a "${line.msg}" line of worker ${i + 1}`).toBeTruthy();
        if (line.msg === 'decided') {
          expect(decidedBy.has(line.idempotencyKey as string), `${line.idempotencyKey} decided twice`).toBe(false);
          decidedBy.set(line.idempotencyKey as string, i + 1);
        }
      }
    }
    expect(decidedBy.size).toBe(EVENTS);
  }, 120_000);
});
