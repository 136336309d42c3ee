import type { Redis } from 'ioredis';
import type { Keyspace } from './names';

/**
 * WRITE_BACK: which decisions are written to the call as participant attributes.
 * - unanswered (default): only those the flow did not get in a synchronous answer (`Prefer: wait` -> 200 decided,
 *   the HTTP response delivered). When in doubt it writes: a lost write loses a routing, an extra one costs a request.
 * - always: every decision (the flow reads participant data whatever happened).
 * - never: none (the flow only uses the synchronous answer).
 */
export const WRITE_BACK_MODES = ['unanswered', 'always', 'never'] as const;
export type WriteBack = (typeof WRITE_BACK_MODES)[number];

/** What became of a decision's write: one definition, the `write-outcome` report job's schema (jobs.ts). */
export type { WriteOutcome, WriteStatus } from './jobs';

/** The reason an expired write ends with (job result, decision record). */
export const EXPIRED_REASON = 'expired: the call has moved on';
/** Why a write was skipped: the label of `ivr_writes_skipped_total{reason}` and the start of the record's writeReason. */
export type SkipReason = 'answered_synchronously' | 'write_back_never';
export const SKIP_REASONS: Record<SkipReason, string> = {
  answered_synchronously: 'skipped: the decision was delivered in the synchronous answer (Prefer: wait)',
  write_back_never: 'skipped: WRITE_BACK=never',
};

/**
 * How long the write of a decision waits before it may run. With WRITE_BACK=unanswered and a caller holding the
 * request open (`answerBy` = receivedAt + the Prefer wait), the write waits until that deadline plus `graceMs`,
 * by which time a delivered answer has left its mark (markAnswered); otherwise it goes at once.
 */
export function writeDelayMs(answerBy: number | undefined, now: number, writeBack: WriteBack, graceMs: number): number {
  if (!writeAwaitsAnswer(answerBy, writeBack)) return 0;
  return Math.max(0, answerBy + graceMs - now);
}

/** Does a decision's write depend on whether its synchronous answer is delivered (a caller waiting, WRITE_BACK=unanswered)? */
export function writeAwaitsAnswer(answerBy: number | undefined, writeBack: WriteBack): answerBy is number {
  return writeBack === 'unanswered' && answerBy !== undefined;
}

/** How long the "answered" mark lives: longer than any write can wait before it expires. */
export function answeredMarkTtlS(writeMaxAgeS: number): number {
  return Math.max(60, writeMaxAgeS * 2);
}

/** Receiver: the synchronous answer of `decisionId` was handed to the client (Node's response 'finish'). */
export async function markAnswered(redis: Redis, ks: Keyspace, decisionId: string, ttlS: number): Promise<void> {
  await redis.set(ks.answered(decisionId), '1', 'EX', ttlS);
}

/** Apply worker: was the decision delivered in a synchronous answer? */
export async function wasAnswered(redis: Redis, ks: Keyspace, decisionId: string): Promise<boolean> {
  return (await redis.exists(ks.answered(decisionId))) === 1;
}

/** Is a write for a decision made at `decidedAt` still useful at `at`? */
export function isExpired(decidedAt: number, at: number, maxAgeMs: number): boolean {
  return at - decidedAt > maxAgeMs;
}

/**
 * When a write the budget refused comes back: at the next free slot, older decisions a little earlier than younger
 * ones (offset 0 for a decision about to expire, up to `spreadMs` for a fresh one), so the oldest write that is
 * still useful goes first and the refused writes do not all come back in the same millisecond.
 */
export function budgetRetryAt(decidedAt: number, now: number, retryInMs: number, maxAgeMs: number, spreadMs = Math.max(100, Math.min(retryInMs, 2000))): number {
  const youth = Math.min(1, Math.max(0, (decidedAt - (now - maxAgeMs)) / Math.max(1, maxAgeMs)));
  return now + retryInMs + Math.round(spreadMs * youth);
}
