import type { MiddlewareHandler } from 'hono';
import { decisionIdFor, scopedKey } from '@ivr/core';
import { afterDelivery } from '../prefer';
import { ingestAnswer } from './ingest';
import type { ReceiverEnv, ReceiverLogger } from './webhook-env';

export interface DecidedAnswer {
  status: 'decided';
  routing: string;
  availableAgents: number;
  [k: string]: unknown;
}

export interface PreferWaitDeps {
  /** Wait for the decision of `key`, the event's scopedKey; undefined when none came in `timeoutMs`. */
  waitForDecision(key: string, timeoutMs: number): Promise<DecidedAnswer | undefined>;
  /** The synchronous answer of `decisionId` reached the client (WRITE_BACK=unanswered: its write is skipped). */
  markAnswered?: ((decisionId: string) => Promise<void>) | undefined;
  logger: ReceiverLogger;
  now: () => number;
}

/**
 * `Prefer: wait=N` (RFC 7240), after `ingest` stored the event: waits for its decision until `receivedAt + N` and
 * answers `200 decided` with `Preference-Applied`; no decision in time (or the waiter failed): the usual
 * 202/200 of `ingest`. Once the decided answer is delivered, marks it answered (`markAnswered`).
 */
export function preferWait(deps: PreferWaitDeps): MiddlewareHandler<ReceiverEnv> {
  return async function preferWait(c) {
    const ingested = c.get('ingested');
    const { key } = c.get('webhook');
    const { outcome, waitMs } = ingested;
    const scoped = scopedKey(key.key, key.space);
    const answer = await deps.waitForDecision(scoped, Math.max(1, waitMs - (deps.now() - c.get('receivedAt')))).catch(() => undefined);
    if (!answer) return ingestAnswer(c, ingested);
    const decisionId = decisionIdFor(scoped); // derived from the key, never a string from the body
    const mark = deps.markAnswered;
    if (mark) afterDelivery(c.env, () => void mark(decisionId).catch((err: Error) => deps.logger.warn({ idempotencyKey: key.key, decisionId, err: err.message }, 'answered mark not stored: the decision will be written too')));
    return c.json({ ...answer, jobId: outcome.jobId, idempotencyKey: key.key }, 200, { 'Preference-Applied': `wait=${waitMs / 1000}` });
  };
}
