/**
 * Scale-out: decisions per second with 1, 2, 4, ... worker processes (each with every role and the production
 * wiring) on one Redis. For each step (more processes are added to the running ones) the events queue is paused, `scaleDecisions` webhooks are posted through the
 * real receiver (so ingest is not part of the figure), then the queue is resumed and timed until every event is
 * decided (decide only) and until every decision is written to the simulator and stored (whole pipeline).
 * Redis commands per decision: INFO commandstats delta over the drain.
 */
import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAMES } from '@ivr/queue-contract';
import { load } from './lib/load';
import { startPipeline, type Pipeline } from './lib/pipeline';
import { ask } from './lib/procs';
import type { PrivateRedis } from './lib/redis-server';
import type { WorkerStats } from './servers/workers';
import { until, webhook, type BenchProfile } from './harness';

export interface ScaleStep {
  procs: number;
  decisions: number;
  /** Decide jobs completed per second. */
  decidedPerSec: number;
  /** Decisions decided, written to Genesys and stored, per second. */
  pipelinePerSec: number;
  redisCommandsPerDecision: number;
  /** redis-server CPU ms per decision. */
  redisCpuMsPerDecision: number;
}

export interface ScaleOutFigures {
  steps: ScaleStep[];
}

type Log = (line: string) => void;

function redisCpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(stat[11]) + Number(stat[12])) / 100;
  } catch {
    return NaN;
  }
}

/** `shared`: a running pipeline to use (its worker processes are stopped first; it is stopped at the end). */
export async function benchScaleOut(redis: PrivateRedis, p: BenchProfile, log: Log, shared?: Pipeline): Promise<ScaleOutFigures> {
  if (!shared) await redis.reset();
  const m = p.scaleDecisions;
  log(`scale-out: ${p.scaleProcs.join(', ')} worker processes on one Redis, ${m} decisions per step (queued first, then drained)`);
  const pipe = shared ?? (await startPipeline(redis, { workers: 0, concurrency: p.concurrency, logLevel: p.logLevel, procs: p.procs }));
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const events = new Queue(QUEUE_NAMES.events, { connection: conn, prefix: 'ivr' });
  const steps: ScaleStep[] = [];
  try {
    for (const n of p.scaleProcs) {
      // Steps grow (1, 2, 4): the processes of the previous step keep running and more are added.
      if (pipe.workers.length > n) await pipe.stopWorkers();
      await pipe.addWorkers(n - pipe.workers.length);
      const workers = [...pipe.workers];
      await events.pause();
      const run = `so${n}-${Date.now()}`;
      await pipe.createCalls(run, m);
      const posted = await load({ url: `${pipe.recvUrl}/webhook/genesys-dtmf`, connections: p.connections, amount: m, body: webhook(run) });
      if ((posted.statuses['202'] ?? 0) !== m) throw new Error(`scale-out: expected ${m} × 202, got ${JSON.stringify(posted.statuses)}`);
      const stats = () => Promise.all(workers.map((w) => ask<WorkerStats>(w, { type: 'stats' })));
      const sum = (s: WorkerStats[], k: 'decided' | 'written') => s.reduce((a, x) => a + x[k], 0);
      const before = { w: await stats(), sim: await pipe.control.stats(), redis: await redis.commandCalls(), cpu: redisCpuSeconds(redis.pid) };
      const applied = (s: Awaited<ReturnType<typeof pipe.control.stats>>) => (s.byEndpoint['attributes']?.['200'] ?? 0) - (before.sim.byEndpoint['attributes']?.['200'] ?? 0);
      const t0 = performance.now();
      await events.resume();
      let decidedS = NaN;
      await until(`${m} decisions with ${n} worker process(es)`, p.e2eTimeoutS, async () => {
        const [w, s] = await Promise.all([stats(), pipe.control.stats()]);
        if (Number.isNaN(decidedS) && sum(w, 'decided') - sum(before.w, 'decided') >= m) decidedS = (performance.now() - t0) / 1000;
        return sum(w, 'written') - sum(before.w, 'written') >= m && applied(s) >= m;
      }, pipe.children);
      const seconds = (performance.now() - t0) / 1000;
      const after = { redis: await redis.commandCalls(), cpu: redisCpuSeconds(redis.pid) };
      const commands = Object.entries(after.redis).reduce((a, [k, v]) => a + v - (before.redis[k] ?? 0), 0);
      steps.push({ procs: n, decisions: m, decidedPerSec: m / decidedS, pipelinePerSec: m / seconds, redisCommandsPerDecision: commands / m, redisCpuMsPerDecision: ((after.cpu - before.cpu) * 1000) / m });
      log(`scale-out: ${n} process(es): ${(m / decidedS).toFixed(0)} decided/s, ${(m / seconds).toFixed(0)} through the pipeline/s, ${(commands / m).toFixed(1)} Redis commands per decision`);
    }
    return { steps };
  } finally {
    await events.close();
    conn.disconnect();
    await pipe.stop();
    await redis.reset();
  }
}

const f = (v: number, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

export function scaleOutRows(s: ScaleOutFigures | undefined): Array<[string, string, string, string, string]> {
  if (!s?.steps.length) return [];
  const one = s.steps[0]!;
  return s.steps.map((x) => [
    `scale-out: ${x.procs} worker process(es), decided/s · pipeline/s`,
    `${f(x.decidedPerSec)} · ${f(x.pipelinePerSec)}`,
    x === one ? '(1 process)' : `${f(x.pipelinePerSec / one.pipelinePerSec, 2)}× of 1`,
    '',
    `${f(x.redisCommandsPerDecision, 1)} Redis cmds/decision, ${f(x.redisCpuMsPerDecision, 2)} ms Redis CPU/decision`,
  ]);
}
