/** The write-back and budget series (issue 15), from a real BullMQ worker's results and a budget's counters. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { testRedis, TEST_REDIS_URL, waitFor } from '@ivr/testing';
import { createMetrics, type BudgetCounters, type IvrMetrics } from './metrics';
import { createQueues, type IvrQueues } from '@ivr/queue-contract';
import { createRedis } from '@ivr/redis';
import { QUEUE_NAMES } from '@ivr/queue-contract';
import { EXPIRED_REASON, SKIP_REASONS } from '@ivr/queue-contract';

const RESULTS = {
  written: { status: 'applied', httpStatus: 202, sequence: 1, writeStatus: 'written', lagMs: 1500 },
  answered: { status: 'skipped', sequence: 1, writeStatus: 'skipped', skipReason: 'answered_synchronously', writeReason: SKIP_REASONS.answered_synchronously },
  never: { status: 'skipped', sequence: 1, writeStatus: 'skipped', skipReason: 'write_back_never', writeReason: SKIP_REASONS.write_back_never },
  expired: { status: 'expired', sequence: 1, writeStatus: 'expired', writeReason: EXPIRED_REASON, ageMs: 31_000 },
} as const;
type Kind = keyof typeof RESULTS;
const PLAN: Record<Kind, number> = { written: 3, answered: 4, never: 1, expired: 2 };

describe('write-back and budget metrics', () => {
  const t = testRedis('metrics-wb');
  let conn: Redis;
  let queues: IvrQueues;
  let worker: Worker;
  let metrics: IvrMetrics;
  const budget: BudgetCounters = { granted: { observations: { live: 5 }, attributes: { write: 3 } }, exhausted: { attributes: 7 } };

  beforeAll(async () => {
    conn = createRedis(TEST_REDIS_URL, 'worker');
    queues = createQueues(conn, t.prefix, { applyAttempts: 2, applyBackoffMs: 10 });
    metrics = createMetrics(undefined, { defaultMetrics: false });
    metrics.watchGenesysBudget(() => budget);
    metrics.watchGenesysBudget(() => undefined); // a process whose client has no budget
    worker = new Worker(QUEUE_NAMES.writes, async (job: Job<{ kind: Kind }>) => RESULTS[job.data.kind], { connection: conn, prefix: t.prefix });
    metrics.watchWorker(worker);
  });
  afterAll(async () => {
    await worker.close();
    await queues.close();
    conn.disconnect();
    await t.cleanup();
  });

  it('counts skipped by reason, expired, the write lag of written ones, and the budget per endpoint and priority', async () => {
    const jobs = (Object.entries(PLAN) as Array<[Kind, number]>).flatMap(([kind, n]) => Array.from({ length: n }, () => ({ name: 'apply', data: { kind } })));
    await queues.writes.addBulk(jobs);
    await waitFor(async () => ((await queues.writes.getJobCounts('completed')).completed ?? 0) === jobs.length, 'every write job');
    // prom-client's own JSON view of the registry: name + labels -> value.
    const s = new Map<string, number>();
    for (const m of await metrics.registry.getMetricsAsJSON()) {
      for (const v of m.values as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>) {
        const labels = Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).sort().join(',');
        const name = v.metricName ?? m.name;
        s.set(labels ? `${name}{${labels}}` : name, v.value);
      }
    }
    expect(s.get('ivr_writes_skipped_total{reason=answered_synchronously}')).toBe(4);
    expect(s.get('ivr_writes_skipped_total{reason=write_back_never}')).toBe(1);
    expect(s.get('ivr_writes_expired_total')).toBe(2);
    expect(s.get('ivr_write_lag_seconds_count')).toBe(3);
    expect(s.get('ivr_write_lag_seconds_sum')).toBeCloseTo(4.5);
    expect(s.get('ivr_write_lag_seconds_bucket{le=1}')).toBe(0);
    expect(s.get('ivr_write_lag_seconds_bucket{le=2}')).toBe(3);
    expect(s.get('ivr_genesys_budget_requests_total{endpoint=observations,priority=live}')).toBe(5);
    expect(s.get('ivr_genesys_budget_requests_total{endpoint=attributes,priority=write}')).toBe(3);
    expect(s.get('ivr_genesys_budget_exhausted_total{endpoint=attributes}')).toBe(7);
  });
});
