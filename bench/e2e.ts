/**
 * End to end: the bare 3-stage BullMQ chain (baseline) and the real pipeline (webhook -> decide -> attributes in
 * the simulator -> report stored), then the synchronous path (Prefer: wait) on the same pipeline.
 */
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { keyspace, QUEUE_NAMES } from '@ivr/queue-contract';
import type { simControl } from '@ivr/genesys-sim/testing';
import type { NodeProcess as Child } from '@ivr/testing';
import { load, percentile } from './lib/load';
import { QUEUE_IDS, startPipeline } from './lib/pipeline';
import { ask, LOG_DIR, runTs, waitReady } from './lib/procs';
import type { PrivateRedis } from './lib/redis-server';
import type { WorkerStats } from './servers/workers';
import { until, webhook, type BenchProfile } from './harness';

type Log = (line: string) => void;
const WEBHOOK = '/webhook/genesys-dtmf';

export interface E2eFigures {
  chain: { perSec: number; jobs: number; seconds: number; redisCommandsPerChain: number };
  pipeline: { perSec: number; decisions: number; seconds: number; latencyP50: number; latencyP99: number };
  ratio: number;
  analyticsCallsPerDecision: number;
  /**
   * Every request the simulator saw (logins, observations, conversation reads, attribute writes) per decision:
   * async = webhooks without Prefer (each decision written as attributes); sync = `Prefer: wait` answered with the
   * decision (WRITE_BACK=unanswered: no write).
   */
  genesysRequestsPerDecision: { async: number; sync: number; syncDecisions: number };
  storeRequestsPerDecision: number;
  redisCommandsPerDecision: number;
  /** The most frequent Redis commands, calls per decision (INFO commandstats of the private server). */
  redisTopCommands: Record<string, number>;
  queues: number;
  /** CPU profiles of the worker process (--cpu-prof). */
  profiles: string[];
}

export async function benchEndToEnd(redis: PrivateRedis, p: BenchProfile, log: Log): Promise<E2eFigures> {
  const n = p.e2eDecisions;
  // Baseline: bare 3-stage chain.
  await redis.reset();
  log(`end to end: bare 3-stage BullMQ chain, concurrency ${p.concurrency}, ${n} jobs`);
  const chain = runTs('chain', 'bench/servers/chain.ts', { REDIS_URL: redis.url, QUEUE_PREFIX: 'bench-chain', CHAIN_CONCURRENCY: String(p.concurrency) }, { ipc: true });
  let chainFig: E2eFigures['chain'];
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const q1 = new Queue('chain-1', { connection: conn, prefix: 'bench-chain', defaultJobOptions: { removeOnComplete: { age: 3600, count: 10000 }, removeOnFail: { age: 7 * 86400, count: 50000 } } });
  try {
    await waitReady(chain);
    const calls0 = await redis.commandCalls();
    const t0 = performance.now();
    const adding = (async () => {
      for (let i = 0; i < n; i += 500) {
        const k = Math.min(500, n - i);
        await q1.addBulk(Array.from({ length: k }, (_, j) => ({ name: 's1', data: { conversationId: `c${i + j}`, dtmf: '1', receivedAt: Date.now() }, opts: { jobId: `s1-${i + j}` } })));
      }
    })();
    await until(`${n} jobs through the bare chain`, p.e2eTimeoutS, async () => (await ask<number>(chain, { type: 'done' })) >= n, [chain]);
    await adding;
    const s = (performance.now() - t0) / 1000;
    const calls1 = await redis.commandCalls();
    const commands = Object.entries(calls1).reduce((a, [k, v]) => a + v - (calls0[k] ?? 0), 0);
    chainFig = { perSec: n / s, jobs: n, seconds: s, redisCommandsPerChain: commands / n };
  } finally {
    await q1.close();
    conn.disconnect();
    await chain.stop();
  }

  // The pipeline: simulator + workers (real wiring) + receiver (real main.ts), 3 queues.
  await redis.reset();
  log(`end to end: webhook -> decide -> attributes in the simulator -> report stored, ${n} decisions, ${QUEUE_IDS.length} queues`);
  const profiles: string[] = [];
  const workerProf = join(LOG_DIR, `cpuprofile-workers-${Date.now()}`);
  if (p.cpuProfile) profiles.push(workerProf);
  const pipe = await startPipeline(redis, { workers: 1, concurrency: p.concurrency, logLevel: p.logLevel, procs: p.procs, workerProfileDir: p.cpuProfile ? workerProf : undefined });
  const { control, children } = pipe;
  const workers = pipe.workers[0]!;
  const recvPort = new URL(pipe.recvUrl).port;
  try {
    const run = `e2e${Date.now()}`;
    const body = webhook(run);
    await pipe.createCalls(run, n);
    const before = { sim: await control.stats(), workers: await ask<WorkerStats>(workers, { type: 'stats' }), redis: await redis.commandCalls() };
    const t0 = performance.now();
    const sent = load({ url: `http://127.0.0.1:${recvPort}${WEBHOOK}`, connections: p.connections, amount: n, body });
    const applied = (s: Awaited<ReturnType<typeof control.stats>>) => (s.byEndpoint['attributes']?.['200'] ?? 0) - (before.sim.byEndpoint['attributes']?.['200'] ?? 0);
    await until(`${n} decisions applied and stored`, p.e2eTimeoutS, async () => {
      const [w, s] = await Promise.all([ask<WorkerStats>(workers, { type: 'stats' }), control.stats()]);
      return w.written - before.workers.written >= n && applied(s) >= n;
    }, children);
    const seconds = (performance.now() - t0) / 1000;
    const ack = await sent;
    if ((ack.statuses['202'] ?? 0) !== n) throw new Error(`expected ${n} × 202 from the receiver, got ${JSON.stringify(ack.statuses)}`);
    const after = { sim: await control.stats(), workers: await ask<WorkerStats>(workers, { type: 'stats' }), redis: await redis.commandCalls() };
    const inStore = await ask<number>(workers, { type: 'count' });
    if (inStore < n) throw new Error(`the decision store holds ${inStore} decisions, expected at least ${n}`);

    const ks = keyspace('ivr');
    const latencies: number[] = [];
    for (let i = 0; i < n; i += 1000) {
      const keys = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ks.decision(body(i + j).key));
      for (const v of await redis.admin.mget(keys)) if (v) latencies.push((JSON.parse(v) as { latencyMs: number }).latencyMs);
    }
    if (latencies.length !== n) throw new Error(`expected ${n} decision records, found ${latencies.length}`);
    latencies.sort((a, b) => a - b);
    const analytics = (after.sim.countByEndpoint['observations'] ?? 0) - (before.sim.countByEndpoint['observations'] ?? 0);
    const asyncRequests = after.sim.total - before.sim.total;
    const sync = await syncPath(redis, control, `http://127.0.0.1:${recvPort}${WEBHOOK}`, p, children, log);
    const storeRequests = after.workers.storeRequests - before.workers.storeRequests;
    const commands = Object.entries(after.redis).reduce((a, [k, v]) => a + v - (before.redis[k] ?? 0), 0);
    const topCommands = Object.fromEntries(
      Object.entries(after.redis)
        .map(([k, v]) => [k, (v - (before.redis[k] ?? 0)) / n] as const)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 10)
        .map(([k, v]) => [k, Math.round(v * 10) / 10]),
    );
    return {
      chain: chainFig,
      pipeline: { perSec: n / seconds, decisions: n, seconds, latencyP50: percentile(latencies, 50), latencyP99: percentile(latencies, 99) },
      ratio: n / seconds / chainFig.perSec,
      analyticsCallsPerDecision: analytics / n,
      genesysRequestsPerDecision: { async: asyncRequests / n, sync: sync.requests / sync.decisions, syncDecisions: sync.decisions },
      storeRequestsPerDecision: storeRequests / n,
      redisCommandsPerDecision: commands / n,
      redisTopCommands: topCommands,
      queues: QUEUE_IDS.length,
      profiles,
    };
  } finally {
    await pipe.stop();
    await redis.reset();
  }
}

/**
 * The synchronous path on the running pipeline: calls with `Prefer: wait=2` (a Call Data Action) answered 200 with
 * the decision, then every write job of the run ended (skipped: answered synchronously). Counts what the simulator
 * saw meanwhile.
 */
async function syncPath(redis: PrivateRedis, control: ReturnType<typeof simControl>, url: string, p: BenchProfile, children: Child[], log: Log): Promise<{ decisions: number; requests: number }> {
  const m = Math.min(p.e2eDecisions, 2000);
  log(`end to end: synchronous path, ${m} calls with Prefer: wait=2 (decision in the answer, no attribute write needed)`);
  const before = await control.stats();
  const res = await load({ url, connections: p.connections, amount: m, body: webhook(`sync${Date.now()}`), headers: { prefer: 'wait=2' } });
  const decided = res.statuses['200'] ?? 0;
  if (decided === 0) throw new Error(`no Prefer: wait call was answered with its decision (statuses ${JSON.stringify(res.statuses)})`);
  if (decided !== m) log(`end to end: WARNING ${m - decided} of ${m} synchronous calls were not decided in time (${JSON.stringify(res.statuses)}); their writes count`);
  const pending = async () => {
    const w = `ivr:${QUEUE_NAMES.writes}`;
    const [delayed, waiting, active] = await Promise.all([redis.admin.zcard(`${w}:delayed`), redis.admin.llen(`${w}:wait`), redis.admin.llen(`${w}:active`)]);
    return delayed + waiting + active;
  };
  await until('the synchronous path writes to end (skipped)', p.e2eTimeoutS, async () => (await pending()) === 0, children);
  const after = await control.stats();
  return { decisions: m, requests: after.total - before.total };
}
