import type { Job, Queue } from 'bullmq';
import { percentile } from '@ivr/core';

export interface QueueBacklog {
  queue: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  paused: boolean;
  /** Age (ms) of the oldest job waiting to be picked up, null when none waits. */
  oldestWaitingMs: number | null;
}

/** Backlog per queue: counts and the oldest waiting job's age (`getJobs(['wait','prioritized'], 0, 0, asc)`). */
export async function queueBacklog(queues: readonly Queue[], now = Date.now()): Promise<QueueBacklog[]> {
  return Promise.all(
    queues.map(async (q) => {
      const [counts, paused, oldest] = await Promise.all([
        q.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed'),
        q.isPaused(),
        q.getJobs(['wait', 'prioritized'], 0, 0, true),
      ]);
      const first = oldest.find((j): j is Job => !!j);
      return {
        queue: q.name,
        waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        paused,
        oldestWaitingMs: first ? Math.max(0, now - first.timestamp) : null,
      };
    }),
  );
}

/** Write lag (job added → Genesys write finished) over the last `n` completed write jobs, ms. */
export async function recentWriteLag(writes: Queue, n = 200): Promise<{ count: number; p50: number; p99: number } | null> {
  const jobs = await writes.getJobs(['completed'], 0, n - 1);
  const lags = jobs
    .filter((j): j is Job => !!j && typeof j.finishedOn === 'number')
    .map((j) => j.finishedOn! - j.timestamp)
    .sort((a, b) => a - b);
  if (!lags.length) return null;
  return { count: lags.length, p50: percentile(lags, 50), p99: percentile(lags, 99) };
}
