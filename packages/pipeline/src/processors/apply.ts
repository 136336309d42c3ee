import { DelayedError, RateLimitError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { genesysWriteJobSchema, type WriteOutcome } from '@ivr/queue-contract';
import type { Keyspace } from '@ivr/queue-contract';
import { defineScript } from '@ivr/redis';
import { stateScript } from '../conversation-store';
import { VALID_TRANSITIONS, type DecisionRecord } from '@ivr/core';
import { budgetRetryAt, EXPIRED_REASON, isExpired, SKIP_REASONS, wasAnswered, type SkipReason, type WriteBack } from '@ivr/queue-contract';
import type { Logger } from './logger';
import { formatAttemptLog, type AttemptLogEntry } from '@ivr/queue-contract';

/** How a Genesys failure should be handled; produced by `classifyGenesysError` in @ivr/genesys. */
export interface ErrorClass {
  kind: 'retryable' | 'rate_limited' | 'reauth' | 'fatal' | 'budget_exhausted';
  status?: number;
  message: string;
  contextId?: string;
  retryAfterMs?: number;
}

export interface ApplyDeps {
  patchAttributes(conversationId: string, participantId: string, attributes: Record<string, string>): Promise<{ status: number }>;
  /**
   * The conversation's customer participant id, for a write whose webhook named none (@ivr/genesys
   * createCustomerResolver: GET /api/v2/conversations/{id}, cached in Redis). Rejects with a fatal reason when the
   * conversation is unknown or has no customer participant.
   */
  resolveParticipant(conversationId: string): Promise<string>;
  /**
   * Records the write's final outcome on the decision (written, failed with the reason, skipped, expired): the ONE
   * call for the decision record (createOutcomeSender: a `write-outcome-batch` report job -> recordWriteOutcomes).
   */
  recordOutcome(outcome: WriteOutcome): Promise<void>;
  classify(err: unknown): ErrorClass;
  redis: Redis;
  ks: Keyspace;
  /** Pause the whole queue (every worker) for `ms`: `worker.rateLimit(ms)`. */
  rateLimit(ms: number): Promise<void>;
  logger: Logger;
  /** Max time one PATCH may take; the per-conversation lock lives a little longer. */
  lockMs?: number;
  /** WRITE_BACK (default unanswered). */
  writeBack?: WriteBack;
  /** WRITE_MAX_AGE_S in ms: an older write is not sent (default 30 000). */
  maxAgeMs?: number;
  now?: () => number;
}

export type ApplyResult =
  | { status: 'applied'; httpStatus: number; sequence: number; writeStatus: 'written'; lagMs: number; participantId: string }
  | { status: 'skipped'; sequence: number; writeStatus: 'skipped'; skipReason: SkipReason; writeReason: string }
  | { status: 'expired'; sequence: number; writeStatus: 'expired'; writeReason: typeof EXPIRED_REASON; ageMs: number }
  | { status: 'superseded'; sequence: number; currentSequence: number };

/** The decision-record outcome of an apply result (undefined for superseded: a later decision's write stands for it). */
export function writeOutcomeOf(decisionId: string, r: ApplyResult, at: number): WriteOutcome | undefined {
  if (r.status === 'applied') return { decisionId, writeStatus: 'written', writtenAt: new Date(at).toISOString() };
  if (r.status === 'skipped' || r.status === 'expired') return { decisionId, writeStatus: r.writeStatus, writeReason: r.writeReason };
  return undefined;
}

// KEYS: applyLock, conversation  ARGV: token, lockMs -> {locked 0|1, current sequence}
const APPLY_BEGIN = `
local ok = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX')
local seq = tonumber(redis.call('HGET', KEYS[2], 'seq')) or 0
if ok then return {1, seq} end
return {0, seq}
`;

/**
 * ROUTING -> COMPLETE once a decision's write is done (written, or not needed), when the conversation is still at
 * that decision's sequence (a later key press's decision stands otherwise), through `can`, the transition table of
 * @ivr/core (stateScript prepends it). Lua over the conversation hash `conv`, the sequence `seq` (-1: nothing
 * done, no transition) and the time `now`, each a Lua expression.
 */
const completeIfCurrent = (conv: string, seq: string, now: string) => `
local s = tonumber(${seq})
if s >= 0 then
  local cur = redis.call('HMGET', ${conv}, 'seq', 'state')
  if tonumber(cur[1]) == s and can(cur[2], 'COMPLETE') then
    redis.call('HSET', ${conv}, 'state', 'COMPLETE', 'updatedAt', ${now})
  end
end
`;

// KEYS: applyLock, conversation  ARGV: token, appliedSeq (-1: nothing written), now
const APPLY_END = `${completeIfCurrent('KEYS[2]', 'ARGV[2]', 'ARGV[3]')}
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

// KEYS: answered mark, conversation  ARGV: mark TTL (s), sequence, now. The mark first: should this process die
// before the outcome is recorded, the event's job re-runs the decision and its write finds the mark (skipped).
const SETTLE_ANSWERED = `
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
${completeIfCurrent('KEYS[2]', 'ARGV[2]', 'ARGV[3]')}
return 1
`;

const applyEnd = stateScript(VALID_TRANSITIONS, 'ivrApplyEnd', APPLY_END);
const settleAnswered = stateScript(VALID_TRANSITIONS, 'ivrSettleAnswered', SETTLE_ANSWERED);

/**
 * Define the apply scripts on `redis`. The worker calls this at start-up, before any traffic: on a connection with
 * ioredis auto-pipelining, a script first defined while an auto-pipeline is queued is missing from that pipeline
 * (ioredis copies the defined scripts when it creates one), the call rejects, the pipeline's later replies go to the
 * wrong callers and the process dies ("results[i] is not iterable"). processApply also calls it (a no-op once defined).
 */
export function defineApplyScripts(redis: Redis) {
  return {
    begin: defineScript<[number, number]>(redis, 'ivrApplyBegin', 2, APPLY_BEGIN),
    end: defineScript<number>(redis, applyEnd.name, 2, applyEnd.lua),
  };
}

/**
 * apply: write the decision into the call as participant attributes.
 * - an older decision for a conversation that has a newer one is dropped, never written after it
 *   (sequence check under a per-conversation lock, so check and write cannot interleave with the newer one);
 * - 429 pauses the queue for Retry-After and puts the job back without using an attempt;
 * - no participant id in the job: the conversation's customer participant is resolved first; an unknown
 *   conversation or one without a customer fails the job for good with the reason (never a made-up id);
 * - 400/403/404 fail the job for good with Genesys' message and contextId;
 * - 409, 5xx, network errors and timeouts throw, so BullMQ retries with exponential backoff and jitter;
 * - the final outcome (written, failed with the reason, skipped when superseded) is recorded on the decision.
 */
export async function processApply(job: Pick<Job, 'id' | 'data' | 'attemptsMade' | 'timestamp'> & Partial<Pick<Job, 'moveToDelayed' | 'opts' | 'log'>>, deps: ApplyDeps, token?: string): Promise<ApplyResult> {
  const w = genesysWriteJobSchema.parse(job.data);
  const log = deps.logger.child({ idempotencyKey: w.idempotencyKey, conversationId: w.conversationId, jobId: job.id, decisionId: w.decisionId });
  const now = deps.now ?? Date.now;
  const maxAgeMs = deps.maxAgeMs ?? 30_000;
  // The write job is added right after the decision is stored, so its timestamp is the decision time
  // (a delay, a retry or a retry from Bull Board keeps it: an old write stays old).
  const decidedAt = job.timestamp;
  const keys = [deps.ks.applyLock(w.conversationId), deps.ks.conversation(w.conversationId)];
  const lockToken = `${job.id}:${job.attemptsMade}`;
  // One job.log line per attempt (Bull Board's Logs tab; the dashboard's events page parses it).
  const attemptLog = async (e: Omit<AttemptLogEntry, 'at' | 'attempt'>) => {
    await job.log?.(formatAttemptLog({ at: new Date().toISOString(), attempt: job.attemptsMade + 1, ...e }))?.catch(() => 0);
  };
  // One round trip: take the conversation's write lock and read its current sequence.
  const scripts = defineApplyScripts(deps.redis);
  const [locked, currentSeq] = await scripts.begin(keys, [lockToken, deps.lockMs ?? 15000]);
  if (!locked) {
    // Another decision for this conversation is being written right now: try again shortly, no attempt used.
    if (token && job.moveToDelayed) {
      await job.moveToDelayed(Date.now() + 100 + Math.floor(Math.random() * 100), token);
      throw new DelayedError();
    }
    throw new Error(`another decision for conversation ${w.conversationId} is being written; will retry`);
  }
  let applied = false;
  try {
    if (currentSeq > w.sequence) {
      log.info({ sequence: w.sequence, currentSequence: currentSeq }, 'not written: a later key press superseded this decision');
      await deps.recordOutcome({ decisionId: w.decisionId, writeStatus: 'skipped', writeReason: `superseded by a later key press on this conversation (sequence ${currentSeq})` });
      return { status: 'superseded', sequence: w.sequence, currentSequence: currentSeq };
    }
    const unneeded = await unneededWrite(w.decisionId, w.sequence, decidedAt, deps, now(), maxAgeMs);
    if (unneeded) {
      // Answered synchronously: the call has its routing, the conversation is COMPLETE as after a write.
      applied = unneeded.status === 'skipped' && unneeded.skipReason === 'answered_synchronously';
      return await ended(unneeded, w.decisionId, deps, log, now());
    }
    let res: { status: number };
    let participantId: string;
    try {
      participantId = w.participantId ?? (await deps.resolveParticipant(w.conversationId));
      res = await deps.patchAttributes(w.conversationId, participantId, w.attributes);
    } catch (err) {
      const c = deps.classify(err);
      const outcome = c.kind === 'rate_limited' ? 'rate_limited' : c.kind === 'fatal' ? 'failed' : c.kind === 'budget_exhausted' ? 'budget_exhausted' : 'retry';
      await attemptLog({ outcome, ...(c.status !== undefined ? { status: c.status } : {}), ...(c.contextId ? { contextId: c.contextId } : {}), message: c.message });
      if (c.kind === 'budget_exhausted') {
        const retryInMs = c.retryAfterMs ?? 1000;
        // The next slot comes after the write stops being useful: end it now instead of waiting for nothing.
        if (isExpired(decidedAt, now() + retryInMs, maxAgeMs)) return await ended(expired(w.sequence, decidedAt, now()), w.decisionId, deps, log, now());
        throw await waitForBudget(job, token, budgetRetryAt(decidedAt, now(), retryInMs, maxAgeMs), log, c.message);
      }
      const attempts = job.opts?.attempts ?? 1;
      const e = await translateError(err, deps, log, job.attemptsMade, attempts);
      if (e instanceof UnrecoverableError || (!(e instanceof RateLimitError) && job.attemptsMade + 1 >= attempts)) {
        const reason = e instanceof UnrecoverableError ? e.message : `${e.message} (gave up after ${attempts} attempts)`;
        await deps.recordOutcome({ decisionId: w.decisionId, writeStatus: 'failed', writeReason: reason });
      }
      throw e;
    }
    await attemptLog({ outcome: 'applied', status: res.status });
    applied = true;
    const lagMs = Math.max(0, now() - decidedAt);
    log.info({ httpStatus: res.status, attempt: job.attemptsMade + 1, attributes: w.attributes, lagMs, resolvedParticipant: w.participantId === undefined }, 'applied');
    const result: ApplyResult = { status: 'applied', httpStatus: res.status, sequence: w.sequence, writeStatus: 'written', lagMs, participantId };
    await deps.recordOutcome(writeOutcomeOf(w.decisionId, result, now())!);
    return result;
  } finally {
    // One round trip: ROUTING -> COMPLETE (when written and still this sequence) and release the lock.
    await scripts.end(keys, [lockToken, applied ? w.sequence : -1, Date.now()]);
  }
}

export interface SettleDeps extends Pick<ApplyDeps, 'redis' | 'ks' | 'logger'> {
  /** How long the "answered" mark lives (answeredMarkTtlS). */
  answeredTtlS: number;
  now?: () => number;
}

/**
 * The write of a decision whose synchronous answer was delivered (the in-call path, WRITE_BACK=unanswered), settled
 * where the answer was given instead of by an apply job: what processApply does for such a write, without the job.
 * One round trip marks the decision answered and moves the conversation ROUTING -> COMPLETE (when still at this
 * decision). No lock: nothing is sent to Genesys, and the transition checks the sequence in the same step. Returns
 * the result and the outcome to record (the caller sends it with the decision's report).
 */
export async function settleAnsweredWrite(deps: SettleDeps, d: Pick<DecisionRecord, 'decisionId' | 'conversationId' | 'sequence' | 'idempotencyKey'>, jobId?: string): Promise<{ result: Extract<ApplyResult, { status: 'skipped' }>; outcome: WriteOutcome }> {
  const at = (deps.now ?? Date.now)();
  const script = defineSettleScript(deps.redis);
  await script([deps.ks.answered(d.decisionId), deps.ks.conversation(d.conversationId)], [deps.answeredTtlS, d.sequence, at]);
  const result = skipped(d.sequence, 'answered_synchronously');
  const log = deps.logger.child({ idempotencyKey: d.idempotencyKey, conversationId: d.conversationId, jobId, decisionId: d.decisionId });
  return { result, outcome: endOf(result, d.decisionId, log, at)! };
}

/** Define settleAnsweredWrite's script on `redis` (at start-up: see defineApplyScripts on auto-pipelining). */
export function defineSettleScript(redis: Redis) {
  return defineScript<number>(redis, settleAnswered.name, 2, settleAnswered.lua);
}

/** A write that is not sent: too old (expired), WRITE_BACK=never, or answered synchronously; undefined: send it. */
async function unneededWrite(decisionId: string, sequence: number, decidedAt: number, deps: ApplyDeps, at: number, maxAgeMs: number): Promise<ApplyResult | undefined> {
  if (isExpired(decidedAt, at, maxAgeMs)) return expired(sequence, decidedAt, at);
  const writeBack = deps.writeBack ?? 'unanswered';
  if (writeBack === 'never') return skipped(sequence, 'write_back_never');
  if (writeBack === 'unanswered' && (await wasAnswered(deps.redis, deps.ks, decisionId))) return skipped(sequence, 'answered_synchronously');
  return undefined;
}

function skipped(sequence: number, skipReason: SkipReason): Extract<ApplyResult, { status: 'skipped' }> {
  return { status: 'skipped', sequence, writeStatus: 'skipped', skipReason, writeReason: SKIP_REASONS[skipReason] };
}

function expired(sequence: number, decidedAt: number, at: number): ApplyResult {
  return { status: 'expired', sequence, writeStatus: 'expired', writeReason: EXPIRED_REASON, ageMs: at - decidedAt };
}

/**
 * A write that ends without being sent (skipped, expired): the job COMPLETES with that result (an expected outcome,
 * nothing to retry: a failed job would invite a pointless retry from Bull Board and count as an error), and the
 * outcome goes to the decision record through deps.recordOutcome.
 */
async function ended(r: ApplyResult, decisionId: string, deps: ApplyDeps, log: Logger, at: number): Promise<ApplyResult> {
  const outcome = endOf(r, decisionId, log, at);
  if (outcome) await deps.recordOutcome(outcome);
  return r;
}

/** The log line of a write that ends without being sent, and the outcome to record for it. */
function endOf(r: ApplyResult, decisionId: string, log: Logger, at: number): WriteOutcome | undefined {
  const outcome = writeOutcomeOf(decisionId, r, at);
  if (r.status === 'expired') log.warn({ ageMs: r.ageMs, writeStatus: r.writeStatus }, 'not written: expired, the call has moved on');
  else log.info({ writeStatus: outcome?.writeStatus, reason: r.status === 'skipped' ? r.skipReason : undefined }, 'not written: not needed');
  return outcome;
}

/**
 * The shared budget has no slot for this write yet: the job goes back to the queue, delayed until the slot (older
 * decisions first), without using an attempt and without pausing the queue (Bull Board's "rate limited" means a
 * Genesys 429 only). BullMQ: Job.moveToDelayed + DelayedError (job.d.ts, worker DelayedError handling).
 */
async function waitForBudget(job: Partial<Pick<Job, 'moveToDelayed'>>, token: string | undefined, at: number, log: Logger, message: string): Promise<Error> {
  if (!token || !job.moveToDelayed) return new Error(message);
  log.debug({ retryAt: at }, 'Genesys budget used up: write delayed');
  await job.moveToDelayed(at, token);
  return new DelayedError();
}

/**
 * Log and translate one failed PATCH. Messages are constant (Genesys' text goes in `reason`); an attempt says
 * "will retry" only when BullMQ will run it again. The line that a job failed for good is the worker's
 * (`job failed for good`, error level, apps/worker/src/workers.ts), once per job.
 */
async function translateError(err: unknown, deps: ApplyDeps, log: Logger, attemptsMade: number, maxAttempts: number): Promise<Error> {
  const c = deps.classify(err);
  const detail = { status: c.status, kind: c.kind, contextId: c.contextId, reason: c.message, attempt: attemptsMade + 1, maxAttempts };
  if (c.kind === 'rate_limited') {
    const ms = c.retryAfterMs ?? 1000;
    log.warn({ ...detail, retryAfterMs: ms }, 'Genesys rate limit: pausing the queue');
    await deps.rateLimit(ms);
    return Worker.RateLimitError();
  }
  if (c.kind === 'fatal') {
    log.warn(detail, 'Genesys write refused; not retried');
    return new UnrecoverableError(withContext(c));
  }
  if (attemptsMade + 1 >= maxAttempts) log.warn(detail, 'Genesys write failed; no attempts left');
  else log.warn(detail, 'Genesys write failed; will retry');
  return new Error(withContext(c));
}

/** The classification's message, which names status, code and Genesys' message; contextId added if missing. */
function withContext(c: ErrorClass): string {
  return c.contextId && !c.message.includes(c.contextId) ? `${c.message} (contextId ${c.contextId})` : c.message;
}
