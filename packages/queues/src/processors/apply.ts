import { DelayedError, RateLimitError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { genesysWriteJobSchema, type WriteOutcome } from '../jobs';
import type { Keyspace } from '../names';
import { defineScript } from '../lua';
import type { Logger } from './logger';

/** How a Genesys failure should be handled; produced by `classifyGenesysError` in @ivr/genesys. */
export interface ErrorClass {
  kind: 'retryable' | 'rate_limited' | 'reauth' | 'fatal';
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
  /** Records the write's final outcome on the decision (emitWriteOutcome: a `write-outcome` report job). */
  recordOutcome(outcome: WriteOutcome): Promise<void>;
  classify(err: unknown): ErrorClass;
  redis: Redis;
  ks: Keyspace;
  /** Pause the whole queue (every worker) for `ms`: `worker.rateLimit(ms)`. */
  rateLimit(ms: number): Promise<void>;
  logger: Logger;
  /** Max time one PATCH may take; the per-conversation lock lives a little longer. */
  lockMs?: number;
}

export type ApplyResult =
  | { status: 'applied'; httpStatus: number; sequence: number; participantId: string }
  | { status: 'superseded'; sequence: number; currentSequence: number };

// KEYS: applyLock, conversation  ARGV: token, lockMs -> {locked 0|1, current sequence}
const APPLY_BEGIN = `
local ok = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX')
local seq = tonumber(redis.call('HGET', KEYS[2], 'seq')) or 0
if ok then return {1, seq} end
return {0, seq}
`;

// KEYS: applyLock, conversation  ARGV: token, appliedSeq (-1: nothing written), now
const APPLY_END = `
local s = tonumber(ARGV[2])
if s >= 0 then
  local cur = redis.call('HMGET', KEYS[2], 'seq', 'state')
  if tonumber(cur[1]) == s and cur[2] == 'ROUTING' then
    redis.call('HSET', KEYS[2], 'state', 'COMPLETE', 'updatedAt', ARGV[3])
  end
end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;

/**
 * Define the apply scripts on `redis`. The worker calls this at start-up, before any traffic: on a connection with
 * ioredis auto-pipelining, a script first defined while an auto-pipeline is queued is missing from that pipeline
 * (ioredis copies the defined scripts when it creates one), the call rejects, the pipeline's later replies go to the
 * wrong callers and the process dies ("results[i] is not iterable"). processApply also calls it (a no-op once defined).
 */
export function defineApplyScripts(redis: Redis) {
  return {
    begin: defineScript<[number, number]>(redis, 'ivrApplyBegin', 2, APPLY_BEGIN),
    end: defineScript<number>(redis, 'ivrApplyEnd', 2, APPLY_END),
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
export async function processApply(
  job: Pick<Job, 'id' | 'data' | 'attemptsMade'> & Partial<Pick<Job, 'moveToDelayed' | 'opts'>>,
  deps: ApplyDeps,
  token?: string,
): Promise<ApplyResult> {
  const w = genesysWriteJobSchema.parse(job.data);
  const log = deps.logger.child({ idempotencyKey: w.idempotencyKey, conversationId: w.conversationId, jobId: job.id, decisionId: w.decisionId });
  const keys = [deps.ks.applyLock(w.conversationId), deps.ks.conversation(w.conversationId)];
  const lockToken = `${job.id}:${job.attemptsMade}`;
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
    let res: { status: number };
    let participantId: string;
    try {
      participantId = w.participantId ?? (await deps.resolveParticipant(w.conversationId));
      res = await deps.patchAttributes(w.conversationId, participantId, w.attributes);
    } catch (err) {
      const e = await translateError(err, deps, log, job.attemptsMade);
      const attempts = job.opts?.attempts ?? 1;
      if (e instanceof UnrecoverableError || (!(e instanceof RateLimitError) && job.attemptsMade + 1 >= attempts)) {
        const reason = e instanceof UnrecoverableError ? e.message : `${e.message} (gave up after ${attempts} attempts)`;
        await deps.recordOutcome({ decisionId: w.decisionId, writeStatus: 'failed', writeReason: reason });
      }
      throw e;
    }
    applied = true;
    log.info({ httpStatus: res.status, attempt: job.attemptsMade + 1, attributes: w.attributes, resolvedParticipant: w.participantId === undefined }, 'applied');
    await deps.recordOutcome({ decisionId: w.decisionId, writeStatus: 'written', writtenAt: new Date().toISOString() });
    return { status: 'applied', httpStatus: res.status, sequence: w.sequence, participantId };
  } finally {
    // One round trip: ROUTING -> COMPLETE (when written and still this sequence) and release the lock.
    await scripts.end(keys, [lockToken, applied ? w.sequence : -1, Date.now()]);
  }
}

async function translateError(err: unknown, deps: ApplyDeps, log: Logger, attemptsMade: number): Promise<Error> {
  const c = deps.classify(err);
  const detail = { status: c.status, kind: c.kind, contextId: c.contextId, attempt: attemptsMade + 1 };
  if (c.kind === 'rate_limited') {
    const ms = c.retryAfterMs ?? 1000;
    log.warn({ ...detail, retryAfterMs: ms }, 'Genesys rate limit: pausing the queue');
    await deps.rateLimit(ms);
    return Worker.RateLimitError();
  }
  if (c.kind === 'fatal') {
    log.error(detail, `not retried: ${c.message}`);
    return new UnrecoverableError(withContext(c));
  }
  log.warn(detail, `will retry: ${c.message}`);
  return new Error(withContext(c));
}

/** The classification's message, which names status, code and Genesys' message; contextId added if missing. */
function withContext(c: ErrorClass): string {
  return c.contextId && !c.message.includes(c.contextId) ? `${c.message} (contextId ${c.contextId})` : c.message;
}
