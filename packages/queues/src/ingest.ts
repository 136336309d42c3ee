import type { Queue } from 'bullmq';
import { jobIdForKey } from '@ivr/core';
import type { IdempotencyStore } from './idempotency-store';
import type { IvrEventJob } from './jobs';

export type IngestOutcome =
  | { kind: 'accepted'; jobId: string }
  | { kind: 'duplicate'; jobId: string }
  | { kind: 'conflict'; jobId: string };

export interface IngestDeps {
  idempotency: IdempotencyStore;
  events: Queue;
}

/**
 * Store one webhook event exactly once per idempotency key.
 * 1. claim the key atomically (new | duplicate | same key with another body)
 * 2. add the job with jobId derived from the key (BullMQ ignores a second add of an existing id)
 * 3. confirm the key; only then may the caller answer 2xx.
 * A claim whose job was never confirmed (crash or Redis loss between 1 and 3) is repaired by the next
 * delivery of the same key: it adds the job again (a no-op if it exists) and confirms.
 */
export async function ingestEvent(deps: IngestDeps, job: IvrEventJob, fingerprint: string): Promise<IngestOutcome> {
  const jobId = jobIdForKey(job.idempotencyKey);
  const claim = await deps.idempotency.claim(job.idempotencyKey, fingerprint);
  if (claim.kind === 'conflict') return { kind: 'conflict', jobId };
  if (claim.kind === 'dup' && claim.confirmed) return { kind: 'duplicate', jobId };
  await deps.events.add('dtmf', job, { jobId });
  await deps.idempotency.confirm(job.idempotencyKey, fingerprint);
  return claim.kind === 'new' ? { kind: 'accepted', jobId } : { kind: 'duplicate', jobId };
}
