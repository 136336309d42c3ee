import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseExposition, testRedis, TEST_REDIS_URL, waitFor } from '@ivr/testing';
import { createMetrics, type IvrMetrics } from './metrics';
import { serveMetrics } from './metrics-server';
import { createQueues, heldState, keyspace, type IvrQueues } from '@ivr/queue-contract';
import { createRedis } from '@ivr/redis';
import { QUEUE_NAMES } from '@ivr/queue-contract';

const sample = (s: Map<string, number>, name: string, labels: Record<string, string> = {}) => {
  const l = Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort();
  return s.get(l.length ? `${name}{${l.join(',')}}` : name);
};

type Kind = 'queue' | 'vm' | 'replayed' | 'fatal' | 'flaky' | 'exhaust';
const PLAN: Record<Kind, number> = { queue: 7, vm: 4, replayed: 2, fatal: 3, flaky: 2, exhaust: 1 };

describe('metrics (real Redis, real BullMQ worker)', () => {
  const t = testRedis('metrics');
  let conn: Redis;
  let queues: IvrQueues;
  let worker: Worker;
  let metrics: IvrMetrics;

  beforeAll(async () => {
    conn = createRedis(TEST_REDIS_URL, 'worker');
    queues = createQueues(conn, t.prefix, { applyAttempts: 2, applyBackoffMs: 10 });
    metrics = createMetrics(undefined, { defaultMetrics: false });
    metrics.watchQueues(queues.all);
    worker = new Worker(
      QUEUE_NAMES.events,
      async (job: Job<{ kind: Kind }>) => {
        switch (job.data.kind) {
          case 'queue':
            return { status: 'decided', routing: 'route_to_queue', occupancySource: 'cache', replayed: false, latencyMs: 40 };
          case 'vm':
            return { status: 'decided', routing: 'route_to_vm', occupancySource: 'poll', replayed: false, latencyMs: 300 };
          case 'replayed':
            return { status: 'decided', routing: 'route_to_vm', occupancySource: 'poll', replayed: true, latencyMs: 9000 };
          case 'fatal':
            throw new UnrecoverableError('bad request');
          case 'flaky':
            if (job.attemptsMade === 0) throw new Error('try again');
            return { status: 'superseded', sequence: 1, currentSequence: 2 };
          case 'exhaust':
            throw new Error('always failing');
        }
      },
      { connection: createRedis(TEST_REDIS_URL, 'worker'), prefix: t.prefix, concurrency: 5 },
    );
    metrics.watchWorker(worker);
  });

  afterAll(async () => {
    await worker.close();
    await queues.close();
    conn.disconnect();
    await t.cleanup();
  });

  it('counts what happened, and queue depth equals queue.getJobCounts (what Bull Board shows)', async () => {
    const jobs = (Object.entries(PLAN) as Array<[Kind, number]>).flatMap(([kind, n]) => Array.from({ length: n }, (_, i) => ({ kind, i })));
    for (const j of jobs) await queues.events.add('decide', { kind: j.kind }, { jobId: `${j.kind}-${j.i}`, attempts: 2, backoff: { type: 'fixed', delay: 20 } });
    // Work nobody takes: 3 waiting writes and one delayed report.
    for (let i = 0; i < 3; i++) await queues.writes.add('apply', { i });
    await queues.reports.add('report', { i: 0 }, { delay: 60_000 });

    const total = jobs.length;
    await waitFor(async () => {
      const c = await queues.events.getJobCounts('completed', 'failed');
      return (c.completed ?? 0) + (c.failed ?? 0) === total;
    }, 'every event job to finish');
    // The worker's completed/failed events are emitted just after the move: wait until the counters have seen them all.
    await waitFor(async () => {
      const m = parseExposition(await metrics.render());
      return (sample(m, 'ivr_jobs_total', { queue: QUEUE_NAMES.events, outcome: 'completed' }) ?? 0) + (sample(m, 'ivr_jobs_total', { queue: QUEUE_NAMES.events, outcome: 'failed' }) ?? 0) === total;
    }, 'the worker events of every finished job to be counted');

    metrics.observeWebhook('accepted');
    metrics.observeWebhook('accepted');
    metrics.observeWebhook('duplicate');
    metrics.observeWebhook('error_400');

    const s = parseExposition(await metrics.render());
    for (const q of queues.all) {
      const counts = await q.getJobCounts();
      for (const [state, n] of Object.entries(counts)) expect(sample(s, 'ivr_queue_jobs', { queue: q.name, state }), `${q.name} ${state}`).toBe(n);
    }
    expect(sample(s, 'ivr_queue_jobs', { queue: QUEUE_NAMES.writes, state: 'waiting' })).toBe(3);
    expect(sample(s, 'ivr_queue_jobs', { queue: QUEUE_NAMES.reports, state: 'delayed' })).toBe(1);
    expect(sample(s, 'ivr_queue_jobs', { queue: QUEUE_NAMES.events, state: 'failed' })).toBe(PLAN.fatal + PLAN.exhaust);
    expect(sample(s, 'ivr_queue_counts_up')).toBe(1);

    const ev = QUEUE_NAMES.events;
    const completed = PLAN.queue + PLAN.vm + PLAN.replayed + PLAN.flaky;
    expect(sample(s, 'ivr_jobs_total', { queue: ev, outcome: 'completed' })).toBe(completed);
    expect(sample(s, 'ivr_jobs_total', { queue: ev, outcome: 'failed' })).toBe(PLAN.fatal + PLAN.exhaust);
    expect(sample(s, 'ivr_jobs_total', { queue: ev, outcome: 'retrying' })).toBe(PLAN.flaky + PLAN.exhaust);
    expect(sample(s, 'ivr_job_duration_seconds_count', { queue: ev, outcome: 'completed' })).toBe(completed);
    // Attempts: a flaky job took 2, an exhausted one 2, a fatal one 1 (UnrecoverableError stops at once).
    expect(sample(s, 'ivr_job_attempts_sum', { queue: ev, outcome: 'completed' })).toBe(PLAN.queue + PLAN.vm + PLAN.replayed + 2 * PLAN.flaky);
    expect(sample(s, 'ivr_job_attempts_sum', { queue: ev, outcome: 'failed' })).toBe(PLAN.fatal + 2 * PLAN.exhaust);

    expect(sample(s, 'ivr_decisions_total', { route: 'route_to_queue', occupancy_source: 'cache' })).toBe(PLAN.queue);
    expect(sample(s, 'ivr_decisions_total', { route: 'route_to_vm', occupancy_source: 'poll' })).toBe(PLAN.vm);
    expect(sample(s, 'ivr_superseded_total', { queue: ev })).toBe(PLAN.flaky);
    // Decision latency: one observation per decision made (re-runs excluded), in seconds, by occupancy source.
    expect(sample(s, 'ivr_decision_latency_seconds_count', { occupancy_source: 'cache' })).toBe(PLAN.queue);
    expect(sample(s, 'ivr_decision_latency_seconds_sum', { occupancy_source: 'cache' })).toBeCloseTo(PLAN.queue * 0.04, 6);
    expect(sample(s, 'ivr_decision_latency_seconds_count', { occupancy_source: 'poll' })).toBe(PLAN.vm);
    expect(sample(s, 'ivr_decision_latency_seconds_bucket', { occupancy_source: 'poll', le: '0.25' })).toBe(0);
    expect(sample(s, 'ivr_decision_latency_seconds_bucket', { occupancy_source: 'poll', le: '0.5' })).toBe(PLAN.vm);
    expect(sample(s, 'ivr_dedupe_hits_total', { stage: 'decide' })).toBe(PLAN.replayed);
    expect(sample(s, 'ivr_dedupe_hits_total', { stage: 'receiver' })).toBe(1);
    expect(sample(s, 'ivr_webhooks_total', { outcome: 'accepted' })).toBe(2);
    expect(sample(s, 'ivr_webhooks_total', { outcome: 'error_400' })).toBe(1);
  });

  it('reads process counters (occupancy, store, Genesys, pauses) at scrape time', async () => {
    const m = createMetrics(undefined, { defaultMetrics: false });
    const occ = { analyticsCalls: 2, cacheHits: 40, waitedForPeer: 3, failOpen: 1 };
    const batch = { batches: 2, docs: 12, written: 10, duplicates: 2, failed: 0, lastBatchSize: 4 };
    m.watchOccupancy(() => occ);
    m.watchBatcher(() => batch);
    m.observeBatch(8);
    m.observeBatch(4);
    m.observeGenesys('attributes', 200, 0.02);
    m.observeGenesys('attributes', 429, 0.01);
    m.observeGenesys('observations', 0, 5);
    m.observePause('genesys-writes', 1500);
    let s = parseExposition(await m.render());
    expect(sample(s, 'ivr_occupancy_cache_hits_total')).toBe(40);
    expect(sample(s, 'ivr_occupancy_analytics_calls_total')).toBe(2);
    expect(sample(s, 'ivr_store_documents_total', { result: 'written' })).toBe(10);
    expect(sample(s, 'ivr_store_batch_size_count')).toBe(2);
    expect(sample(s, 'ivr_store_batch_size_sum')).toBe(12);
    expect(sample(s, 'ivr_genesys_requests_total', { endpoint: 'attributes', status: '429' })).toBe(1);
    expect(sample(s, 'ivr_genesys_requests_total', { endpoint: 'observations', status: '0' })).toBe(1);
    expect(sample(s, 'ivr_genesys_rate_limited_total', { endpoint: 'attributes' })).toBe(1);
    expect(sample(s, 'ivr_queue_pauses_total', { queue: 'genesys-writes' })).toBe(1);
    expect(sample(s, 'ivr_queue_paused_seconds_total', { queue: 'genesys-writes' })).toBe(1.5);
    occ.cacheHits = 55; // the next scrape sees the new value
    s = parseExposition(await m.render());
    expect(sample(s, 'ivr_occupancy_cache_hits_total')).toBe(55);
  });

  it('exports the oldest waiting job age and a paused gauge per queue, read from Redis at scrape time', async () => {
    const own = testRedis('metrics-age');
    const c = createRedis(TEST_REDIS_URL, 'worker');
    const qs = createQueues(c, own.prefix, { applyAttempts: 2, applyBackoffMs: 10 });
    const limited = new Worker(QUEUE_NAMES.writes, async () => undefined, { connection: createRedis(TEST_REDIS_URL, 'worker'), prefix: own.prefix, autorun: false });
    const clock = { t: 1_800_000_000_000 };
    const m = createMetrics(undefined, { defaultMetrics: false, now: () => clock.t });
    m.watchQueues(qs.all);
    try {
      // Two waiting writes created 90 s and 30 s before "now", a prioritized event 200 s old, a delayed report (not due: not waiting).
      await qs.writes.add('apply', { i: 1 }, { timestamp: clock.t - 90_000 });
      await qs.writes.add('apply', { i: 2 }, { timestamp: clock.t - 30_000 });
      await qs.events.add('decide', { i: 3 }, { timestamp: clock.t - 200_000, priority: 5 });
      await qs.reports.add('report', { i: 4 }, { timestamp: clock.t - 500_000, delay: 60_000 });
      let s = parseExposition(await m.render());
      expect(sample(s, 'ivr_queue_oldest_job_age_seconds', { queue: QUEUE_NAMES.writes })).toBe(90);
      expect(sample(s, 'ivr_queue_oldest_job_age_seconds', { queue: QUEUE_NAMES.events })).toBe(200);
      expect(sample(s, 'ivr_queue_oldest_job_age_seconds', { queue: QUEUE_NAMES.reports })).toBe(0);
      for (const q of qs.all) expect(sample(s, 'ivr_queue_paused', { queue: q.name }), q.name).toBe(0);

      // An operator pause (Bull Board) and a 429 pause (worker.rateLimit, what processApply asks for) both read 1.
      await qs.reports.pause();
      await limited.rateLimit(60_000);
      clock.t += 10_000; // also past the 1 s read cache shared by the gauges
      s = parseExposition(await m.render());
      expect(sample(s, 'ivr_queue_paused', { queue: QUEUE_NAMES.reports })).toBe(1);
      expect(sample(s, 'ivr_queue_paused', { queue: QUEUE_NAMES.writes })).toBe(1);
      expect(sample(s, 'ivr_queue_paused', { queue: QUEUE_NAMES.events })).toBe(0);
      expect(sample(s, 'ivr_queue_oldest_job_age_seconds', { queue: QUEUE_NAMES.writes })).toBe(100);
    } finally {
      await limited.close();
      await qs.close();
      c.disconnect();
      await own.cleanup();
    }
  });

  it('exports the events held for an in-call decision and how far the earliest is past its deadline, read from Redis at scrape time', async () => {
    const own = testRedis('metrics-held');
    const ks = keyspace(own.prefix);
    const clock = { t: 1_800_000_000_000 };
    const m = createMetrics(undefined, { defaultMetrics: false, now: () => clock.t });
    m.watchHeld(() => heldState(own.redis, ks));
    try {
      let s = parseExposition(await m.render());
      expect([sample(s, 'ivr_held_events'), sample(s, 'ivr_held_events_overdue_seconds')]).toEqual([0, 0]);
      // Two held events (as the receiver's ingest leaves them), due 2 s from now and 30 s from now.
      await own.redis.multi().zadd(ks.held, clock.t + 2000, 'E1', clock.t + 30_000, 'E2').hset(ks.heldEvents, 'E1', '{}', 'E2', '{}').exec();
      clock.t += 1000; // past the 1 s read cache
      s = parseExposition(await m.render());
      expect([sample(s, 'ivr_held_events'), sample(s, 'ivr_held_events_overdue_seconds')]).toEqual([2, 0]);
      clock.t += 6000; // the first is 5 s past its deadline: nobody swept it
      s = parseExposition(await m.render());
      expect([sample(s, 'ivr_held_events'), sample(s, 'ivr_held_events_overdue_seconds')]).toEqual([2, 5]);
    } finally {
      await own.cleanup();
    }
  });

  it('each process exports only the series it wired: no worker series on the receiver or the dashboard', async () => {
    const names = async (m: IvrMetrics) => new Set([...parseExposition(await m.render()).keys()].map((k) => k.replace(/\{.*$/, '').replace(/_(bucket|sum|count)$/, '')));
    const families = async (m: IvrMetrics) => new Set((await m.registry.getMetricsAsJSON()).map((x) => x.name));

    const dashboard = createMetrics(undefined, { defaultMetrics: false });
    dashboard.watchHttp();
    expect([...(await families(dashboard))]).toEqual(['http_request_duration_seconds']);

    const receiver = createMetrics(undefined, { defaultMetrics: false });
    receiver.watchHttp();
    receiver.watchQueues(queues.all);
    receiver.observeWebhook('accepted');
    receiver.observeHttp('POST', '/webhook/genesys-dtmf', 202, 0.002);
    const onReceiver = await families(receiver);
    for (const worker of ['ivr_jobs_total', 'ivr_decisions_total', 'ivr_decision_latency_seconds', 'ivr_occupancy_cache_hits_total', 'ivr_occupancy_fail_open_total', 'ivr_store_documents_total', 'ivr_store_batch_size', 'ivr_genesys_requests_total', 'ivr_queue_pauses_total']) {
      expect(onReceiver.has(worker), worker).toBe(false);
    }
    expect(onReceiver.has('ivr_webhooks_total')).toBe(true);
    expect(onReceiver.has('ivr_queue_oldest_job_age_seconds')).toBe(true);
    // ...and no sample reads 0 for something this process never does.
    const samples = await names(receiver);
    expect([...samples].filter((n) => n.startsWith('ivr_occupancy') || n.startsWith('ivr_store'))).toEqual([]);
  });

  it('serveMetrics answers GET /metrics, and 404 with a reason elsewhere', async () => {
    const m = createMetrics();
    m.observeWebhook('accepted');
    const server = await serveMetrics(m, 0, '127.0.0.1');
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      const s = parseExposition(await res.text());
      expect(sample(s, 'ivr_webhooks_total', { outcome: 'accepted' })).toBe(1);
      expect([...s.keys()].some((k) => k.startsWith('process_cpu'))).toBe(true);
      const other = await fetch(server.url.replace('/metrics', '/nope'));
      expect(other.status).toBe(404);
      expect(await other.text()).toContain('GET /metrics');
    } finally {
      await server.close();
    }
  });
});
