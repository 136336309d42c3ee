import { Queue, type DefaultJobOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES } from './names';

export interface JobPolicy {
  applyAttempts: number;
  applyBackoffMs: number;
}

/** Default job options per queue. Completed jobs are kept briefly (bounded) and failed ones for inspection. */
export function defaultJobOptions(policy: JobPolicy): Record<string, DefaultJobOptions> {
  const keep = { removeOnComplete: { age: 3600, count: 10000 }, removeOnFail: { age: 7 * 86400, count: 50000 } };
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
