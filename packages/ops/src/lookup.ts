import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { decisionIdFor, jobIdFor, readStoredDecision, scopedKey, unscopedKey, type DecisionRecord } from '@ivr/core';
import type { Keyspace } from '@ivr/queue-contract';

import { batchReportsOf, parseAttemptLogs, type AttemptLogEntry } from '@ivr/queue-contract';

/**
 * THE mapping from an event's identity (its scopedKey: the idempotency key in its key space) to the BullMQ job ids
 * of its three jobs. Every look-up by key goes through here (events page, CLI), with core's jobIdFor as decide uses.
 */
export function jobIdsForKey(scoped: string): { event: string; apply: string; report: string; decisionId: string } {
  const decisionId = decisionIdFor(scoped);
  return { event: jobIdFor('event', scoped), apply: jobIdFor('apply', decisionId), report: jobIdFor('report', decisionId), decisionId };
}

/** The identities a typed key may have: a client key, or (for the receiver's `sha256-…` form) a body-derived one. */
function candidateKeys(query: string): string[] {
  return query.startsWith('sha256-') ? [scopedKey(query, 'client'), scopedKey(query, 'body')] : [scopedKey(query, 'client')];
}

export interface JobView {
  queue: string;
  id: string;
  name: string;
  state: string;
  attemptsMade: number;
  maxAttempts: number;
  /** ISO times */
  addedAt: string | null;
  processedAt: string | null;
  finishedAt: string | null;
  failedReason: string | null;
  data: unknown;
  returnValue: unknown;
  logs: string[];
  /** Parsed Genesys attempts (apply jobs). */
  attempts: AttemptLogEntry[];
}

export interface CallJourney {
  /** What the query matched: the idempotency key of the event shown. */
  idempotencyKey: string;
  matchedAs: 'idempotency key' | 'job id' | 'conversation id' | 'decision id';
  decisionId: string;
  event: JobView | null;
  /** The event while it is held for an in-call decision (no job yet: @ivr/queue-contract held.ts), else null. */
  held: HeldView | null;
  decision: DecisionRecord | null;
  apply: JobView | null;
  report: JobView | null;
}

/** An event held for an in-call decision: its job data and the caller's deadline (ISO). */
export interface HeldView {
  dueAt: string;
  event: unknown;
}

export interface LookupDeps {
  queues: { events: Queue; writes: Queue; reports: Queue };
  redis: Redis;
  ks: Keyspace;
}

const iso = (ms: number | undefined | null) => (typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : null);

async function view(queue: Queue, id: string): Promise<JobView | null> {
  const job = (await queue.getJob(id)) as Job | undefined;
  return job ? jobView(queue, job) : null;
}

async function jobView(queue: Queue, job: Job): Promise<JobView> {
  const id = String(job.id);
  const [state, logs] = await Promise.all([job.getState(), queue.getJobLogs(id, 0, 99)]);
  return {
    queue: queue.name,
    id,
    name: job.name,
    state,
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    addedAt: iso(job.timestamp),
    processedAt: iso(job.processedOn),
    finishedAt: iso(job.finishedOn),
    failedReason: job.failedReason || null,
    data: job.data,
    returnValue: job.returnvalue ?? null,
    logs: logs.logs,
    attempts: parseAttemptLogs(logs.logs),
  };
}

async function heldView(deps: LookupDeps, jobId: string): Promise<HeldView | null> {
  const [data, score] = await Promise.all([deps.redis.hget(deps.ks.heldEvents, jobId), deps.redis.zscore(deps.ks.held, jobId)]);
  if (data === null || score === null) return null;
  try {
    return { dueAt: new Date(Number(score)).toISOString(), event: JSON.parse(data) as unknown };
  } catch {
    return null;
  }
}

async function storedDecision(deps: LookupDeps, key: string): Promise<DecisionRecord | null> {
  const raw = await deps.redis.get(deps.ks.decision(key));
  if (!raw) return null;
  try {
    return readStoredDecision(JSON.parse(raw) as DecisionRecord);
  } catch {
    return null;
  }
}

/**
 * The event identity (scopedKey) of a job's data: an event job says its key space; a write or report job carries the
 * decision id, which tells a body-derived key from a client key of the same text.
 */
const keyOf = (data: unknown): string | undefined => {
  const d = data as { idempotencyKey?: unknown; keySpace?: unknown; decisionId?: unknown } | null;
  const k = d?.idempotencyKey;
  if (typeof k !== 'string') return undefined;
  if (d?.keySpace === 'body' || d?.keySpace === 'client') return scopedKey(k, d.keySpace);
  return candidateKeys(k).find((scoped) => decisionIdFor(scoped) === d?.decisionId) ?? scopedKey(k, 'client');
};

/**
 * Which idempotency key a query means: an idempotency key (its event job, held event or decision exists), a job id of any of the
 * three queues, a conversation id (its latest key press), or a decision id (its apply/report job). Null: nothing.
 */
export async function resolveCallKey(deps: LookupDeps, q: string): Promise<{ key: string; matchedAs: CallJourney['matchedAs'] } | null> {
  const query = q.trim();
  if (!query) return null;
  for (const scoped of candidateKeys(query)) {
    const eventId = jobIdsForKey(scoped).event;
    if ((await deps.queues.events.getJob(eventId)) || (await deps.redis.exists(deps.ks.decision(scoped))) || (await deps.redis.hexists(deps.ks.heldEvents, eventId))) return { key: scoped, matchedAs: 'idempotency key' };
  }
  for (const queue of [deps.queues.events, deps.queues.writes, deps.queues.reports]) {
    const key = keyOf((await queue.getJob(query))?.data);
    if (key) return { key, matchedAs: 'job id' };
  }
  const convKey = await deps.redis.hget(deps.ks.conversation(query), 'key');
  if (convKey) return { key: convKey, matchedAs: 'conversation id' };
  for (const [queue, id] of [[deps.queues.writes, jobIdFor('apply', query)], [deps.queues.reports, jobIdFor('report', query)]] as const) {
    const key = keyOf((await queue.getJob(id))?.data);
    if (key) return { key, matchedAs: 'decision id' };
  }
  const batch = await reportBatchOf(deps, query);
  const key = keyOf(batch?.reports.find((r) => r.decisionId === query));
  return key ? { key, matchedAs: 'decision id' } : null;
}

/** The report-batch job carrying a decision's report (the receiver's in-call decisions), if still kept. */
async function reportBatchOf(deps: LookupDeps, decisionId: string): Promise<{ job: Job; reports: NonNullable<ReturnType<typeof batchReportsOf>> } | null> {
  const id = await deps.redis.get(deps.ks.reportBatch(decisionId));
  const job = id ? ((await deps.queues.reports.getJob(id)) as Job | undefined) : undefined;
  const reports = batchReportsOf(job?.data);
  return job && reports ? { job, reports } : null;
}

/** A decision's report job: its own, else the report-batch job that carries it. */
async function reportView(deps: LookupDeps, decisionId: string): Promise<JobView | null> {
  const own = await view(deps.queues.reports, jobIdFor('report', decisionId));
  if (own) return own;
  const batch = await reportBatchOf(deps, decisionId);
  return batch ? jobView(deps.queues.reports, batch.job) : null;
}

/**
 * A call's journey by any of its ids: the event job, the decision, the Genesys write (each attempt), the report job
 * (its own, or the report-batch job carrying it).
 */
export async function findCall(deps: LookupDeps, q: string): Promise<CallJourney | null> {
  const found = await resolveCallKey(deps, q);
  if (!found) return null;
  const ids = jobIdsForKey(found.key);
  const [event, held, decision, apply, report] = await Promise.all([
    view(deps.queues.events, ids.event),
    heldView(deps, ids.event),
    storedDecision(deps, found.key),
    view(deps.queues.writes, ids.apply),
    reportView(deps, ids.decisionId),
  ]);
  return { idempotencyKey: unscopedKey(found.key).key, matchedAs: found.matchedAs, decisionId: decision?.decisionId ?? ids.decisionId, event, held, decision, apply, report };
}

