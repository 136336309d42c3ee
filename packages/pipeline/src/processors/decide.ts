import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { decisionIdFor, jobIdFor, resolveTarget, scopedKey, routeFor, type DecisionRecord, type Route, type RoutingPolicy } from '@ivr/core';
import { ivrEventJobSchema, type DecisionReportJob, type GenesysWriteJob, type IvrEventJob, type WriteOutcome } from '@ivr/queue-contract';
import type { ConversationStore, StartResult } from '../conversation-store';
import type { OccupancyCache, OccupancyReading } from '../occupancy-cache';
import type { EstimatedWaitCache } from '../estimated-wait-cache';
import type { Keyspace } from '@ivr/queue-contract';
import type { Logger } from './logger';
import type { SendReport } from '../report-sender';
import { writeAwaitsAnswer, writeDelayMs, type WriteBack } from '@ivr/queue-contract';
import { decisionAnswer } from '@ivr/queue-contract';

export interface DecideDeps {
  conversations: ConversationStore;
  occupancy: OccupancyCache;
  /** Read only for targets with `maxEstimatedWaitS` (and only when the agents alone would route to the queue). */
  estimatedWait?: EstimatedWaitCache;
  policy: RoutingPolicy;
  /** Route used when Genesys cannot tell us the queue's capacity (DEFAULT_ROUTE). */
  defaultRoute: Route;
  writes: Queue;
  reports: Queue;
  /**
   * How a decision's report is sent instead of its own `report` job (the receiver's in-call path: report-batch jobs,
   * createReportSender). Resolves once the report is in a stored job.
   */
  sendReport?: SendReport;
  /** Connection used to PUBLISH the decision for receivers holding a `Prefer: wait` request. */
  publisher: Redis;
  ks: Keyspace;
  logger: Logger;
  now?: () => number;
  /** WRITE_BACK (default unanswered): a write for a caller holding a `Prefer: wait` request waits for its deadline. */
  writeBack?: WriteBack;
  /** Added to that deadline before the write runs, for the receiver's "answered" mark to land (default 1000). */
  answerGraceMs?: number;
  /**
   * Start the follow-ups (write, report, publish) and write the `decided` log line on the next macrotask instead of
   * at once (the in-call path): the caller's answer is written first (the line's synchronous write was a fifth of
   * the in-call decide stage, docs/performance.md); the held event is the fallback should the process die in between.
   */
  deferFollowUps?: boolean;
  /**
   * Hold the write and the report of a fresh decision for a caller holding a `Prefer: wait` request (`answerBy` set,
   * WRITE_BACK unanswered): the in-call path, which knows whether its answer was delivered, then sends them itself
   * (settleAnsweredWrite and a report carrying the skipped outcome, or enqueueWrite and the plain report).
   * `writeHeld` in the outcome says when it did.
   */
  holdWrite?: boolean;
}

export type DecideResult =
  | { status: 'decided'; decisionId: string; routing: Route; availableAgents: number; occupancySource: DecisionRecord['occupancySource']; replayed: boolean; latencyMs: number }
  | { status: 'superseded'; sequence: number; currentSequence: number };

/**
 * decide: IDLE/COMPLETE -> WAITING_DTMF -> CHECKING_QUEUE -> ROUTING for one key press, then enqueue the
 * Genesys write and the report. Safe to run twice for one event: the decision is stored per idempotency
 * key in the same Lua step as the transition, and follow-up jobs have deterministic ids.
 */
export async function processDecide(job: Pick<Job, 'id' | 'data'>, deps: DecideDeps): Promise<DecideResult> {
  const out = await decideEvent(job, deps);
  await out.dispatched;
  return out.result;
}

/**
 * What the in-call path already read inside the event's ingest (inCallStartScript): START's result for this event
 * and, when the cache held one, the target queue's occupancy reading. decideEvent then skips those two reads.
 */
export interface StartedDecision {
  start: StartResult<DecisionRecord>;
  reading?: OccupancyReading;
}

export interface DecideOutcome {
  result: DecideResult;
  /** The decision record, when decided. */
  decision?: DecisionRecord;
  /** The follow-ups (write, report, the published answer) enqueued: the event's work is done when this resolves. */
  dispatched: Promise<void>;
  /**
   * The write, the report and the published answer were not among the follow-ups (deps.holdWrite): the caller owes
   * them (the in-call path sends the three once the answer's delivery is known, the publish in the same turn of the
   * event loop as the write's settlement: one Redis round trip, one wake-up, for both).
   */
  writeHeld?: boolean;
}

/**
 * processDecide's steps, resolving once the decision is stored, with the record itself, and the follow-ups still
 * under way (`dispatched`): the in-call path answers the caller with the decision without waiting for them.
 */
export async function decideEvent(job: Pick<Job, 'id' | 'data'>, deps: DecideDeps, pre?: StartedDecision): Promise<DecideOutcome> {
  const ev = ivrEventJobSchema.parse(job.data);
  const now = deps.now ?? Date.now;
  // decisionId is derived from the key, so every line about this event can carry it, even before the decision exists.
  const key = scopedKey(ev.idempotencyKey, ev.keySpace); // the event's identity: a derived key never meets a client's
  const log = deps.logger.child({ idempotencyKey: ev.idempotencyKey, conversationId: ev.conversationId, jobId: job.id, decisionId: decisionIdFor(key) });

  // The target queue depends only on the event, so its occupancy is read in the same round trip as the state
  // transition (one sequential Redis round trip less before the decision; the in-call breakdown in
  // docs/performance.md). The reading is the same cached/single-flight one either way; a re-run or a rejected
  // transition simply does not use it.
  const target = resolveTarget(deps.policy, ev.dtmf, ev.queueId);
  const readingP = pre?.reading ? Promise.resolve(pre.reading) : deps.occupancy.get(target.queueId);
  readingP.catch(() => undefined); // awaited below; a rejection while the transition is pending is not unhandled
  const started = pre?.start ?? (await deps.conversations.startDecision<DecisionRecord>(ev.conversationId, key, ev.receivedAt));
  if (started.kind === 'decided') {
    // A re-run (stalled, retried, duplicated job): same decision, follow-ups re-sent with the same job ids.
    const dispatched = dispatch(started.decision, key, deps, ev, false);
    // decisionId is already bound on `log`: a second one would repeat the key on the line (issue 17).
    log.info({ routing: started.decision.routing_decision }, 'decision replayed for a re-run job');
    return { result: decided(started.decision, true), decision: started.decision, dispatched };
  }
  if (started.kind === 'stale') return { result: superseded(log, 0, started.seq), dispatched: Promise.resolve() };
  if (started.kind === 'invalid') {
    log.warn({ from: started.previousState, to: 'CHECKING_QUEUE' }, 'transition rejected');
    throw new Error(`invalid transition ${started.previousState} -> CHECKING_QUEUE for conversation ${ev.conversationId}`);
  }
  const seq = started.seq;

  const reading = await readingP;
  // Fail-open: the occupancy is unknown, recorded as null (not 0, which would read as "no agents").
  const available = reading.source === 'fail_open' ? null : reading.observation.idle;
  // The estimated wait only matters when the agents alone would send the call to the queue.
  const wait =
    available !== null && target.maxEstimatedWaitS !== undefined && deps.estimatedWait && available >= target.threshold
      ? await deps.estimatedWait.get(target.queueId)
      : undefined;
  const estimatedWaitS = wait && wait.source !== 'fail_open' ? wait.seconds : undefined;
  const routing =
    available === null
      ? deps.defaultRoute
      : routeFor(available, target.threshold, estimatedWaitS !== undefined ? { estimatedS: estimatedWaitS, maxS: target.maxEstimatedWaitS! } : undefined);
  const decidedAt = now();
  const decisionId = decisionIdFor(key);
  const record: DecisionRecord = {
    decisionId,
    idempotencyKey: ev.idempotencyKey,
    timestamp: new Date(decidedAt).toISOString(),
    flowInstanceId: ev.flowInstanceId,
    conversationId: ev.conversationId,
    // Absent when the webhook named none: the write resolves the customer participant (never made up).
    ...(ev.participantId ? { participantId: ev.participantId } : {}),
    dtmf: ev.dtmf,
    queueId: target.queueId,
    threshold: target.threshold,
    queue_occupancy: available,
    routing_decision: routing,
    state: 'ROUTING',
    sequence: seq,
    latencyMs: Math.max(0, decidedAt - ev.receivedAt),
    occupancySource: reading.source,
    ...(estimatedWaitS !== undefined ? { estimatedWaitS } : {}),
    ...(reading.source === 'fail_open' ? { reason: `${reading.reason}; DEFAULT_ROUTE ${deps.defaultRoute} applied` } : {}),
    ...(wait?.source === 'fail_open' ? { reason: `${wait.reason}; routed on available agents alone` } : {}),
  };

  const committed = await deps.conversations.commitDecision(ev.conversationId, key, seq, record);
  if (!('decision' in committed)) {
    if (committed.kind === 'superseded') return { result: superseded(log, seq, Number(committed.detail)), dispatched: Promise.resolve() };
    log.warn({ from: committed.detail, to: 'ROUTING' }, 'transition rejected');
    throw new Error(`invalid transition ${committed.detail} -> ROUTING for conversation ${ev.conversationId}`);
  }
  const decision = committed.decision;
  // Only a decision made by this run is held: a re-run's write was enqueued by the run that decided.
  const writeHeld = Boolean(deps.holdWrite) && committed.kind !== 'exists' && writeAwaitsAnswer(ev.answerBy, deps.writeBack ?? 'unanswered');
  // The `decided` line goes with the follow-ups: after the caller's answer when they are deferred (deferFollowUps).
  const dispatched = dispatch(decision, key, deps, ev, writeHeld, () =>
    log.info(
      { routing: decision.routing_decision, availableAgents: decision.queue_occupancy, queueId: decision.queueId, occupancySource: decision.occupancySource, latencyMs: decision.latencyMs },
      'decided',
    ),
  );
  return { result: decided(decision, committed.kind === 'exists'), decision, dispatched, writeHeld };
}

/**
 * Enqueue the write and the report (idempotent job ids) and wake any `Prefer: wait` caller, unless held; `first` runs
 * just before, in the same turn (deferred with them when deferFollowUps is set).
 */
function dispatch(d: DecisionRecord, key: string, deps: DecideDeps, ev: IvrEventJob, holdWrite: boolean, first?: () => void): Promise<void> {
  const send = () => {
    first?.();
    return sendFollowUps(d, key, deps, ev, holdWrite);
  };
  const p = deps.deferFollowUps ? new Promise<void>((r) => setImmediate(r)).then(send) : send();
  p.catch(() => undefined); // awaited by whoever holds `dispatched`; never an unhandled rejection meanwhile
  return p;
}

async function sendFollowUps(d: DecisionRecord, key: string, deps: DecideDeps, ev: IvrEventJob, hold: boolean): Promise<void> {
  if (hold) return; // the in-call path sends them once the answer's fate is known
  await Promise.all([
    enqueueWrite(d, deps, writeDelayMs(ev.answerBy, (deps.now ?? Date.now)(), deps.writeBack ?? 'unanswered', deps.answerGraceMs ?? 1000)),
    enqueueReport(d, deps),
    publishDecision(d, key, deps),
  ]);
}

/** Wake any receiver holding a `Prefer: wait` request for this event (`key`: its scopedKey) with the decision. */
export async function publishDecision(d: DecisionRecord, key: string, deps: Pick<DecideDeps, 'publisher' | 'ks'>): Promise<void> {
  await deps.publisher.publish(deps.ks.decisionChannel(key), JSON.stringify(decisionAnswer(d)));
}

/**
 * THE report of a decision, with its write's outcome when already known: its own job (idempotent job id), or through
 * `deps.sendReport` (a batch job) when set.
 */
export async function enqueueReport(d: DecisionRecord, deps: Pick<DecideDeps, 'reports' | 'sendReport'>, outcome?: WriteOutcome): Promise<void> {
  const { decisionId: _id, ...fields } = outcome ?? { decisionId: d.decisionId };
  const report: DecisionReportJob = { ...d, ...fields };
  if (deps.sendReport) await deps.sendReport(report);
  else await deps.reports.add('report', report, { jobId: jobIdFor('report', d.decisionId) });
}

/** THE write job of a decision (idempotent job id), to run after `delayMs`. */
export async function enqueueWrite(d: DecisionRecord, deps: Pick<DecideDeps, 'writes'>, delayMs: number): Promise<void> {
  const write: GenesysWriteJob = {
    decisionId: d.decisionId,
    idempotencyKey: d.idempotencyKey,
    conversationId: d.conversationId,
    ...(d.participantId ? { participantId: d.participantId } : {}),
    sequence: d.sequence,
    attributes: { finalRoutingDecision: d.routing_decision, queueOccupancyCheck: 'passed' },
  };
  await deps.writes.add('apply', write, { jobId: jobIdFor('apply', d.decisionId), ...(delayMs > 0 ? { delay: delayMs } : {}) });
}

function decided(d: DecisionRecord, replayed: boolean): DecideResult {
  // latencyMs (webhook received -> decided) feeds ivr_decision_latency_seconds (metrics.watchWorker).
  return { status: 'decided', decisionId: d.decisionId, routing: d.routing_decision, availableAgents: d.queue_occupancy ?? 0, occupancySource: d.occupancySource, replayed, latencyMs: d.latencyMs };
}

function superseded(log: Logger, sequence: number, currentSequence: number): DecideResult {
  log.info({ sequence, currentSequence }, 'superseded by a later key press; dropped');
  return { status: 'superseded', sequence, currentSequence };
}

export type { IvrEventJob };
