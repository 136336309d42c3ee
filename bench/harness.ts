/**
 * The bench harness: every figure is a ratio against a baseline measured in the same run, on the same box,
 * with the same load generator (autocannon, in this process), the same connection count and the same number
 * of server processes. Used by `pnpm bench` (bench/run.ts) and `pnpm bench:smoke` (bench/smoke.ts).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bodyFingerprint } from '@ivr/core';
import { createIdempotencyStore, keyspace, QUEUE_NAMES } from '@ivr/queues';
import { simControl } from '@ivr/testing';
import { load, percentile, type LoadResult } from './lib/load';
import { ask, freePort, LOG_DIR, runTs, sleep, waitForHttp, waitReady, type Child } from './lib/procs';
import type { PrivateRedis } from './lib/redis-server';
import type { WorkerStats } from './servers/workers';

export interface BenchProfile {
  name: string;
  /** Server processes for both the echo and the receiver (RECEIVER_WORKERS). */
  procs: number;
  connections: number;
  warmupS: number;
  durationS: number;
  /** Fixed rate for the ack-latency runs, requests/s. */
  latencyRate: number;
  latencyS: number;
  /** Decisions pushed through the whole pipeline (and jobs through the bare chain). */
  e2eDecisions: number;
  /** Worker concurrency (decide, apply, and each stage of the bare chain). */
  concurrency: number;
  e2eTimeoutS: number;
  /** Idempotency keys written for the memory figure (extrapolated to 1M). */
  memKeys: number;
  logLevel: string;
  /** Write a CPU profile of the receiver during the ingest throughput run (node --cpu-prof). */
  cpuProfile: boolean;
}

export const FULL: BenchProfile = {
  name: 'full',
  procs: 1,
  connections: 50,
  warmupS: 3,
  durationS: 10,
  latencyRate: 1000,
  latencyS: 5,
  e2eDecisions: 10_000,
  concurrency: 50,
  e2eTimeoutS: 120,
  memKeys: 200_000,
  logLevel: 'info',
  cpuProfile: false,
};

export const SMOKE: BenchProfile = {
  name: 'smoke',
  procs: 1,
  connections: 4,
  warmupS: 1,
  durationS: 1,
  latencyRate: 50,
  latencyS: 1,
  e2eDecisions: 60,
  concurrency: 10,
  e2eTimeoutS: 30,
  memKeys: 2_000,
  logLevel: 'warn',
  cpuProfile: false,
};

export interface IngestFigures {
  echo: { okPerSec: number; p50: number; p99: number };
  receiver: { okPerSec: number; p50: number; p99: number; statuses: Record<string, number> };
  ratio: number;
  p50Ratio: number;
  p99Ratio: number;
  profiles: string[];
}

export interface E2eFigures {
  chain: { perSec: number; jobs: number; seconds: number };
  pipeline: { perSec: number; decisions: number; seconds: number; latencyP50: number; latencyP99: number };
  ratio: number;
  analyticsCallsPerDecision: number;
  storeRequestsPerDecision: number;
  redisCommandsPerDecision: number;
  queues: number;
}

export interface MemoryFigures {
  keys: number;
  bytesPerKey: number;
  mbPerMillion: number;
}

export interface BenchResults {
  profile: BenchProfile;
  machine: { nproc: number; cpu: string; node: string; redis: string; platform: string };
  startedAt: string;
  seconds: number;
  ingest: IngestFigures;
  e2e: E2eFigures;
  memory: MemoryFigures;
  targets: Array<{ name: string; value: number; target: string; met: boolean }>;
}

type Log = (line: string) => void;

const WEBHOOK = '/webhook/genesys-dtmf';

/** A data-action payload for request `n`; a unique idempotency key and conversation per request. */
function webhook(run: string) {
  return (n: number) => ({
    key: `${run}-${n}`,
    body: `{"conversationId":"${run}-c${n}","participantId":"p${n}","dtmf":"${(n % 3) + 1}"}`,
  });
}

/** Throughput run (after a warm-up) then a fixed-rate latency run against one server. */
async function drive(url: string, p: BenchProfile, tag: string): Promise<{ thr: LoadResult; lat: LoadResult }> {
  await load({ url, connections: p.connections, duration: p.warmupS, body: webhook(`${tag}-warm`) });
  const thr = await load({ url, connections: p.connections, duration: p.durationS, body: webhook(`${tag}-thr`) });
  await sleep(500);
  const lat = await load({ url, connections: Math.min(10, p.connections), duration: p.latencyS, overallRate: p.latencyRate, body: webhook(`${tag}-lat`) });
  return { thr, lat };
}

function receiverEnv(redis: PrivateRedis, port: number, p: BenchProfile, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: 'ivr',
    RECEIVER_PORT: String(port),
    RECEIVER_HOST: '127.0.0.1',
    RECEIVER_WORKERS: String(p.procs),
    LOG_LEVEL: p.logLevel,
    WEBHOOK_SECRET: '',
    WEBHOOK_TOKEN: '',
    ...extra,
  };
}

export async function benchIngest(redis: PrivateRedis, p: BenchProfile, log: Log): Promise<IngestFigures> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}${WEBHOOK}`;

  log(`ingest: bare Hono JSON echo, ${p.procs} process(es), ${p.connections} connections, ${p.durationS} s`);
  const echo = runTs('echo', 'bench/servers/echo.ts', { ECHO_PORT: String(port), ECHO_WORKERS: String(p.procs) });
  let e: { thr: LoadResult; lat: LoadResult };
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, echo);
    e = await drive(url, p, 'echo');
  } finally {
    await echo.stop();
  }
  if (e.thr.okPerSec <= 0) throw new Error(`the echo answered no 2xx (statuses ${JSON.stringify(e.thr.statuses)}, errors ${e.thr.errors})`);

  await redis.reset();
  log(`ingest: receiver (apps/receiver/src/main.ts), RECEIVER_WORKERS=${p.procs}, private Redis ${redis.url}`);
  const profDir = join(LOG_DIR, `cpuprofile-${Date.now()}`);
  const receiver = runTs('receiver', 'apps/receiver/src/main.ts', receiverEnv(redis, port, p), p.cpuProfile ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] } : {});
  let r: { thr: LoadResult; lat: LoadResult };
  try {
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, receiver);
    r = await drive(url, p, `recv${Date.now()}`);
  } finally {
    await receiver.stop();
  }
  const accepted = (r.thr.statuses['202'] ?? 0) + (r.lat.statuses['202'] ?? 0);
  const bad = Object.entries({ ...r.thr.statuses }).filter(([s]) => s !== '202');
  if (accepted === 0) throw new Error(`the receiver accepted nothing (statuses ${JSON.stringify(r.thr.statuses)}, errors ${r.thr.errors}):\n${receiver.tail()}`);
  if (bad.length) log(`ingest: WARNING receiver answered ${JSON.stringify(r.thr.statuses)} (expected only 202)`);
  // Every 202 must be a job in Redis (the receiver answers 2xx only after the job is stored).
  const jobs = await redis.admin.llen(`ivr:${QUEUE_NAMES.events}:wait`);
  const warm = jobs - accepted;
  if (warm < 0) throw new Error(`the receiver answered 202 ${accepted} times but only ${jobs} jobs are in ${QUEUE_NAMES.events}`);
  await redis.reset();
  return {
    echo: { okPerSec: e.thr.okPerSec, p50: e.lat.p50, p99: e.lat.p99 },
    receiver: { okPerSec: r.thr.okPerSec, p50: r.lat.p50, p99: r.lat.p99, statuses: r.thr.statuses },
    ratio: r.thr.okPerSec / e.thr.okPerSec,
    p50Ratio: r.lat.p50 / e.lat.p50,
    p99Ratio: r.lat.p99 / e.lat.p99,
    profiles: p.cpuProfile ? [profDir] : [],
  };
}

async function until(what: string, timeoutS: number, check: () => Promise<boolean>, children: Child[] = []): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  while (!(await check())) {
    for (const c of children) if (c.proc.exitCode !== null) throw new Error(`${c.name} exited (${c.proc.exitCode}) while waiting for ${what}:\n${c.tail()}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutS} s waiting for ${what}`);
    await sleep(50);
  }
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
    chainFig = { perSec: n / s, jobs: n, seconds: s };
  } finally {
    await q1.close();
    conn.disconnect();
    await chain.stop();
  }

  // The pipeline: simulator + workers (real wiring) + receiver (real main.ts), 3 queues.
  await redis.reset();
  const policyFile = join(LOG_DIR, 'routing-policy.json');
  const queueIds = ['bench-q1', 'bench-q2', 'bench-q3'];
  writeFileSync(
    policyFile,
    JSON.stringify({ default: { queueId: queueIds[0], threshold: 5 }, digits: Object.fromEntries(queueIds.map((q, i) => [String(i + 1), { queueId: q, threshold: 5 }])) }),
  );
  const simPort = await freePort();
  const recvPort = await freePort();
  const simUrl = `http://127.0.0.1:${simPort}`;
  log(`end to end: webhook -> decide -> attributes in the simulator -> report stored, ${n} decisions, ${queueIds.length} queues`);
  const sim = runTs('genesys-sim', 'apps/genesys-sim/src/main.ts', { SIM_PORT: String(simPort), LOG_LEVEL: 'warn' });
  const children: Child[] = [sim];
  try {
    await waitForHttp(`${simUrl}/__sim/stats`, sim);
    const control = simControl(simUrl);
    for (const [i, q] of queueIds.entries()) await control.setQueue(q, { idle: [8, 3, 6][i]!, interacting: 4, waiting: 1 });
    const env = {
      ...receiverEnv(redis, recvPort, p),
      GENESYS_CLIENT_ID: '',
      GENESYS_CLIENT_SECRET: '',
      GENESYS_API_BASE: simUrl,
      ROUTING_POLICY: policyFile,
      GENESYS_RATE_PER_MIN: '100000',
      DECIDE_CONCURRENCY: String(p.concurrency),
      APPLY_CONCURRENCY: String(p.concurrency),
      REPORTS_DIR: join(LOG_DIR, 'reports'),
    };
    const workers = runTs('workers', 'bench/servers/workers.ts', env, { ipc: true });
    children.push(workers);
    await waitReady(workers);
    const receiver = runTs('receiver-e2e', 'apps/receiver/src/main.ts', env);
    children.push(receiver);
    await waitForHttp(`http://127.0.0.1:${recvPort}/readyz`, receiver);

    const before = { sim: await control.stats(), workers: await ask<WorkerStats>(workers, { type: 'stats' }), redis: await redis.commandCalls() };
    const run = `e2e${Date.now()}`;
    const body = webhook(run);
    const t0 = performance.now();
    const sent = load({ url: `http://127.0.0.1:${recvPort}${WEBHOOK}`, connections: p.connections, amount: n, body });
    const applied = (s: Awaited<ReturnType<typeof control.stats>>) => (s.byEndpoint['attributes']?.['200'] ?? 0) - (before.sim.byEndpoint['attributes']?.['200'] ?? 0);
    await until(`${n} decisions applied and stored`, p.e2eTimeoutS, async () => {
      const [w, s] = await Promise.all([ask<WorkerStats>(workers, { type: 'stats' }), control.stats()]);
      return w.stored - before.workers.stored >= n && applied(s) >= n;
    }, children);
    const seconds = (performance.now() - t0) / 1000;
    const ack = await sent;
    if ((ack.statuses['202'] ?? 0) !== n) throw new Error(`expected ${n} × 202 from the receiver, got ${JSON.stringify(ack.statuses)}`);
    const after = { sim: await control.stats(), workers: await ask<WorkerStats>(workers, { type: 'stats' }), redis: await redis.commandCalls() };

    const ks = keyspace('ivr');
    const latencies: number[] = [];
    for (let i = 0; i < n; i += 1000) {
      const keys = Array.from({ length: Math.min(1000, n - i) }, (_, j) => ks.decision(body(i + j).key));
      for (const v of await redis.admin.mget(keys)) if (v) latencies.push((JSON.parse(v) as { latencyMs: number }).latencyMs);
    }
    if (latencies.length !== n) throw new Error(`expected ${n} decision records, found ${latencies.length}`);
    latencies.sort((a, b) => a - b);
    const analytics = (after.sim.countByEndpoint['observations'] ?? 0) - (before.sim.countByEndpoint['observations'] ?? 0);
    const storeRequests = after.workers.storeRequests - before.workers.storeRequests;
    const commands = Object.entries(after.redis).reduce((a, [k, v]) => a + v - (before.redis[k] ?? 0), 0);
    return {
      chain: chainFig,
      pipeline: { perSec: n / seconds, decisions: n, seconds, latencyP50: percentile(latencies, 50), latencyP99: percentile(latencies, 99) },
      ratio: n / seconds / chainFig.perSec,
      analyticsCallsPerDecision: analytics / n,
      storeRequestsPerDecision: storeRequests / n,
      redisCommandsPerDecision: commands / n,
      queues: queueIds.length,
    };
  } finally {
    for (const c of [...children].reverse()) await c.stop();
    await redis.reset();
  }
}

/** Write `keys` idempotency keys the way the receiver does (claim + confirm through the real store). */
export async function benchMemory(redis: PrivateRedis, p: BenchProfile, log: Log): Promise<MemoryFigures> {
  await redis.reset();
  log(`memory: ${p.memKeys} idempotency keys through the idempotency store (claim + confirm), UUID keys, 24 h TTL`);
  const conn = new Redis(redis.url, { maxRetriesPerRequest: 3 });
  try {
    const store = createIdempotencyStore(conn, keyspace('ivr'), 86400);
    const before = await redis.usedMemory();
    let next = 0;
    const lane = async () => {
      while (next < p.memKeys) {
        next++;
        const key = randomUUID();
        const fp = bodyFingerprint({ conversationId: key, participantId: 'p', dtmf: '1' });
        const c = await store.claim(key, fp);
        if (c.kind !== 'new') throw new Error(`claim of a fresh key returned ${c.kind}`);
        await store.confirm(key, fp);
      }
    };
    await Promise.all(Array.from({ length: 200 }, lane));
    const after = await redis.usedMemory();
    const dbsize = await redis.admin.dbsize();
    if (dbsize < p.memKeys) throw new Error(`expected ${p.memKeys} keys in Redis, found ${dbsize}`);
    const bytesPerKey = (after - before) / p.memKeys;
    return { keys: p.memKeys, bytesPerKey, mbPerMillion: (bytesPerKey * 1e6) / 1e6 };
  } finally {
    conn.disconnect();
    await redis.reset();
  }
}

export function targets(r: Pick<BenchResults, 'ingest' | 'e2e' | 'memory'>): BenchResults['targets'] {
  return [
    { name: 'ingest ÷ echo', value: r.ingest.ratio, target: '≥ 0.70', met: r.ingest.ratio >= 0.7 },
    { name: 'ack p99 ÷ echo p99 @ fixed rate', value: r.ingest.p99Ratio, target: '≤ 2', met: r.ingest.p99Ratio <= 2 },
    { name: 'end to end ÷ bare chain', value: r.e2e.ratio, target: '≥ 0.5', met: r.e2e.ratio >= 0.5 },
    { name: 'analytics calls / decision', value: r.e2e.analyticsCallsPerDecision, target: '≤ 0.01', met: r.e2e.analyticsCallsPerDecision <= 0.01 },
    { name: 'store requests / decision', value: r.e2e.storeRequestsPerDecision, target: '≤ 0.01', met: r.e2e.storeRequestsPerDecision <= 0.01 },
    { name: 'MB per 1M idempotency keys', value: r.memory.mbPerMillion, target: '≤ 150', met: r.memory.mbPerMillion <= 150 },
  ];
}

const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

/** The results as a plain-text (and Markdown) table. */
export function table(r: BenchResults): string {
  const i = r.ingest;
  const e = r.e2e;
  const rows: Array<[string, string, string, string, string]> = [
    ['ingest (2xx/s, ' + r.profile.connections + ' conns)', f(i.receiver.okPerSec, 0), f(i.echo.okPerSec, 0) + ' (echo)', f(i.ratio), '≥ 0.70'],
    [`ack p50 @ ${r.profile.latencyRate}/s (ms)`, f(i.receiver.p50), f(i.echo.p50) + ' (echo)', f(i.p50Ratio), ''],
    [`ack p99 @ ${r.profile.latencyRate}/s (ms)`, f(i.receiver.p99), f(i.echo.p99) + ' (echo)', f(i.p99Ratio), '≤ 2'],
    ['end to end (decisions/s)', f(e.pipeline.perSec, 0), f(e.chain.perSec, 0) + ' (bare chain)', f(e.ratio), '≥ 0.5'],
    ['decision latency p50 / p99 (ms)', `${f(e.pipeline.latencyP50, 0)} / ${f(e.pipeline.latencyP99, 0)}`, '', '', ''],
    [`analytics calls / decision (${e.queues} queues)`, f(e.analyticsCallsPerDecision, 4), '', '', '≤ 0.01'],
    ['store requests / decision', f(e.storeRequestsPerDecision, 4), '', '', '≤ 0.01'],
    ['Redis commands / decision (all)', f(e.redisCommandsPerDecision, 1), '', '', ''],
    [`Redis MB per 1M idempotency keys`, f(r.memory.mbPerMillion, 1), `${f(r.memory.bytesPerKey, 0)} B/key`, '', '≤ 150'],
  ];
  const head: [string, string, string, string, string] = ['measure', 'ours', 'baseline', 'ratio', 'target'];
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(w[c]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
