/**
 * The report worker end to end against a REAL Elasticsearch (real Redis, real BullMQ): decision-report jobs in,
 * documents in the index, a mapping rejection failing its own job with Elasticsearch's reason, and a store that is
 * down when the worker starts. Under CI=true this fails without a node; elsewhere it is skipped with the reason.
 */
import { jobIdFor } from '@ivr/core';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@ivr/config';
import { createQueues, type IvrQueues } from '@ivr/queue-contract';
import { makeDoc } from '@ivr/reporting/fixtures';
import { announceSkip, assertUsable, elasticsearchTarget, tcpGate, testClient } from '@ivr/reporting/real-elasticsearch';
import { silentLogger, testRedis, waitFor } from '@ivr/testing';
import { genesysFromConfig } from './genesys';
import { startWorkers, type RunningWorkers } from './workers';

const target = await elasticsearchTarget();
announceSkip('report worker', target);

type Logged = { level: string; obj: Record<string, unknown>; msg: string };

/** A pino-shaped logger that keeps warn/info lines (the reasons an operator would read). */
function capturingLogger(lines: Logged[]) {
  const at = (level: string) => (obj: unknown, msg?: string) => {
    lines.push({ level, obj: (typeof obj === 'object' && obj ? obj : {}) as Record<string, unknown>, msg: msg ?? String(obj) });
  };
  const l: Record<string, unknown> = { ...silentLogger, info: at('info'), warn: at('warn'), error: at('error') };
  l.child = () => l;
  return l as unknown as Parameters<typeof startWorkers>[1];
}

describe.runIf(target.run)('report worker against a real Elasticsearch', () => {
  const run = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const indices: string[] = [];
  // beforeEach, not beforeAll: under CI each test FAILS with the reason (a failed beforeAll reports them skipped)
  beforeEach(() => assertUsable(target));
  afterAll(async () => {
    if (target.problem) return;
    const admin = testClient(target.url!);
    for (const index of indices) {
      await admin.indices.delete({ index, ignore_unavailable: true });
      await admin.indices.deleteIndexTemplate({ name: index }).catch(() => undefined);
    }
    await admin.close();
  });

  async function start(esUrl: string, lines: Logged[]) {
    const t = testRedis('report');
    const index = `test-report-worker-${run}-${indices.length}`;
    indices.push(index);
    const config = loadConfig({
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: t.prefix,
      GENESYS_API_BASE: 'http://127.0.0.1:9', // report-only: Genesys is never called
      ELASTICSEARCH_URL: esUrl,
      ELASTICSEARCH_INDEX: index,
      WORKER_ROLES: 'report',
      REPORT_LINGER_MS: '20',
      REPORTS_DIR: mkdtempSync(join(tmpdir(), 'ivr-reports-')),
      LOG_LEVEL: 'silent',
    });
    const logger = capturingLogger(lines);
    const workers: RunningWorkers = await startWorkers(config, logger, genesysFromConfig(config, logger), ['report']);
    const queues: IvrQueues = createQueues(t.redis, t.prefix, { applyAttempts: 5, applyBackoffMs: 1000 });
    const add = (docs: ReturnType<typeof makeDoc>[]) =>
      queues.reports.addBulk(docs.map((d) => ({ name: 'report', data: d, opts: { jobId: jobIdFor('report', d.decisionId) } })));
    const esCount = async () => {
      const admin = testClient(target.url!);
      try {
        await admin.indices.refresh({ index, ignore_unavailable: true });
        return (await admin.count({ index, ignore_unavailable: true })).count;
      } finally {
        await admin.close();
      }
    };
    return {
      index,
      workers,
      queues,
      add,
      esCount,
      async close() {
        await workers.close();
        await queues.close();
        await t.cleanup();
      },
    };
  }

  it('stores every decision once; a mapping rejection fails only its own job, at once, with the reason', async () => {
    const lines: Logged[] = [];
    const w = await start(target.url!, lines);
    try {
      const docs = Array.from({ length: 50 }, (_, i) => makeDoc(i, { dtmf: String((i % 4) + 1) }));
      // passes the job schema (a number), refused by the index: `threshold` is an integer field
      const rejected = makeDoc(99, { threshold: 1e12 });
      await w.add([...docs, rejected, docs[0]!]);
      await waitFor(async () => (await w.queues.reports.getCompletedCount()) === 50 && (await w.queues.reports.getFailedCount()) === 1, '50 completed, 1 failed', 30000, 100);
      const [failed] = (await w.queues.reports.getFailed()) as Job[];
      expect(failed!.id).toBe(jobIdFor('report', 'd-99'));
      expect(failed!.attemptsMade, 'a mapping rejection is not retried').toBe(1);
      expect(failed!.failedReason).toMatch(/^decision store rejected d-99: (document_parsing_exception|mapper_parsing_exception): .*\[threshold\]/);
      expect(await w.esCount()).toBe(50);
      const heat = await w.workers.store.heatmap();
      expect(heat.total).toBe(50);
      expect(heat.dtmfByRoute.rows).toEqual(['1', '2', '3', '4']);
    } finally {
      await w.close();
    }
  });

  it('starts with Elasticsearch down, keeps the jobs with the reason visible, and stores them once it is back', async () => {
    const gate = await tcpGate(new URL(target.url!));
    const lines: Logged[] = [];
    const w = await start(gate.url, lines); // does not throw: the store's init runs in the background
    try {
      const docs = Array.from({ length: 5 }, (_, i) => makeDoc(i));
      await w.add(docs);
      const reason = await waitFor(
        async () => ((await w.queues.reports.getJobs(['delayed', 'waiting', 'active'])) as Job[]).find((j) => j.failedReason)?.failedReason,
        'a report job failed with the reason and waits for its retry',
        15000,
        100,
      );
      expect(reason).toMatch(/decision store unavailable \(will retry\): decision store not initialised yet \(index template and index\): .*ECONNREFUSED/);
      expect(lines.some((l) => l.level === 'warn' && l.msg === 'decision store not initialised; retrying' && /ECONNREFUSED/.test(String(l.obj.err)))).toBe(true);
      expect(await w.queues.reports.getFailedCount(), 'nothing failed for good').toBe(0);
      await gate.open();
      await waitFor(async () => (await w.queues.reports.getCompletedCount()) === 5, 'the 5 reports stored after Elasticsearch came back', 60000, 200);
      expect(lines.some((l) => l.msg === 'decision store initialised')).toBe(true);
      expect(await w.esCount()).toBe(5);
    } finally {
      await w.close();
      await gate.close();
    }
  });
});
