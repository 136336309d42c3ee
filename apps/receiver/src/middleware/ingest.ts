import type { Context, MiddlewareHandler } from 'hono';
import { bodyFingerprint, HttpError, jobIdForKey } from '@ivr/core';
import { ingestFailure, keptHeaders, type IngestOptions, type IngestOutcome } from '@ivr/intake';
import { type IvrEventJob } from '@ivr/queue-contract';
import { preferWaitMs } from '../prefer';
import { withTimeout } from '../with-timeout';
import { monotonicNow, type Observe, type ReceiverEnv, type ReceiverLogger, type WebhookVars } from './webhook-env';

export interface IngestStepDeps {
  /** Store the event exactly once per key (claim + enqueue + confirm, `ingestEvent`). Rejects when Redis is unavailable. */
  ingest(job: IvrEventJob, fingerprint: string, opts?: IngestOptions): Promise<IngestOutcome>;
  /**
   * The next step decides a held event itself (the in-call path): its job is added delayed until the wait's
   * deadline (`answerBy`), the fallback should this process not decide it.
   */
  decidesInCall?: boolean;
  /** Longest wait for `ingest` (STORE_TIMEOUT_MS); longer is `503 store_outcome_unknown`. */
  storeTimeoutMs: number;
  /** Longest `Prefer: wait` served, ms; 0 = the preference is ignored (no decision waiter). */
  maxWaitMs: number;
  /** Called with every event stored as new (e.g. to record to NDJSON). */
  onAccepted?: ((body: string, job: IvrEventJob, headers?: Headers) => void) | undefined;
  observe: Observe;
  logger: ReceiverLogger;
  /** The monotonic clock (ms) that times the store for the `Server-Timing` header (default `performance.now`). */
  hrNow?: () => number;
}

/** The usual answer to a stored event: `202 accepted`, or `200 duplicate` for a key already stored with this body. */
export function ingestAnswer(c: Context<ReceiverEnv>, ingested: WebhookVars['ingested']): Response {
  const { outcome, job } = ingested;
  return outcome.kind === 'accepted'
    ? c.json({ status: 'accepted', jobId: outcome.jobId, idempotencyKey: job.idempotencyKey }, 202)
    : c.json({ status: 'duplicate', jobId: outcome.jobId, idempotencyKey: job.idempotencyKey }, 200);
}

/**
 * Stores the event as a job exactly once per idempotency key (`ingest`, within `storeTimeoutMs`) and answers it, or,
 * when the client asked to wait for the decision (`Prefer: wait`), hands it to the next step (`preferWait`).
 * Redis down: `503 store_unavailable`; Redis too slow: `503 store_outcome_unknown` (both `Retry-After: 1`, as
 * `ingestFailure` tells them apart); the key stored with another body: `422 idempotency_conflict`.
 */
export function ingest(deps: IngestStepDeps): MiddlewareHandler<ReceiverEnv> {
  const hrNow = deps.hrNow ?? monotonicNow;
  return async function ingest(c, next) {
    const receivedAt = c.get('receivedAt');
    const { event, body, digest, key } = c.get('webhook');
    const waitMs = deps.maxWaitMs > 0 ? Math.min(preferWaitMs(c.req.header('prefer')), deps.maxWaitMs) : 0;
    const job: IvrEventJob = { ...event, idempotencyKey: key.key, ...(key.space === 'body' ? { keySpace: 'body' as const } : {}), receivedAt, headers: keptHeaders(c.req.raw.headers), ...(waitMs > 0 ? { answerBy: receivedAt + waitMs } : {}) };
    let outcome: IngestOutcome;
    try {
      const opts = deps.decidesInCall && waitMs > 0 ? { delayMs: waitMs } : undefined; // until answerBy
      const timing = waitMs > 0 ? c.get('timing') : undefined; // the stages are told only in a waited answer
      const storeFrom = timing ? hrNow() : 0;
      outcome = await withTimeout(deps.ingest(job, bodyFingerprint(body, digest), opts), deps.storeTimeoutMs, 'storing the event');
      if (timing) Object.assign(timing, { storeFrom, storeTo: hrNow() });
    } catch (err) {
      const fields = { idempotencyKey: key.key, conversationId: job.conversationId, jobId: jobIdForKey(key.key, key.space), err: (err as Error).message };
      if (ingestFailure(err) === 'unknown') {
        // Redis did not answer in time (frozen, slow, connection lost mid-request): the event may be stored.
        deps.logger.error(fields, 'event outcome unknown: Redis did not answer; a retry with the same key is safe');
        throw new HttpError(503, 'store_outcome_unknown', 'outcome unknown: Redis did not answer in time, the event may or may not be stored; retrying with the same idempotency key is safe', { headers: { 'Retry-After': '1' } });
      }
      deps.logger.error(fields, 'event not stored: Redis unavailable');
      throw new HttpError(503, 'store_unavailable', 'the event could not be stored (Redis unavailable); retry later', { headers: { 'Retry-After': '1' } });
    }
    const log = { idempotencyKey: key.key, conversationId: job.conversationId, jobId: outcome.jobId };
    if (outcome.kind === 'conflict') {
      deps.observe('conflict');
      deps.logger.warn(log, 'idempotency key reused with a different body');
      throw new HttpError(422, 'idempotency_conflict', `idempotency key ${key.key} was already used with a different body`);
    }
    deps.observe(outcome.kind);
    if (outcome.kind === 'accepted') {
      deps.logger.debug?.({ ...log, dtmf: job.dtmf, keyFrom: key.from }, 'accepted'); // debug: one sync write per webhook on the hot path (docs/performance.md)
      deps.onAccepted?.(await c.req.text(), job, c.req.raw.headers);
    }
    c.set('ingested', { job, outcome, waitMs });
    if (waitMs > 0) return next();
    return ingestAnswer(c, c.get('ingested'));
  };
}
