import { Queue, type DefaultJobOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES } from './names';

export interface JobPolicy {
  applyAttempts: number;
  applyBackoffMs: number;
}

/** How long a completed job is kept (seconds; at most 10,000 per queue). */
export const COMPLETED_JOB_RETENTION_S = 3600;

/** Default job options per queue. Completed jobs are kept briefly (bounded) and failed ones for inspection. */
export function defaultJobOptions(policy: JobPolicy): Record<string, DefaultJobOptions> {
  const keep = { removeOnComplete: { age: COMPLETED_JOB_RETENTION_S, count: 10000 }, removeOnFail: { age: 7 * 86400, count: 50000 } };
  return {
    [QUEUE_NAMES.events]: { attempts: 5, backoff: { type: 'exponential', delay: 200, jitter: 0.5 }, ...keep },
    [QUEUE_NAMES.writes]: {
      attempts: policy.applyAttempts,
      backoff: { type: 'exponential', delay: policy.applyBackoffMs, jitter: 0.5 },
      ...keep,
    },
    [QUEUE_NAMES.reports]: { attempts: 20, backoff: { type: 'exponential', delay: 500, jitter: 0.5 }, ...keep },
  };
}

/**
 * A failed attempt is the last one when BullMQ will not run it again: an UnrecoverableError, or attempts used up
 * (BullMQ moves the job to failed when `attemptsMade >= opts.attempts`; attemptsMade already counts this attempt
 * when the worker emits `failed`).
 */
export function isFinalFailure(job: Pick<Job, 'attemptsMade' | 'opts'>, err: Pick<Error, 'name'>): boolean {
  return err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}

export interface IvrQueues {
  events: Queue;
  writes: Queue;
  reports: Queue;
  all: Queue[];
  close(): Promise<void>;
}

/** The three queues on one connection, with the prefix that namespaces the deployment. */
export function createQueues(connection: Redis, prefix: string, policy: JobPolicy, opts: { skipWaitingForReady?: boolean } = {}): IvrQueues {
  const defaults = defaultJobOptions(policy);
  const make = (name: string) =>
    new Queue(name, { connection, prefix, defaultJobOptions: defaults[name], skipWaitingForReady: opts.skipWaitingForReady ?? false });
  const events = make(QUEUE_NAMES.events);
  const writes = make(QUEUE_NAMES.writes);
  const reports = make(QUEUE_NAMES.reports);
  const all = [events, writes, reports];
  return {
    events,
    writes,
    reports,
    all,
    close: async () => {
      await Promise.all(all.map((q) => q.close()));
    },
  };
}

/**
 * The Redis type each BullMQ 6 structure of a queue must have (absent is fine: BullMQ creates them on use).
 * From bullmq's QueueKeys and its Lua scripts (node_modules/bullmq/dist/esm/commands: LPUSH wait/active/paused,
 * HSET meta, INCR id/pc/limiter, XADD events, ZADD marker/delayed/prioritized/completed/failed/waiting-children/
 * repeat, SADD stalled, SET stalled-check).
 */
export const QUEUE_STRUCTURE_TYPES: Readonly<Record<string, string>> = {
  wait: 'list',
  active: 'list',
  paused: 'list',
  meta: 'hash',
  id: 'string',
  events: 'stream',
  marker: 'zset',
  delayed: 'zset',
  prioritized: 'zset',
  completed: 'zset',
  failed: 'zset',
  'waiting-children': 'zset',
  repeat: 'zset',
  stalled: 'set',
  'stalled-check': 'string',
  pc: 'string',
  limiter: 'string',
};

export type QueueReadiness = { ok: true } | { ok: false; reason: string };

/**
 * Can these queues accept jobs? One pipeline of TYPE commands over every structure key: a key of the wrong type
 * (e.g. a hash written over `meta`'s neighbour or a string over `wait`) makes every add or fetch fail with
 * WRONGTYPE, which a PING never shows. The reason names the key, the type found and the one expected.
 */
export async function queueReadiness(redis: Redis, queues: readonly Queue[]): Promise<QueueReadiness> {
  const checks = queues.flatMap((q) => Object.entries(QUEUE_STRUCTURE_TYPES).map(([name, type]) => ({ key: q.toKey(name), type, queue: q.name })));
  const p = redis.pipeline();
  for (const c of checks) p.type(c.key);
  const replies = (await p.exec()) ?? [];
  const bad: string[] = [];
  checks.forEach((c, i) => {
    const [err, found] = replies[i] ?? [new Error('no reply')];
    if (err) bad.push(`${c.key}: ${err.message}`);
    else if (found !== 'none' && found !== c.type) bad.push(`${c.key} is a ${String(found)}, BullMQ needs a ${c.type}`);
  });
  if (!bad.length) return { ok: true };
  return { ok: false, reason: `queue cannot accept jobs: ${bad.slice(0, 3).join('; ')}${bad.length > 3 ? ` (+${bad.length - 3} more)` : ''}; delete or rename the key` };
}
