import type { Job } from 'bullmq';
import { decisionIdFor, type Logger } from '@ivr/core';
import { isFinalFailure } from '@ivr/queue-contract';

/** The processors take the one logger type of @ivr/core (a pino Logger satisfies it). */
export type { Logger } from '@ivr/core';

/**
 * The worker's line for a failed attempt (BullMQ `failed` event): `job failed for good` at error level when no
 * attempt is left (the job is now in the failed set, see `pnpm ivr failed`), else `job attempt failed; will retry`
 * at warn. Constant messages; the ids, queue, attempts and the reason are fields.
 */
export function logJobFailure(logger: Pick<Logger, 'warn' | 'error'>, queue: string, job: Pick<Job, 'id' | 'data' | 'attemptsMade' | 'opts'> | undefined, err: Error): void {
  const d = (job?.data ?? {}) as { idempotencyKey?: string; conversationId?: string; decisionId?: string };
  const fields = {
    queue,
    jobId: job?.id,
    idempotencyKey: d.idempotencyKey,
    conversationId: d.conversationId,
    decisionId: d.decisionId ?? (d.idempotencyKey ? decisionIdFor(d.idempotencyKey) : undefined),
    attemptsMade: job?.attemptsMade,
    maxAttempts: job?.opts.attempts ?? 1,
    err: err.message,
  };
  if (!job || isFinalFailure(job, err)) logger.error(fields, 'job failed for good');
  else logger.warn(fields, 'job attempt failed; will retry');
}
