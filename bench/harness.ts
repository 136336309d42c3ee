/**
 * The bench harness: every figure is a ratio against a baseline measured in the same run, on the same box,
 * with the same load generator (autocannon, in this process), the same connection count and the same number
 * of server processes. Used by `pnpm bench` (bench/run.ts) and `pnpm bench:smoke` (bench/smoke.ts).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { bodyFingerprint } from '@ivr/core';
import { createIdempotencyStore, keyspace, QUEUE_NAMES } from '@ivr/queues';
import type { simControl } from '@ivr/testing';
import { load, percentile, type LoadResult } from './lib/load';
import { QUEUE_IDS, startPipeline } from './lib/pipeline';
import { cpuShare } from './lib/cpu';
import { ask, freePort, LOG_DIR, runTs, sleep, waitForHttp, waitReady, type Child } from './lib/procs';
import type { PrivateRedis } from './lib/redis-server';
import type { WorkerStats } from './servers/workers';
import type { InCallFigures } from './in-call';
import type { ScaleOutFigures } from './scale-out';

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
  /** In-call decision (bench/in-call.ts): fixed rate, seconds, connections, the higher rate and its seconds, Prefer: wait. */
  inCallRate: number;
  inCallS: number;
  inCallConnections: number;
  inCallHighRate: number;
  inCallHighS: number;
  preferWaitS: number;
  /** Scale-out (bench/scale-out.ts): worker process counts and decisions per step. */
  scaleProcs: number[];
  scaleDecisions: number;
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
  inCallRate: 300,
  inCallS: 10,
  inCallConnections: 30,
  inCallHighRate: 1000,
  inCallHighS: 5,
  preferWaitS: 2,
  scaleProcs: [1, 2, 4],
  scaleDecisions: 6000,
};

export const SMOKE: BenchProfile = {
  name: 'smoke',
  procs: 1,
  connections: 4,
  warmupS: 0.5,
  durationS: 1.5,
  latencyRate: 50,
  latencyS: 0.5,
  e2eDecisions: 60,
  concurrency: 10,
  e2eTimeoutS: 30,
  memKeys: 2_000,
  logLevel: 'warn',
  cpuProfile: false,
  inCallRate: 20,
  inCallS: 1,
  inCallConnections: 4,
  inCallHighRate: 50,
  inCallHighS: 0.5,
  preferWaitS: 2,
  scaleProcs: [1, 2],
  scaleDecisions: 40,
};

export interface IngestSide {
  okPerSec: number;
  p50: number;
  p99: number;
  /** Cores busy during the throughput rounds, per process tree (server, redis) and the load generator. */
  cores: Cores;
  /** CPU microseconds per 2xx answer, per process tree. */
  cpuUsPerReq: Record<string, number>;
  statuses: Record<string, number>;
}

export interface IngestFigures {
  echo: IngestSide;
  /** The receiver a user would write by hand (bench/servers/naive.ts): SET NX + queue.add. */
  naive: IngestSide;
  receiver: IngestSide;
  ratio: number;
  /** receiver ÷ naive throughput. */
  naiveRatio: number;
  p50Ratio: number;
  p99Ratio: number;
  profiles: string[];
}

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
  inCall?: InCallFigures | undefined;
  scaleOut?: ScaleOutFigures | undefined;
  targets: Array<{ name: string; value: number; target: string; met: boolean }>;
}

type Log = (line: string) => void;

const nanSide = (): IngestSide => ({ okPerSec: NaN, p50: NaN, p99: NaN, cores: {}, cpuUsPerReq: {}, statuses: {} });
/** Figures of a measure that was not run (`--only`). */
export const notMeasured = {
  ingest: (): IngestFigures => ({ echo: nanSide(), naive: nanSide(), receiver: nanSide(), ratio: NaN, naiveRatio: NaN, p50Ratio: NaN, p99Ratio: NaN, profiles: [] }),
  e2e: (): E2eFigures => ({ chain: { perSec: NaN, jobs: 0, seconds: 0, redisCommandsPerChain: NaN }, pipeline: { perSec: NaN, decisions: 0, seconds: 0, latencyP50: NaN, latencyP99: NaN }, ratio: NaN, analyticsCallsPerDecision: NaN, genesysRequestsPerDecision: { async: NaN, sync: NaN, syncDecisions: 0 }, storeRequestsPerDecision: NaN, redisCommandsPerDecision: NaN, redisTopCommands: {}, queues: 3, profiles: [] }),
  memory: (): MemoryFigures => ({ keys: 0, bytesPerKey: NaN, mbPerMillion: NaN }),
};

const WEBHOOK = '/webhook/genesys-dtmf';

/** A data-action payload for request `n`; a unique idempotency key and conversation per request. */
export function webhook(run: string) {
  return (n: number) => ({
    key: `${run}-${n}`,
    body: `{"conversationId":"${run}-c${n}","participantId":"p${n}","dtmf":"${(n % 3) + 1}"}`,
  });
}

export type Cores = Record<string, number>;

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

interface Side {
  name: string;
  url: string;
  server: Child;
  redisPid?: number | undefined;
  ok: number;
  seconds: number;
  cpu: Record<string, number>;
  statuses: Record<string, number>;
}

/** One throughput round against one server, adding its 2xx count and the CPU each process used (seconds). */
async function round(side: Side, p: BenchProfile, seconds: number, tag: string): Promise<void> {
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const { result, cores } = await cpuShare({ server: side.server.proc.pid, redis: side.redisPid }, () =>
    load({ url: side.url, connections: p.connections, duration: seconds, body: webhook(tag) }),
  );
  const s = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(self0);
  cores['load generator'] = (self.user + self.system) / 1e6 / s;
  side.ok += result.okPerSec * result.seconds;
  side.seconds += result.seconds;
  for (const [k, v] of Object.entries(cores)) side.cpu[k] = (side.cpu[k] ?? 0) + v * s;
  for (const [k, v] of Object.entries(result.statuses)) side.statuses[k] = (side.statuses[k] ?? 0) + v;
}

const ROUNDS = 3;

/**
 * Both servers run side by side (the idle one costs nothing); throughput is measured in alternating rounds
 * (echo, receiver, echo, receiver, ...) so that background load on the box hits both alike, then each gets a
 * fixed-rate latency run. CPU per request (server process tree, redis-server) is reported too: unlike req/s
 * it does not depend on how much of the box the server got.
 */
export async function benchIngest(redis: PrivateRedis, p: BenchProfile, log: Log): Promise<IngestFigures> {
  await redis.reset();
  const [echoPort, naivePort, recvPort] = [await freePort(), await freePort(), await freePort()];
  const profDir = join(LOG_DIR, `cpuprofile-${Date.now()}`);
  log(`ingest: bare Hono JSON echo, naive receiver (SET NX + queue.add) and the receiver (apps/receiver/src/main.ts), ${p.procs} process(es) each, ${p.connections} connections, private Redis ${redis.url}`);
  const echo = runTs('echo', 'bench/servers/echo.ts', { ECHO_PORT: String(echoPort), ECHO_WORKERS: String(p.procs) });
  const naive = runTs('naive', 'bench/servers/naive.ts', { NAIVE_PORT: String(naivePort), NAIVE_WORKERS: String(p.procs), REDIS_URL: redis.url, QUEUE_PREFIX: 'naive' });
  const receiver = runTs('receiver', 'apps/receiver/src/main.ts', receiverEnv(redis, recvPort, p), p.cpuProfile ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] } : {});
  const sides: Side[] = [
    { name: 'echo', url: `http://127.0.0.1:${echoPort}${WEBHOOK}`, server: echo, ok: 0, seconds: 0, cpu: {}, statuses: {} },
    { name: 'naive', url: `http://127.0.0.1:${naivePort}${WEBHOOK}`, server: naive, redisPid: redis.pid, ok: 0, seconds: 0, cpu: {}, statuses: {} },
    { name: 'receiver', url: `http://127.0.0.1:${recvPort}${WEBHOOK}`, server: receiver, redisPid: redis.pid, ok: 0, seconds: 0, cpu: {}, statuses: {} },
  ];
  const run = `r${Date.now()}`;
  const lat: LoadResult[] = [];
  try {
    await waitForHttp(`http://127.0.0.1:${echoPort}/healthz`, echo);
    await waitForHttp(`http://127.0.0.1:${naivePort}/healthz`, naive);
    await waitForHttp(`http://127.0.0.1:${recvPort}/readyz`, receiver);
    for (const side of sides) await load({ url: side.url, connections: p.connections, duration: p.warmupS, body: webhook(`${run}-${side.name}-warm`) });
    for (let i = 0; i < ROUNDS; i++) {
      for (const side of sides) await round(side, p, p.durationS / ROUNDS, `${run}-${side.name}-${i}`);
      log(`ingest: round ${i + 1}/${ROUNDS}: ${sides.map((x) => `${x.name} ${(x.ok / x.seconds).toFixed(0)}/s`).join(', ')} so far`);
    }
    for (const side of sides) {
      await sleep(300);
      lat.push(await load({ url: side.url, connections: Math.min(10, p.connections), duration: p.latencyS, overallRate: p.latencyRate, body: webhook(`${run}-${side.name}-lat`) }));
    }
  } finally {
    await Promise.all([echo.stop(), naive.stop(), receiver.stop()]);
  }
  const [e, nv, r] = sides as [Side, Side, Side];
  if ((nv.statuses['202'] ?? 0) === 0) throw new Error(`the naive receiver accepted nothing (statuses ${JSON.stringify(nv.statuses)}):\n${naive.tail()}`);
  if (e.ok <= 0) throw new Error(`the echo answered no 2xx (statuses ${JSON.stringify(e.statuses)}):\n${echo.tail()}`);
  const accepted = r.statuses['202'] ?? 0;
  if (accepted === 0) throw new Error(`the receiver accepted nothing (statuses ${JSON.stringify(r.statuses)}):\n${receiver.tail()}`);
  if (Object.keys(r.statuses).some((st) => st !== '202')) log(`ingest: WARNING receiver answered ${JSON.stringify(r.statuses)} (expected only 202)`);
  // Every 202 must be a job in Redis (the receiver answers 2xx only after the job is stored).
  const jobs = await redis.admin.llen(`ivr:${QUEUE_NAMES.events}:wait`);
  if (jobs < accepted) throw new Error(`the receiver answered 202 ${accepted} times but only ${jobs} jobs are in ${QUEUE_NAMES.events}`);
  await redis.reset();
  const fig = (side: Side, l: LoadResult) => {
    const okPerSec = side.ok / side.seconds;
    const cores = Object.fromEntries(Object.entries(side.cpu).map(([k, v]) => [k, v / side.seconds]));
    const cpuUsPerReq = Object.fromEntries(Object.entries(side.cpu).filter(([k]) => k !== 'load generator').map(([k, v]) => [k, (v * 1e6) / side.ok]));
    return { okPerSec, p50: l.p50, p99: l.p99, cores, cpuUsPerReq, statuses: side.statuses };
  };
  const ef = fig(e, lat[0]!);
  const nf = fig(nv, lat[1]!);
  const rf = fig(r, lat[2]!);
  return {
    echo: ef,
    naive: nf,
    receiver: rf,
    ratio: rf.okPerSec / ef.okPerSec,
    naiveRatio: rf.okPerSec / nf.okPerSec,
    p50Ratio: rf.p50 / ef.p50,
    p99Ratio: rf.p99 / ef.p99,
    profiles: p.cpuProfile ? [profDir] : [],
  };
}

export async function until(what: string, timeoutS: number, check: () => Promise<boolean>, children: Child[] = []): Promise<void> {
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
    { name: 'ingest ÷ naive receiver', value: r.ingest.naiveRatio, target: '≥ 1.0', met: r.ingest.naiveRatio >= 1 },
    { name: 'ingest ÷ echo', value: r.ingest.ratio, target: '≥ 0.5', met: r.ingest.ratio >= 0.5 },
    { name: 'ack p99 ÷ echo p99 @ fixed rate', value: r.ingest.p99Ratio, target: '≤ 2', met: r.ingest.p99Ratio <= 2 },
    { name: 'end to end ÷ bare chain', value: r.e2e.ratio, target: '≥ 0.5', met: r.e2e.ratio >= 0.5 },
    { name: 'analytics calls / decision', value: r.e2e.analyticsCallsPerDecision, target: '≤ 0.01', met: r.e2e.analyticsCallsPerDecision <= 0.01 },
    { name: 'Genesys requests / decision, sync path', value: r.e2e.genesysRequestsPerDecision.sync, target: '≤ 0.05 (no write)', met: r.e2e.genesysRequestsPerDecision.sync <= 0.05 },
    { name: 'store requests / decision', value: r.e2e.storeRequestsPerDecision, target: '≤ 0.01', met: r.e2e.storeRequestsPerDecision <= 0.01 },
    { name: 'MB per 1M idempotency keys', value: r.memory.mbPerMillion, target: '≤ 150', met: r.memory.mbPerMillion <= 150 },
  ];
}

const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : String(v));
const cores = (c: Cores | undefined, d = 2) =>
  Object.entries(c ?? {})
    .filter(([, v]) => Number.isFinite(v))
    .map(([k, v]) => `${k === 'load generator' ? 'load' : k} ${f(v, d)}`)
    .join(', ');

/** The results as a plain-text (and Markdown) table. */
export function table(r: BenchResults, extra: Array<[string, string, string, string, string]> = []): string {
  const i = r.ingest;
  const e = r.e2e;
  const rows: Array<[string, string, string, string, string]> = [
    ['ingest (2xx/s, ' + r.profile.connections + ' conns)', f(i.receiver.okPerSec, 0), f(i.echo.okPerSec, 0) + ' (echo)', f(i.ratio), '≥ 0.5'],
    ['ingest vs naive receiver (2xx/s)', f(i.receiver.okPerSec, 0), f(i.naive?.okPerSec ?? NaN, 0) + ' (naive)', f(i.naiveRatio), '≥ 1.0'],
    [`ack p50 @ ${r.profile.latencyRate}/s (ms)`, f(i.receiver.p50), f(i.echo.p50) + ' (echo)', f(i.p50Ratio), ''],
    [`ack p99 @ ${r.profile.latencyRate}/s (ms)`, f(i.receiver.p99), f(i.echo.p99) + ' (echo)', f(i.p99Ratio), '≤ 2'],
    ['CPU during ingest (cores)', cores(i.receiver.cores), cores(i.echo.cores) + ' (echo)', '', ''],
    ['CPU per request, naive (µs)', cores(i.naive?.cpuUsPerReq, 0), '', '', ''],
    ['CPU per request (µs)', cores(i.receiver.cpuUsPerReq, 0), cores(i.echo.cpuUsPerReq, 0) + ' (echo)', f((i.receiver.cpuUsPerReq['server'] ?? NaN) / (i.echo.cpuUsPerReq['server'] ?? NaN)), ''],
    ['end to end (decisions/s)', f(e.pipeline.perSec, 0), f(e.chain.perSec, 0) + ' (bare chain)', f(e.ratio), '≥ 0.5'],
    ['decision latency p50 / p99 (ms)', `${f(e.pipeline.latencyP50, 0)} / ${f(e.pipeline.latencyP99, 0)}`, '', '', ''],
    [`analytics calls / decision (${e.queues} queues)`, f(e.analyticsCallsPerDecision, 4), '', '', '≤ 0.01'],
    ['Genesys requests / decision, async (no Prefer)', f(e.genesysRequestsPerDecision?.async ?? NaN, 4), '', '', ''],
    [`Genesys requests / decision, sync (Prefer: wait, ${e.genesysRequestsPerDecision?.syncDecisions ?? 0} calls)`, f(e.genesysRequestsPerDecision?.sync ?? NaN, 4), '', '', ''],
    ['store requests / decision', f(e.storeRequestsPerDecision, 4), '', '', '≤ 0.01'],
    ['Redis commands / decision (all)', f(e.redisCommandsPerDecision, 1), f(e.chain.redisCommandsPerChain, 1) + ' (per chain)', '', ''],
    [`Redis MB per 1M idempotency keys`, f(r.memory.mbPerMillion, 1), `${f(r.memory.bytesPerKey, 0)} B/key`, '', '≤ 150'],
    ...extra,
  ];
  const head: [string, string, string, string, string] = ['measure', 'ours', 'baseline', 'ratio', 'target'];
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(w[c]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
