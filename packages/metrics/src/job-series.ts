import type { Job, Worker } from 'bullmq';
import { Counter, Histogram } from 'prom-client';
import { isFinalFailure, QUEUE_NAMES } from '@ivr/queue-contract';
import type { SeriesContext } from './series';

/** The fields of a decide result the decision series read (structural: no pipeline import). */
export interface DecisionOutcome {
  status?: string;
  routing?: string;
  occupancySource?: string;
  replayed?: boolean;
  latencyMs?: number;
}

/** The fields of an apply result the write series read (structural, as DecisionOutcome). */
export interface WriteResult {
  writeStatus?: string;
  skipReason?: string;
  lagMs?: number;
}

/**
 * Workers: job durations, attempts and outcomes per queue; from the results of the jobs, decisions by route and
 * their latency (decide), superseded jobs, and what became of each write (apply). `dedupe` is httpSeries' counter.
 */
export function jobSeries({ enable, unregistered }: SeriesContext, dedupe: Counter) {
  const durations = new Histogram({
    name: 'ivr_job_duration_seconds',
    help: 'Processing time of one job attempt (finishedOn - processedOn), by queue and outcome',
    labelNames: ['queue', 'outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: unregistered,
  });
  const finished = new Counter({
    name: 'ivr_jobs_total',
    help: 'Job attempts that ended, by queue and outcome: completed, retrying (failed, will be retried), failed (failed for good)',
    labelNames: ['queue', 'outcome'],
    registers: unregistered,
  });
  const attempts = new Histogram({
    name: 'ivr_job_attempts',
    help: 'attemptsMade of jobs that finished (completed or failed for good), by queue and outcome; _sum is the attempts spent',
    labelNames: ['queue', 'outcome'],
    buckets: [1, 2, 3, 5, 10, 20],
    registers: unregistered,
  });
  const decisions = new Counter({
    name: 'ivr_decisions_total',
    help: 'Routing decisions made (re-runs of a decided event excluded), by route and occupancy source (notification = pushed, poll = polled now, cache = shared by a peer, fail_open)',
    labelNames: ['route', 'occupancy_source'],
    registers: unregistered,
  });
  const decisionLatency = new Histogram({
    name: 'ivr_decision_latency_seconds',
    help: 'Webhook received by the receiver -> decision stored (by a decide worker, or by the receiver in-call), re-runs excluded, by occupancy source',
    labelNames: ['occupancy_source'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: unregistered,
  });
  const superseded = new Counter({ name: 'ivr_superseded_total', help: 'Jobs dropped because a later key press of the same call superseded them, by queue', labelNames: ['queue'], registers: unregistered });
  const writeLag = new Histogram({
    name: 'ivr_write_lag_seconds',
    help: 'Time from the decision to its successful attribute write',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
    registers: unregistered,
  });
  const writesSkipped = new Counter({
    name: 'ivr_writes_skipped_total',
    help: 'Attribute writes not sent because not needed, by reason: answered_synchronously (Prefer: wait answer delivered), write_back_never (WRITE_BACK=never)',
    labelNames: ['reason'],
    registers: unregistered,
  });
  const writesExpired = new Counter({ name: 'ivr_writes_expired_total', help: 'Attribute writes not sent because older than WRITE_MAX_AGE_S (expired: the call has moved on)', registers: unregistered });

  /** A decide result (a worker's job result, or the receiver's in-call decision): decisions by route, their latency. */
  const observeDecision = (r: DecisionOutcome) => {
    if (r.status !== 'decided' || !r.routing) return;
    enable(decisions, decisionLatency, dedupe);
    if (r.replayed) dedupe.inc({ stage: 'decide' });
    else {
      const source = r.occupancySource ?? 'unknown';
      decisions.inc({ route: r.routing, occupancy_source: source });
      if (typeof r.latencyMs === 'number') decisionLatency.observe({ occupancy_source: source }, r.latencyMs / 1000);
    }
  };

  /** A write's end (an apply job's result, or a write the receiver settled in-call): lag, skips, expiries. */
  const observeWrite = (r: WriteResult) => {
    if (r.writeStatus === 'written' && typeof r.lagMs === 'number') {
      enable(writeLag);
      writeLag.observe(r.lagMs / 1000);
    }
    if (r.writeStatus === 'skipped') {
      enable(writesSkipped);
      writesSkipped.inc({ reason: r.skipReason ?? 'unknown' });
    }
    if (r.writeStatus === 'expired') {
      enable(writesExpired);
      writesExpired.inc();
    }
  };

  return {
    observeDecision,
    observeWrite,
    watchWorker(worker: Worker) {
      enable(durations, finished, attempts);
      const queue = worker.name;
      if (queue === QUEUE_NAMES.events) enable(decisions, decisionLatency, superseded, dedupe);
      else if (queue === QUEUE_NAMES.writes) enable(superseded);
      worker.on('completed', (job: Job, result: unknown) => {
        durations.observe({ queue, outcome: 'completed' }, seconds(job));
        finished.inc({ queue, outcome: 'completed' });
        attempts.observe({ queue, outcome: 'completed' }, Math.max(1, job.attemptsMade));
        const r = (result ?? {}) as DecisionOutcome & WriteResult;
        if (r.status === 'superseded') {
          enable(superseded);
          superseded.inc({ queue });
        }
        observeWrite(r);
        observeDecision(r);
      });
      worker.on('failed', (job: Job | undefined, err: Error) => {
        if (!job) return;
        const outcome = isFinalFailure(job, err) ? 'failed' : 'retrying';
        durations.observe({ queue, outcome }, seconds(job));
        finished.inc({ queue, outcome });
        if (outcome === 'failed') attempts.observe({ queue, outcome }, Math.max(1, job.attemptsMade));
      });
    },
  };
}

function seconds(job: Job): number {
  if (!job.processedOn) return 0;
  return Math.max(0, ((job.finishedOn ?? Date.now()) - job.processedOn) / 1000);
}
