/**
 * Chaos harness: what is specific to the chaos scenarios — the apps of a scenario as processes with their logs in
 * reports/chaos/logs, their shared environment, BullMQ handles and counts read back from Redis / BullMQ / the
 * simulator, and one table row per scenario. The generic parts (processes, Cleanup, waitFor, waitForHttp, free
 * ports, private redis-server, HTTP load) are @ivr/testing's; the simulator's helpers are @ivr/genesys-sim/testing.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { ALL_QUEUES, batchOutcomesOf, batchReportsOf, heldState, keyspace, QUEUE_NAMES, queueClientOf, WRITE_OUTCOME_BATCH_JOB, WRITE_OUTCOME_JOB } from '@ivr/queue-contract';
import { createConversation, simControl, type SimControl } from '@ivr/genesys-sim/testing';
import { assertRunning, deletePrefix, freePort, pool, REPO_ROOT, TEST_REDIS_URL, spawnNode, startRedisServer, uniquePrefix, waitFor, waitForHttp, type Cleanup, type NodeProcess, type RedisServer } from '@ivr/testing';
import { APPS } from '../apps';

export const CHAOS_DIR = join(REPO_ROOT, 'reports', 'chaos');
export const ROWS_FILE = join(CHAOS_DIR, 'rows.jsonl');
export const LOG_DIR = join(CHAOS_DIR, 'logs');

/** Environment every app process of a scenario shares. */
export function baseEnv(o: { redisUrl: string; prefix: string; simUrl: string; extra?: Record<string, string> }): Record<string, string> {
  return {
    REDIS_URL: o.redisUrl,
    QUEUE_PREFIX: o.prefix,
    GENESYS_CLIENT_ID: '',
    GENESYS_CLIENT_SECRET: '',
    GENESYS_API_BASE: o.simUrl,
    LOG_LEVEL: 'warn',
    GENESYS_RATE_PER_MIN: '60000',
    RECEIVER_HOST: '127.0.0.1',
    REPORTS_DIR: join(CHAOS_DIR, 'heatmaps'),
    LOCK_DURATION_MS: '5000',
    STALLED_INTERVAL_MS: '2000',
    GENESYS_TIMEOUT_MS: '3000',
    APPLY_BACKOFF_MS: '100',
    REPORT_LINGER_MS: '50',
    OCCUPANCY_CACHE_MS: '500',
    OCCUPANCY_SOURCE: 'polling', // the Genesys faults here are poll-path faults; push faults: tests/integration/occupancy-push.int.test.ts
    SHUTDOWN_GRACE_MS: '15000',
    ELASTICSEARCH_URL: '',
    ELASTICSEARCH_HOST: '',
    ...o.extra,
  };
}

let logSeq = 0;

/** An app of a scenario as its own process (NODE_ENV=production), output in reports/chaos/logs/<scenario>-<n>-<name>.log. */
function spawnApp(scenario: string, name: string, app: keyof typeof APPS, env: Record<string, string>): NodeProcess {
  const logFile = join(LOG_DIR, `${scenario}-${String(++logSeq).padStart(2, '0')}-${name}.log`);
  return spawnNode(APPS[app], { name, env: { NODE_ENV: 'production', ...env }, logFile });
}

export interface Sim {
  url: string;
  port: number;
  control: SimControl;
  proc: NodeProcess;
}

/** The Genesys simulator as its own process (apps/genesys-sim/src/main.ts with SIM_PORT). */
export async function startSimProcess(scenario: string, cleanup: Cleanup): Promise<Sim> {
  const port = await freePort();
  const proc = spawnApp(scenario, 'genesys-sim', 'genesys-sim', { SIM_PORT: String(port), LOG_LEVEL: 'warn' });
  cleanup.add('stop genesys-sim', () => proc.stop(3000));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/__sim/stats`, proc);
  return { url, port, control: simControl(url), proc };
}

export interface Receiver {
  url: string;
  proc: NodeProcess;
}

export async function startReceiverProcess(scenario: string, env: Record<string, string>, cleanup: Cleanup, name = 'receiver'): Promise<Receiver> {
  const port = await freePort();
  const proc = spawnApp(scenario, name, 'receiver', { ...env, RECEIVER_PORT: String(port) });
  cleanup.add(`stop ${name}`, () => proc.stop(5000));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/readyz`, proc);
  return { url, proc };
}

/** Start `n` worker processes and wait until each has a BullMQ worker on every queue. */
export async function startWorkerProcesses(scenario: string, env: Record<string, string>, n: number, queues: Queues, cleanup: Cleanup, startIndex = 1): Promise<NodeProcess[]> {
  const before = await queues.events.getWorkersCount();
  const procs: NodeProcess[] = [];
  for (let i = 0; i < n; i++) {
    const p = spawnApp(scenario, `worker-${startIndex + i}`, 'worker', { ...env, WORKER_INDEX: String(startIndex + i) });
    cleanup.add(`stop worker-${startIndex + i}`, () => p.stop(15000));
    procs.push(p);
  }
  await waitFor(
    async () => {
      assertRunning(...procs);
      const counts = await Promise.all(queues.all.map((q) => q.getWorkersCount()));
      return counts.every((c) => c >= before + n);
    },
    `${n} worker process(es) connected to every queue`,
    30000,
    200,
  );
  return procs;
}

export interface Queues {
  events: Queue;
  writes: Queue;
  reports: Queue;
  all: Queue[];
  close(): Promise<void>;
}

/** Read-only BullMQ handles on the scenario's queues (for counts, job states, failed lists). */
export function openQueues(redisUrl: string, prefix: string): Queues {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const mk = (name: string) => {
    const q = new Queue(name, { connection, prefix });
    q.on('error', () => undefined); // reconnects are expected in the outage scenarios
    return q;
  };
  const events = mk(QUEUE_NAMES.events);
  const writes = mk(QUEUE_NAMES.writes);
  const reports = mk(QUEUE_NAMES.reports);
  return {
    events,
    writes,
    reports,
    all: [events, writes, reports],
    async close() {
      await Promise.all([events, writes, reports].map((q) => q.close()));
      connection.disconnect();
    },
  };
}

/** Count `stalled` events per queue (a job whose lock expired and was put back by another worker). */
export function countStalled(redisUrl: string, prefix: string): { counts: Record<string, number>; ids: Set<string>; close(): Promise<void>; ready: Promise<void> } {
  const counts: Record<string, number> = Object.fromEntries(ALL_QUEUES.map((q) => [q, 0]));
  const ids = new Set<string>();
  const events = ALL_QUEUES.map((name) => {
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    const qe = new QueueEvents(name, { connection, prefix, autorun: true });
    qe.on('error', () => undefined);
    qe.on('stalled', ({ jobId }) => {
      counts[name] = (counts[name] ?? 0) + 1;
      ids.add(`${name}:${jobId}`);
    });
    return { qe, connection };
  });
  return {
    counts,
    ids,
    ready: Promise.all(events.map((e) => e.qe.waitUntilReady())).then(() => undefined),
    async close() {
      await Promise.all(events.map(async (e) => {
        await e.qe.close();
        e.connection.disconnect();
      }));
    },
  };
}

/** How many of `keys` have a stored decision (`{prefix}:ivr:decision:{key}`). */
export async function decidedCount(redis: Redis, prefix: string, keys: Iterable<string>): Promise<number> {
  const ks = keyspace(prefix);
  const list = [...keys];
  let n = 0;
  for (let i = 0; i < list.length; i += 1000) {
    const chunk = list.slice(i, i + 1000).map((k) => ks.decision(k));
    if (chunk.length) n += await redis.exists(...chunk);
  }
  return n;
}

/** How many of the conversations carry a routing decision as participant attributes in the simulator. */
export async function appliedInSim(simUrl: string, conversationIds: readonly string[]): Promise<{ applied: number; missing: string[]; attributes: Map<string, Record<string, string>> }> {
  let applied = 0;
  const missing: string[] = [];
  const attributes = new Map<string, Record<string, string>>();
  await pool(conversationIds, 32, async (cid) => {
    const res = await fetch(`${simUrl}/__sim/conversations/${encodeURIComponent(cid)}`);
    if (res.ok) {
      const c = (await res.json()) as { participants: Array<{ attributes: Record<string, string> }> };
      const attrs = c.participants.find((p) => p.attributes['finalRoutingDecision'])?.attributes;
      if (attrs) {
        applied++;
        attributes.set(cid, attrs);
        return;
      }
    }
    missing.push(cid);
  });
  return { applied, missing, attributes };
}

/** Wait until no job is waiting, delayed, active or prioritized on any queue, and no event is held for an in-call decision. */
export async function waitDrained(queues: Queues, what: string, timeoutMs: number): Promise<void> {
  const conn = await queueClientOf(queues.events);
  const ks = keyspace(queues.events.opts.prefix!);
  await waitFor(
    async () => {
      const counts = await Promise.all(queues.all.map((q) => q.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'waiting-children')));
      return counts.every((c) => Object.values(c).every((v) => v === 0)) && (await heldState(conn, ks)).count === 0;
    },
    what,
    timeoutMs,
    250,
  );
}

/** A scenario's shared-Redis prefix, admin client and cleanup (keys deleted, client closed). */
export function scenarioRedis(label: string, cleanup: Cleanup, url = TEST_REDIS_URL) {
  const prefix = uniquePrefix(`chaos${label}`);
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  cleanup.add('delete prefix and close admin client', async () => {
    if (redis.status === 'ready') await deletePrefix(redis, prefix);
    redis.disconnect();
  });
  return { prefix, redis };
}

/**
 * A private redis-server (AOF on, so SHUTDOWN + start keeps the data) for a scenario that stops and restarts Redis;
 * its log in reports/chaos/logs; stopped and removed by `cleanup`.
 */
export async function privateRedis(scenario: string, cleanup: Cleanup): Promise<RedisServer> {
  mkdirSync(LOG_DIR, { recursive: true });
  const rs = await startRedisServer({ appendOnly: true, logFile: join(LOG_DIR, `${scenario}-redis.log`) });
  cleanup.add('stop private redis and remove its directory', () => rs.stop());
  return rs;
}

/** One row of the final table (written to reports/chaos/rows.jsonl, printed by the global teardown). */
export interface Row {
  scenario: string;
  load: string;
  fault: string;
  result: string;
  figures: string;
  seconds: number;
  pass: boolean;
}

export function recordRow(row: Row): void {
  mkdirSync(CHAOS_DIR, { recursive: true });
  appendFileSync(ROWS_FILE, JSON.stringify(row) + '\n');
  console.log(`[chaos] ${row.pass ? 'PASS' : 'FAIL'} ${row.scenario}: ${row.result}; ${row.figures} (${row.seconds.toFixed(1)} s)`);
}

/** Elapsed seconds since `t0` (ms). */
export const secondsSince = (t0: number) => (Date.now() - t0) / 1000;

/** Events with one conversation each (data-action payload), keys `${tag}-${i}`. */
export function makeEvents(tag: string, n: number): Array<{ key: string; cid: string; body: { conversationId: string; participantId: string; dtmf: string } }> {
  return Array.from({ length: n }, (_, i) => {
    const cid = `${tag}-conv-${i}`;
    return { key: `${tag}-${i}`, cid, body: { conversationId: cid, participantId: `cust-${i}`, dtmf: String((i % 4) + 1) } };
  });
}

/** Creates each event's call in the simulator (its customer = the payload's participantId): calls exist before webhooks. */
export async function createCalls(simUrl: string, events: ReadonlyArray<{ body: { conversationId: string; participantId?: string } }>): Promise<void> {
  await pool(events, 32, (e) => createConversation(simUrl, e.body.conversationId, e.body.participantId ? { customerId: e.body.participantId } : {}).then(() => undefined));
}

/**
 * decision-reports so far: whether anything is left to run (waiting, delayed, active, prioritized), and what its
 * completed jobs carried: decision documents (a report-batch job several, a report job one) and write outcomes (a
 * write-outcome-batch job several, a write-outcome job one).
 */
export async function reportsDone(queues: Queues): Promise<{ idle: boolean; documents: number; outcomes: number }> {
  const c = await queues.reports.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
  const done = await queues.reports.getCompleted(0, -1);
  let documents = 0;
  let outcomes = 0;
  for (const j of done) {
    if (j.name === WRITE_OUTCOME_BATCH_JOB) outcomes += batchOutcomesOf(j.data)?.length ?? 0;
    else if (j.name === WRITE_OUTCOME_JOB) outcomes++;
    else documents += batchReportsOf(j.data)?.length ?? 1;
  }
  return { idle: Object.values(c).every((v) => v === 0), documents, outcomes };
}

/** Total jobs in a queue's failed set. */
export async function failedCount(queues: Queues): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const q of queues.all) out[q.name] = await q.getFailedCount();
  return out;
}
