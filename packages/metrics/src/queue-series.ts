import type { Queue } from 'bullmq';
import type { HeldState } from '@ivr/queue-contract';
import { Gauge } from 'prom-client';
import type { SeriesContext } from './series';

/** How long one set of `getJobCounts` answers is reused between scrapes (several scrapers, one Redis round trip). */
const QUEUE_COUNTS_CACHE_MS = 1000;

/**
 * `read` at most once per QUEUE_COUNTS_CACHE_MS, its answer shared by the gauges that need it in one scrape (and by
 * several scrapers); undefined when Redis failed (a failure is not cached).
 */
function sharedRead<T>(now: () => number, read: () => Promise<T>): () => Promise<T | undefined> {
  let cache: { at: number; p: Promise<T | undefined> } | undefined;
  return () => {
    const at = now();
    if (!cache || at - cache.at >= QUEUE_COUNTS_CACHE_MS) {
      cache = {
        at,
        p: read().catch(() => {
          cache = undefined;
          return undefined;
        }),
      };
    }
    return cache.p;
  };
}

/** Queue depth, oldest waiting job and pause per queue, read from Redis at scrape time (the numbers Bull Board shows). */
export function queueSeries({ enable, unregistered, now }: SeriesContext) {
  const queues: Queue[] = [];
  /** One read of every watched queue per second at most, shared by the gauges below. */
  const readQueues = sharedRead(now, () => Promise.all(queues.map((q) => readQueueState(q))));
  const countsUp = new Gauge({
    name: 'ivr_queue_counts_up',
    help: '1 when reading queue depth from Redis succeeded at this scrape, 0 when it failed',
    registers: unregistered,
    async collect() {
      this.set((await readQueues()) ? 1 : 0);
    },
  });
  const depth = new Gauge({
    name: 'ivr_queue_jobs',
    help: 'Jobs per queue and state (BullMQ getJobCounts, the numbers Bull Board shows); the same from every process, aggregate with max()',
    labelNames: ['queue', 'state'],
    registers: unregistered,
    async collect() {
      this.reset();
      for (const q of (await readQueues()) ?? []) {
        for (const [state, n] of Object.entries(q.counts)) this.set({ queue: q.name, state }, n);
      }
    },
  });
  const oldest = new Gauge({
    name: 'ivr_queue_oldest_job_age_seconds',
    help: 'Age (now - job creation time) of the oldest job waiting to be worked (wait, prioritized; a paused queue keeps its jobs in wait), 0 when none waits; the same from every process, aggregate with max()',
    labelNames: ['queue'],
    registers: unregistered,
    async collect() {
      this.reset();
      const t = now();
      for (const q of (await readQueues()) ?? []) this.set({ queue: q.name }, q.oldestCreatedAt === undefined ? 0 : Math.max(0, (t - q.oldestCreatedAt) / 1000));
    },
  });
  const paused = new Gauge({
    name: 'ivr_queue_paused',
    help: '1 while the queue takes no job: paused by an operator (Bull Board, queue.pause) or rate-limited after a Genesys 429 (worker.rateLimit); the same from every process, aggregate with max()',
    labelNames: ['queue'],
    registers: unregistered,
    async collect() {
      this.reset();
      for (const q of (await readQueues()) ?? []) this.set({ queue: q.name }, q.paused ? 1 : 0);
    },
  });

  // Events held for an in-call decision (no job until their receiver gives up or dies: @ivr/queue-contract held.ts).
  let readHeld: (() => Promise<HeldState>) | undefined;
  const held = sharedRead(now, () => readHeld!());
  const heldEvents = new Gauge({
    name: 'ivr_held_events',
    help: 'Events held for an in-call decision (Prefer: wait): stored, no job yet; the same from every process, aggregate with max()',
    registers: unregistered,
    async collect() {
      const h = await held();
      if (h) this.set(h.count);
    },
  });
  const heldOverdue = new Gauge({
    name: 'ivr_held_events_overdue_seconds',
    help: 'How long the held event with the earliest deadline is past it (0 when none is): above a second, no decide worker is sweeping up the events of a dead receiver; aggregate with max()',
    registers: unregistered,
    async collect() {
      const h = await held();
      if (h) this.set(h.oldestDueAt === null ? 0 : Math.max(0, (now() - h.oldestDueAt) / 1000));
    },
  });

  return {
    watchQueues(qs: readonly Queue[]) {
      enable(countsUp, depth, oldest, paused);
      queues.push(...qs);
    },
    watchHeld(read: () => Promise<HeldState>) {
      enable(heldEvents, heldOverdue);
      readHeld = read;
    },
  };
}

/** What the queue gauges show for one queue, read from Redis at scrape time. */
interface QueueState {
  name: string;
  counts: Record<string, number>;
  /** Creation time (ms) of the oldest job waiting to be worked; undefined when none waits. */
  oldestCreatedAt: number | undefined;
  paused: boolean;
}

/** States whose jobs are ready and waiting for a worker (BullMQ 6 keeps a paused queue's jobs in wait; `delayed` jobs are not due yet). */
const WAITING_STATES = ['wait', 'prioritized'] as const;

async function readQueueState(q: Queue): Promise<QueueState> {
  const [counts, oldestJobs, isPaused, limitTtl] = await Promise.all([
    q.getJobCounts(),
    // asc = true: the oldest first (BullMQ 6 queue-getters.d.ts: getJobs(types, start, end, asc)).
    Promise.all(WAITING_STATES.map((t) => q.getJobs([t], 0, 0, true))),
    q.isPaused(),
    // > 0 while worker.rateLimit(ms) (our 429 pause) or a queue limiter that is full holds the queue.
    q.getRateLimitTtl(),
  ]);
  const created = oldestJobs.flat().map((j) => j?.timestamp).filter((t): t is number => typeof t === 'number' && t > 0);
  return { name: q.name, counts, oldestCreatedAt: created.length ? Math.min(...created) : undefined, paused: isPaused || limitTtl > 0 };
}
