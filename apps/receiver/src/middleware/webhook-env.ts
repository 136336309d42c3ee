import type { Logger, DtmfEvent, ResolvedKey } from '@ivr/core';
import type { IngestOutcome } from '@ivr/intake';
import type { IvrEventJob } from '@ivr/queue-contract';

/** The part of a pino logger the receiver uses. */
export type ReceiverLogger = Pick<Logger, 'info' | 'warn' | 'error'> & Partial<Pick<Logger, 'debug'>>;

/** Counts a webhook outcome (metrics: `accepted`, `duplicate`, `conflict`, `skipped`, `error_<status>`, `aborted`). */
export type Observe = (outcome: string) => void;

/** What each step of the webhook hands the next (Hono context variables), in chain order. */
export interface WebhookVars {
  /** `received`: when the request reached the webhook route (the app's clock, ms). */
  receivedAt: number;
  /** `received`, then `ingest`: the monotonic clock (ms) when the request reached the route, the store began and ended. */
  timing: { startedAt: number; storeFrom?: number; storeTo?: number };
  /** `parseWebhook`: the normalised event, the parsed body, its digest and the idempotency key. */
  webhook: { event: DtmfEvent; body: unknown; digest: string; key: ResolvedKey };
  /** `ingest`: the stored job, the outcome (accepted or duplicate) and how long the client asked to wait (0: not). */
  ingested: { job: IvrEventJob; outcome: Exclude<IngestOutcome, { kind: 'conflict' }>; waitMs: number };
}

export type ReceiverEnv = { Variables: WebhookVars };

/** The steps' default monotonic clock (ms): the `Server-Timing` stages of a waited answer. */
export const monotonicNow = (): number => performance.now();
