/**
 * Chaos harness: real processes (receiver, workers, simulator, private redis-server), captured logs,
 * free ports, bounded load, counts read back from Redis / BullMQ / the simulator, one table row per scenario.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { ALL_QUEUES, keyspace, QUEUE_NAMES } from '@ivr/queue-contract';
import { createConversation, deletePrefix, freePort, simControl, uniquePrefix, waitFor, type SimControl } from '@ivr/testing';

export { freePort };

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHAOS_DIR = join(ROOT, 'reports', 'chaos');
export const ROWS_FILE = join(CHAOS_DIR, 'rows.jsonl');
export const LOG_DIR = join(CHAOS_DIR, 'logs');
export const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolve once GET `url` answers 2xx; throws naming `what` after `timeoutMs`. */
export async function waitForHttp(url: string, what: string, timeoutMs = 20000, proc?: Proc): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode() !== null) throw new Error(`${what} exited (${proc.exitCode()}) before answering ${url}; log tail:\n${proc.tail()}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms${proc ? `; log tail:\n${proc.tail()}` : ''}`);
}

/** Runs cleanup steps in reverse order, every one even if another throws. */
export class Cleanup {
  private steps: Array<{ what: string; fn: () => unknown }> = [];
  add(what: string, fn: () => unknown): void {
    this.steps.push({ what, fn });
  }
  async run(): Promise<void> {
    const steps = this.steps.reverse();
    this.steps = [];
    for (const s of steps) {
      try {
        await s.fn();
      } catch (e) {
        console.warn(`[chaos] cleanup "${s.what}" failed: ${(e as Error).message}`);
      }
    }
  }
}

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** Resolves with the exit code / signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitCode(): number | null;
  /** The last few KB of stdout+stderr (for failure messages). */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once exited. */
  stop(graceMs?: number): Promise<void>;
}

let logSeq = 0;

/** Spawn `node --import tsx <entry>` from the repo root with `env` on top of this process's environment. */
export function spawnNode(name: string, entry: string, env: Record<string, string>, scenario: string): Proc {
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = join(LOG_DIR, `${scenario}-${String(++logSeq).padStart(2, '0')}-${name}.log`);
  const out: WriteStream = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buf = '';
  const keep = (d: Buffer) => {
    out.write(d);
    buf = (buf + d.toString()).slice(-6000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let code: number | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.once('exit', (c, signal) => {
      code = c ?? (signal ? 128 : 0);
      out.end();
      res({ code: c, signal });
    });
  });
  return {
    name,
    child,
    pid: child.pid!,
    logFile,
    exited,
    exitCode: () => code,
    tail: () => buf,
    async stop(graceMs = 10000) {
      if (code !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

export const apps = {
  receiver: 'apps/receiver/src/main.ts',
  worker: 'apps/worker/src/main.ts',
  sim: 'apps/genesys-sim/src/main.ts',
} as const;

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

export interface Sim {
  url: string;
  port: number;
  control: SimControl;
  proc: Proc;
}

/** The Genesys simulator as its own process (apps/genesys-sim/src/main.ts with SIM_PORT). */
export async function startSimProcess(scenario: string, cleanup: Cleanup): Promise<Sim> {
  const port = await freePort();
  const proc = spawnNode('genesys-sim', apps.sim, { SIM_PORT: String(port), LOG_LEVEL: 'warn' }, scenario);
  cleanup.add('stop genesys-sim', () => proc.stop(3000));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/__sim/stats`, 'the Genesys simulator', 20000, proc);
  return { url, port, control: simControl(url), proc };
}

export interface Receiver {
  url: string;
  proc: Proc;
}

export async function startReceiverProcess(scenario: string, env: Record<string, string>, cleanup: Cleanup, name = 'receiver'): Promise<Receiver> {
  const port = await freePort();
  const proc = spawnNode(name, apps.receiver, { ...env, RECEIVER_PORT: String(port) }, scenario);
  cleanup.add(`stop ${name}`, () => proc.stop(5000));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/readyz`, name, 20000, proc);
  return { url, proc };
}

/** Start `n` worker processes and wait until each has a BullMQ worker on every queue. */
export async function startWorkerProcesses(scenario: string, env: Record<string, string>, n: number, queues: Queues, cleanup: Cleanup, startIndex = 1): Promise<Proc[]> {
  const before = await queues.events.getWorkersCount();
  const procs: Proc[] = [];
  for (let i = 0; i < n; i++) {
    const p = spawnNode(`worker-${startIndex + i}`, apps.worker, { ...env, WORKER_INDEX: String(startIndex + i) }, scenario);
    cleanup.add(`stop worker-${startIndex + i}`, () => p.stop(15000));
    procs.push(p);
  }
  await waitFor(
    async () => {
      const dead = procs.find((p) => p.exitCode() !== null);
      if (dead) throw new Error(`${dead.name} exited (${dead.exitCode()}) while starting; log tail:\n${dead.tail()}`);
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

/** SCAN-count keys matching a pattern. */
export async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
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

/** Run `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(runners);
}

export interface Answer {
  status: number;
  retryAfter: string | null;
  body: string;
}

/** POST one webhook (keep-alive via Node's global fetch dispatcher). Network failures answer status 0. */
export async function postWebhook(url: string, body: unknown, key: string, timeoutMs = 10000): Promise<Answer> {
  try {
    const res = await fetch(`${url}/webhook/genesys-dtmf`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
  } catch (e) {
    return { status: 0, retryAfter: null, body: (e as Error).message };
  }
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

/** Wait until no job is waiting, delayed, active or prioritized on any queue. */
export async function waitDrained(queues: Queues, what: string, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const counts = await Promise.all(queues.all.map((q) => q.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'waiting-children')));
      return counts.every((c) => Object.values(c).every((v) => v === 0));
    },
    what,
    timeoutMs,
    250,
  );
}

/** A scenario's shared-Redis prefix, admin client and cleanup (keys deleted, client closed). */
export function scenarioRedis(label: string, cleanup: Cleanup, url = SHARED_REDIS_URL) {
  const prefix = uniquePrefix(`chaos${label}`);
  const redis = new Redis(url, { maxRetriesPerRequest: 3 });
  redis.on('error', () => undefined);
  cleanup.add('delete prefix and close admin client', async () => {
    if (redis.status === 'ready') await deletePrefix(redis, prefix);
    redis.disconnect();
  });
  return { prefix, redis };
}

/** A private redis-server (AOF on, no RDB snapshots) that a scenario can stop and restart with its data. */
export interface PrivateRedis {
  port: number;
  url: string;
  dir: string;
  start(): Promise<void>;
  /** SHUTDOWN (the AOF is flushed; the data survives the restart). */
  shutdown(): Promise<void>;
}

export async function privateRedis(scenario: string, cleanup: Cleanup): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ivr-chaos-redis-'));
  let proc: Proc | undefined;
  let n = 0;
  const r: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    async start() {
      mkdirSync(LOG_DIR, { recursive: true });
      const logFile = join(LOG_DIR, `${scenario}-redis-${port}-${++n}.log`);
      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', dir, '--maxmemory-policy', 'noeviction', '--logfile', logFile],
        { stdio: 'ignore' },
      );
      let code: number | null = null;
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (c, s) => ((code = c ?? 128), res({ code: c, signal: s }))));
      proc = {
        name: 'redis',
        child,
        pid: child.pid!,
        logFile,
        exited,
        exitCode: () => code,
        tail: () => '',
        async stop() {
          if (code !== null) return;
          child.kill('SIGKILL');
          await exited;
        },
      };
      const probe = new Redis(r.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await waitFor(
          async () => {
            try {
              if (probe.status !== 'ready') await probe.connect().catch(() => probe.disconnect());
              return (await probe.ping()) === 'PONG';
            } catch {
              return false;
            }
          },
          `private redis-server on port ${port}`,
          10000,
          100,
        );
      } finally {
        probe.disconnect();
      }
    },
    async shutdown() {
      const p = proc;
      if (!p || p.exitCode() !== null) return;
      const c = new Redis(r.url, { maxRetriesPerRequest: 0 });
      c.on('error', () => undefined);
      await c.call('SHUTDOWN').catch(() => undefined); // the connection closes as the server exits
      c.disconnect();
      await p.exited;
    },
  };
  cleanup.add('remove private redis dir', () => rmSync(dir, { recursive: true, force: true }));
  cleanup.add('stop private redis', () => proc?.stop());
  return r;
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

/** Summary of HTTP answers: status → count. */
export function tally(answers: Iterable<Answer>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) out[String(a.status)] = (out[String(a.status)] ?? 0) + 1;
  return out;
}

/** Like `pool`, but item i starts no earlier than i / ratePerS seconds after the start (steady load). */
export async function paced<T>(items: readonly T[], ratePerS: number, concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  const t0 = Date.now();
  await pool(items, concurrency, async (item, i) => {
    const wait = t0 + (i * 1000) / ratePerS - Date.now();
    if (wait > 0) await sleep(wait);
    await fn(item, i);
  });
}

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

/** Total jobs in a queue's failed set. */
export async function failedCount(queues: Queues): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const q of queues.all) out[q.name] = await q.getFailedCount();
  return out;
}
