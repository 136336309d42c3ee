/**
 * The bench harness: every figure is a ratio against a baseline measured in the same run, on the same box,
 * with the same load generator (autocannon, in this process), the same connection count and the same number
 * of server processes. Used by `pnpm bench` (bench/run.ts) and `pnpm bench:smoke` (bench/smoke.ts).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { bodyFingerprint } from '@ivr/core';
import { createIdempotencyStore } from '@ivr/intake';
import { keyspace, QUEUE_NAMES } from '@ivr/queue-contract';
import { load, type LoadResult } from './lib/load';
import { cpuShare } from './lib/cpu';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertRunning, freePort, waitFor, waitForHttp, type NodeProcess as Child } from '@ivr/testing';
import { LOG_DIR, runTs } from './lib/procs';
import type { PrivateRedis } from './lib/redis-server';

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
  /** A rate this box sustains with room to spare, for the in-call floor (no queueing), and its seconds. */
  inCallLowRate: number;
  inCallLowS: number;
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
  inCallLowRate: 50,
  inCallLowS: 6,
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
  inCallLowRate: 10,
  inCallLowS: 0.5,
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

export interface MemoryFigures {
  keys: number;
  bytesPerKey: number;
  mbPerMillion: number;
}


type Log = (line: string) => void;


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

/** `check` polled until true within `timeoutS`; a child that exits meanwhile ends the wait with its log tail. */
export async function until(what: string, timeoutS: number, check: () => Promise<boolean>, children: Child[] = []): Promise<void> {
  await waitFor(async () => (assertRunning(...children), check()), what, timeoutS * 1000, 50);
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
