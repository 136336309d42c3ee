/**
 * The in-call decision: a Call Data Action POSTs with `Prefer: wait=N` and the caller waits for the answer.
 * Fixed-rate runs against the real pipeline (simulator, one worker process, receiver), against the same pipeline
 * through a receiver with INCALL_DECIDE=false (the worker path) and against the bare echo at the same rate, in
 * alternating rounds, each started on a settled pipeline (first once at a rate the box sustains with room to spare:
 * each path's floor); then a run at a higher rate counting how many were decided within the
 * wait; then a per-stage breakdown of the decided calls, from timestamps the system keeps anyway (the request's
 * send time, the event's receivedAt, BullMQ's job timestamp / processedOn / finishedOn, the decision record's
 * time), all on the same box's clock (whole milliseconds on the server side).
 */
import { heldState, keyspace, QUEUE_NAMES } from '@ivr/queue-contract';
import { jobIdForKey } from '@ivr/core';
import { fixedRate, type Timed } from './lib/fixed-rate';
import { percentile } from './lib/load';
import { startPipeline, type Pipeline } from './lib/pipeline';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { freePort, waitFor, waitForHttp } from '@ivr/testing';
import { runTs } from './lib/procs';
import type { PrivateRedis } from './lib/redis-server';
import { webhook, type BenchProfile } from './harness';

export interface RateFigures {
  rate: number;
  calls: number;
  /** Answers 200 `decided` (the decision in the answer). */
  decided: number;
  statuses: Record<string, number>;
  p50: number;
  p99: number;
}

export interface InCallFigures {
  waitS: number;
  connections: number;
  ours: RateFigures;
  echo: RateFigures;
  /** The same calls through a receiver with INCALL_DECIDE=false (every decision a worker's): the lever's baseline. */
  workerPath: RateFigures;
  p50Ratio: number;
  p99Ratio: number;
  /** Redis commands per call of ours at the main rate (INCALL commandstats delta over its rounds, follow-ups included). */
  redisCommandsPerCall: number;
  /** Below capacity (profile.inCallLowRate): ours, INCALL_DECIDE=false and the echo, one round each. */
  low: { ours: RateFigures; workerPath: RateFigures; echo: RateFigures };
  /** At the higher rate (profile.inCallHighRate). */
  high: RateFigures;
  /** Per stage, ms, over the decided calls of the main rate. */
  /** Per stage over the decided calls of the main rate (both receivers), by path (in-call: the receiver decided; worker); n calls each. */
  stages: Array<{ stage: string; n: number; p50: number; p99: number }>;
}

type Log = (line: string) => void;
const WEBHOOK = '/webhook/genesys-dtmf';

function figures(rate: number, t: Timed[]): RateFigures {
  const statuses: Record<string, number> = {};
  for (const r of t) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const ms = t.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.ms).sort((a, b) => a - b);
  return { rate, calls: t.length, decided: t.filter((r) => r.answer === 'decided').length, statuses, p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/** `shared`: a running pipeline with one worker process (left running); otherwise one is started and stopped. */
export async function benchInCall(redis: PrivateRedis, p: BenchProfile, log: Log, shared?: Pipeline): Promise<InCallFigures> {
  if (!shared) await redis.reset();
  const half = Math.round((p.inCallRate * p.inCallS) / 2);
  const warm = Math.max(10, Math.round(p.inCallRate / 2));
  const high = Math.round(p.inCallHighRate * p.inCallHighS);
  const low = Math.round(p.inCallLowRate * p.inCallLowS);
  log(`in-call decision: Prefer: wait=${p.preferWaitS}, ${p.inCallLowRate} calls/s for ${p.inCallLowS} s (below capacity), then ${p.inCallRate} calls/s for ${p.inCallS} s (2 rounds each, alternating with INCALL_DECIDE=false and the echo), ${p.inCallConnections} connections; then ${p.inCallHighRate}/s for ${p.inCallHighS} s`);
  const echoPort = await freePort();
  const echo = runTs('echo-incall', 'bench/servers/echo.ts', { ECHO_PORT: String(echoPort), ECHO_WORKERS: String(p.procs) });
  const pipe = shared ?? (await startPipeline(redis, { workers: 1, concurrency: p.concurrency, logLevel: p.logLevel, procs: p.procs }));
  // The lever's baseline in the same run: a second receiver on the same pipeline with INCALL_DECIDE=false (every
  // decision a worker's, the receiver waits for it on pub/sub).
  const wpPort = await freePort();
  const workerPath = runTs('receiver-worker-path', 'apps/receiver/src/main.ts', { ...pipe.env, RECEIVER_PORT: String(wpPort), INCALL_DECIDE: 'false' });
  const conn = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queues = [QUEUE_NAMES.events, QUEUE_NAMES.writes, QUEUE_NAMES.reports].map((name) => new Queue(name, { connection: conn, prefix: 'ivr' }));
  const ks = keyspace('ivr');
  // Each round starts on a settled pipeline: no job of the previous round left (an in-call decision's report batch, a
  // worker-path decision's write and report) and no event held, so neither path pays for the other's work.
  const settle = () =>
    waitFor(
      async () =>
        (await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')))).every((c) => Object.values(c).every((n) => n === 0)) &&
        (await heldState(conn, ks)).count === 0,
      'the pipeline to settle between in-call rounds',
      120_000,
      100,
    );
  try {
    await Promise.all([waitForHttp(`http://127.0.0.1:${echoPort}/healthz`, echo), waitForHttp(`http://127.0.0.1:${wpPort}/readyz`, workerPath)]);
    const run = `ic${Date.now()}`;
    const body = webhook(run);
    const lowFrom = warm + 4 * half + high + 1; // after one call that warms the occupancy cache
    await pipe.createCalls(run, lowFrom + 2 * low);
    const headers = { prefer: `wait=${p.preferWaitS}` };
    const common = { rate: p.inCallRate, seconds: p.inCallS / 2, connections: p.inCallConnections, headers };
    const ours = `${pipe.recvUrl}${WEBHOOK}`;
    const echoUrl = `http://127.0.0.1:${echoPort}${WEBHOOK}`;
    const wpUrl = `http://127.0.0.1:${wpPort}${WEBHOOK}`;
    // Below capacity first (the floor of each path, no queueing), after one call that fills the occupancy cache.
    await fixedRate({ ...common, rate: 1, seconds: 1, url: ours, body, from: lowFrom - 1 });
    const lowCommon = { rate: p.inCallLowRate, seconds: p.inCallLowS, connections: p.inCallConnections, headers };
    const lowEcho = await fixedRate({ ...lowCommon, url: echoUrl, body: webhook(`${run}-echo-low`) });
    await settle();
    const lowOurs = await fixedRate({ ...lowCommon, url: ours, body, from: lowFrom });
    await settle();
    const lowWorker = await fixedRate({ ...lowCommon, url: wpUrl, body, from: lowFrom + low });
    const lowFigures = { ours: figures(p.inCallLowRate, lowOurs), workerPath: figures(p.inCallLowRate, lowWorker), echo: figures(p.inCallLowRate, lowEcho) };
    log(`in-call decision: ${p.inCallLowRate}/s: ours p50 ${lowFigures.ours.p50.toFixed(1)} ms, INCALL_DECIDE=false ${lowFigures.workerPath.p50.toFixed(1)} ms, echo ${lowFigures.echo.p50.toFixed(1)} ms`);
    await fixedRate({ ...common, seconds: warm / p.inCallRate, url: ours, body });
    await fixedRate({ ...common, seconds: 0.5, url: echoUrl, body: webhook(`${run}-echo-warm`) });
    const o: Timed[] = [];
    const e: Timed[] = [];
    const w: Timed[] = [];
    let ourCommands = 0;
    for (let round = 0; round < 2; round++) {
      e.push(...(await fixedRate({ ...common, url: echoUrl, body: webhook(`${run}-echo`), from: round * half })));
      await settle();
      const calls0 = await redis.commandCalls();
      o.push(...(await fixedRate({ ...common, url: ours, body, from: warm + round * half })));
      await settle(); // the calls' follow-ups too (settled writes, report batches and their storage, releases)
      const calls1 = await redis.commandCalls();
      ourCommands += Object.entries(calls1).reduce((a, [k, v]) => a + v - (calls0[k] ?? 0), 0);
      w.push(...(await fixedRate({ ...common, url: wpUrl, body, from: warm + 2 * half + high + round * half })));
      log(`in-call decision: round ${round + 1}/2: ours p50 ${figures(p.inCallRate, o).p50.toFixed(1)} ms, INCALL_DECIDE=false ${figures(p.inCallRate, w).p50.toFixed(1)} ms, echo p50 ${figures(p.inCallRate, e).p50.toFixed(1)} ms so far`);
    }
    await settle();
    const h = await fixedRate({ rate: p.inCallHighRate, seconds: p.inCallHighS, connections: p.inCallConnections, headers, url: ours, body, from: warm + 2 * half });
    const of = figures(p.inCallRate, o);
    const ef = figures(p.inCallRate, e);
    const hf = figures(p.inCallHighRate, h);
    if (of.decided !== of.calls) log(`in-call decision: WARNING ${of.calls - of.decided} of ${of.calls} calls at ${p.inCallRate}/s were not answered decided (${JSON.stringify(of.statuses)})`);
    const wf = figures(p.inCallRate, w);
    return { waitS: p.preferWaitS, connections: p.inCallConnections, ours: of, echo: ef, workerPath: wf, low: lowFigures, p50Ratio: of.p50 / ef.p50, p99Ratio: of.p99 / ef.p99, redisCommandsPerCall: ourCommands / of.calls, high: hf, stages: await stages(redis, [...o, ...w]) };
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    conn.disconnect();
    await Promise.all([echo.stop(), workerPath.stop(), shared ? undefined : pipe.stop()]);
    if (!shared) await redis.reset();
  }
}

/**
 * Where each decided call's round trip went, from the timestamps stored in Redis (see the file comment). A call the
 * receiver decided in-call never had a job (held, then released): its stages come from the decision record
 * (received = decided - latencyMs). A call a worker decided (figures not cached) has the job's timestamps too.
 */
async function stages(redis: PrivateRedis, timed: Timed[]): Promise<InCallFigures['stages']> {
  const ks = keyspace('ivr');
  const decided = timed.filter((t) => t.answer === 'decided');
  const tx = redis.admin.pipeline();
  for (const t of decided) {
    tx.hmget(`ivr:${QUEUE_NAMES.events}:${jobIdForKey(t.key)}`, 'timestamp', 'processedOn', 'finishedOn');
    tx.get(ks.decision(t.key));
  }
  const replies = (await tx.exec()) ?? [];
  const inCall = ['in-call: client send → receiver handler (HTTP, event loop)', 'in-call: received → decided in the receiver (ingest script with the state Lua and the cached occupancy, commit Lua)', 'in-call: decided → answer at the client (HTTP)'];
  const worker = [
    'worker: client send → receiver handler (HTTP, event loop)',
    'worker: received → job built and stored (parse, validate, hash, ingest script)',
    'worker: job stored → decide picked up (promote, worker pick-up)',
    'worker: picked up → decided (state Lua, occupancy, commit Lua)',
    'worker: decided → decide job finished (follow-up adds, publish, moveToFinished)',
    'worker: decided → answer at the client (pub/sub, waiter, HTTP)',
  ];
  // The receiver's own account of each waited answer (Server-Timing, monotonic clock, µs): what the whole-ms stamps
  // stored in Redis cannot resolve once a call takes under a millisecond.
  const routeStages = {
    read: 'in-call, Server-Timing: read (body, content type, auth, payload, key)',
    store: 'in-call, Server-Timing: store (ingest script round trip, in-call start included)',
    decide: 'in-call, Server-Timing: decide (routing rule, commit round trip)',
    total: 'in-call, Server-Timing: total in the webhook route',
    outside: 'in-call: client round trip - route total (HTTP parse and answer, event loop, sockets)',
    wait: "worker, Server-Timing: waiting for the worker's decision",
  } as const;
  const cols = new Map<string, number[]>([...Object.values(routeStages), ...inCall, ...worker].map((n) => [n, []]));
  const push = (names: string[], vals: number[]) => vals.forEach((v, i) => cols.get(names[i]!)!.push(v));
  for (const t of decided) {
    const st = t.timing;
    if (st['wait'] !== undefined) cols.get(routeStages.wait)!.push(st['wait']);
    else if (st['decide'] !== undefined) for (const k of ['read', 'store', 'decide', 'total'] as const) if (st[k] !== undefined) cols.get(routeStages[k])!.push(st[k]);
    if (st['decide'] !== undefined && st['wait'] === undefined && st['total'] !== undefined) cols.get(routeStages.outside)!.push(t.ms - st['total']);
  }
  decided.forEach((t, i) => {
    const [job, rec] = [replies[2 * i]?.[1] as Array<string | null> | undefined, replies[2 * i + 1]?.[1] as string | null | undefined];
    if (!rec) return;
    const r = JSON.parse(rec) as { timestamp: string; latencyMs: number };
    const decidedAt = Date.parse(r.timestamp);
    const received = decidedAt - r.latencyMs;
    const answered = t.sentAt + t.ms;
    if (job?.[0] && job[1] && job[2]) {
      const [added, picked, finished] = [Number(job[0]), Number(job[1]), Number(job[2])];
      push(worker, [received - t.sentAt, added - received, picked - added, decidedAt - picked, finished - decidedAt, answered - decidedAt]);
    } else push(inCall, [received - t.sentAt, decidedAt - received, answered - decidedAt]);
  });
  return [...cols].map(([stage, v]) => {
    v.sort((a, b) => a - b);
    return { stage, n: v.length, p50: percentile(v, 50), p99: percentile(v, 99) };
  });
}

const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

/** Table rows (measure, ours, baseline, ratio, target). */
export function inCallRows(i: InCallFigures | undefined): Array<[string, string, string, string, string]> {
  if (!i) return [];
  return [
    [`in-call p50 @ ${i.ours.rate}/s, Prefer: wait=${i.waitS} (ms)`, f(i.ours.p50), `${f(i.echo.p50)} (echo)`, f(i.p50Ratio, 2), '≤ 3'],
    [`in-call p99 @ ${i.ours.rate}/s (ms)`, f(i.ours.p99), `${f(i.echo.p99)} (echo)`, f(i.p99Ratio, 2), '≤ 3'],
    [`in-call answered decided @ ${i.ours.rate}/s`, `${i.ours.decided} / ${i.ours.calls}`, '', '', 'all'],
    [`in-call Redis commands per call @ ${i.ours.rate}/s (follow-ups included)`, f(i.redisCommandsPerCall), '', '', ''],
    [`in-call p50 / p99 @ ${i.ours.rate}/s vs INCALL_DECIDE=false (ms)`, `${f(i.ours.p50)} / ${f(i.ours.p99)}`, `${f(i.workerPath.p50)} / ${f(i.workerPath.p99)} (worker path)`, `${f(i.ours.p50 / i.workerPath.p50, 2)} / ${f(i.ours.p99 / i.workerPath.p99, 2)}`, ''],
    [`in-call p50 / p99 @ ${i.low.ours.rate}/s (below capacity) (ms)`, `${f(i.low.ours.p50)} / ${f(i.low.ours.p99)}`, `${f(i.low.echo.p50)} / ${f(i.low.echo.p99)} (echo)`, `${f(i.low.ours.p50 / i.low.echo.p50, 2)} / ${f(i.low.ours.p99 / i.low.echo.p99, 2)}`, ''],
    [`in-call p50 / p99 @ ${i.low.ours.rate}/s vs INCALL_DECIDE=false (ms)`, `${f(i.low.ours.p50)} / ${f(i.low.ours.p99)}`, `${f(i.low.workerPath.p50)} / ${f(i.low.workerPath.p99)} (worker path)`, `${f(i.low.ours.p50 / i.low.workerPath.p50, 2)} / ${f(i.low.ours.p99 / i.low.workerPath.p99, 2)}`, ''],
    [`in-call decided within wait @ ${i.high.rate}/s`, `${i.high.decided} / ${i.high.calls}`, `p50 ${f(i.high.p50)} / p99 ${f(i.high.p99)} ms`, '', ''],
  ];
}

export function inCallTargets(i: InCallFigures | undefined) {
  if (!i) return [];
  return [
    { name: 'in-call p50 ÷ echo p50', value: i.p50Ratio, target: '≤ 3', met: i.p50Ratio <= 3 },
    { name: 'in-call p99 ÷ echo p99', value: i.p99Ratio, target: '≤ 3', met: i.p99Ratio <= 3 },
    { name: `in-call calls answered decided @ ${i.ours.rate}/s (share)`, value: i.ours.decided / i.ours.calls, target: '= 1', met: i.ours.decided === i.ours.calls },
  ];
}

export function formatStages(i: InCallFigures | undefined): string {
  if (!i) return '';
  const shown = i.stages.filter((s) => s.n > 0);
  const w = Math.max(...shown.map((s) => s.stage.length));
  return [
    `in-call per stage @ ${i.ours.rate}/s (ms; Server-Timing rows: the receiver's monotonic clock; the others: server clocks, whole ms; n = decided calls on that path):`,
    ...shown.map((s) => `  ${s.stage.padEnd(w)}  n ${String(s.n).padStart(5)}  p50 ${f(s.p50, 2).padStart(7)}  p99 ${f(s.p99, 2).padStart(7)}`),
  ].join('\n');
}
