import type { MiddlewareHandler } from 'hono';
import { decisionIdFor, scopedKey } from '@ivr/core';
import { formatServerTiming, type ServerTimingStage } from '@ivr/metrics';
import { afterDelivery } from '../prefer';
import type { IvrEventJob } from '@ivr/queue-contract';
import { withTimeout } from '../with-timeout';
import { ingestAnswer } from './ingest';
import { monotonicNow, type ReceiverEnv, type ReceiverLogger, type WebhookVars } from './webhook-env';

export interface DecidedAnswer {
  status: 'decided';
  routing: string;
  availableAgents: number;
  [k: string]: unknown;
}

export interface PreferWaitDeps {
  /**
   * The in-call path: decide a newly accepted event now (its job was added delayed), undefined when not decided
   * here (the job was handed to a worker: the step then waits for the worker's decision). `started`: what the
   * ingest's own script read for it (IngestOutcome `whenNew`), when it ran one.
   */
  decideInCall?: ((job: IvrEventJob, jobId: string, delivered: Promise<boolean>, started?: unknown) => Promise<DecidedAnswer | undefined>) | undefined;
  /** Wait for the decision of `key`, the event's scopedKey; undefined when none came in `timeoutMs`. */
  waitForDecision(key: string, timeoutMs: number): Promise<DecidedAnswer | undefined>;
  /** The synchronous answer of `decisionId` reached the client (WRITE_BACK=unanswered: its write is skipped). */
  markAnswered?: ((decisionId: string) => Promise<void>) | undefined;
  logger: ReceiverLogger;
  now: () => number;
  /** The monotonic clock (ms) of the `Server-Timing` stages (default `performance.now`). */
  hrNow?: () => number;
}

/**
 * `Prefer: wait=N` (RFC 7240), after `ingest` stored the event: decides it here when it can (`decideInCall`, for a
 * new event), else waits for a worker's decision until `receivedAt + N`, and
 * answers `200 decided` with `Preference-Applied`; no decision in time (or the waiter failed): the usual
 * 202/200 of `ingest`. Once the decided answer is delivered, marks it answered (`markAnswered`), or, for an answer
 * decided here, tells the in-call decider whether it was delivered (it settles the write).
 */
export function preferWait(deps: PreferWaitDeps): MiddlewareHandler<ReceiverEnv> {
  const hrNow = deps.hrNow ?? monotonicNow;
  return async function preferWait(c) {
    const ingested = c.get('ingested');
    const { key } = c.get('webhook');
    const { outcome, waitMs } = ingested;
    const scoped = scopedKey(key.key, key.space);
    const left = () => Math.max(1, waitMs - (deps.now() - c.get('receivedAt')));
    const inCall = deps.decideInCall && outcome.kind === 'accepted' ? deps.decideInCall : undefined;
    // The in-call decider settles the decision's write once it knows whether its answer reached the client.
    let delivered: (ok: boolean) => void = () => undefined;
    const deliveredP = new Promise<boolean>((r) => (delivered = r));
    const decideFrom = hrNow();
    const ours = inCall ? await withTimeout(inCall(ingested.job, outcome.jobId, deliveredP, outcome.kind === 'accepted' ? outcome.whenNew : undefined), left(), 'the in-call decision').catch(() => undefined) : undefined;
    if (!ours) delivered(false);
    const decidedAt = hrNow();
    const answer = ours ?? (await deps.waitForDecision(scoped, left()).catch(() => undefined));
    const decision: Array<[ServerTimingStage, number]> = inCall ? [['decide', decidedAt - decideFrom]] : [];
    if (!ours) decision.push(['wait', hrNow() - decidedAt]);
    c.header('Server-Timing', serverTiming(c.get('timing'), decision, hrNow()));
    if (!answer) return ingestAnswer(c, ingested);
    const decisionId = decisionIdFor(scoped); // derived from the key, never a string from the body
    const mark = deps.markAnswered;
    if (ours) afterDelivery(c.env, () => delivered(true), () => delivered(false));
    else if (mark) afterDelivery(c.env, () => void mark(decisionId).catch((err: Error) => deps.logger.warn({ idempotencyKey: key.key, decisionId, err: err.message }, 'answered mark not stored: the decision will be written too')));
    return c.json({ ...answer, jobId: outcome.jobId, idempotencyKey: key.key }, 200, { 'Preference-Applied': `wait=${waitMs / 1000}` });
  };
}

/** The waited answer's `Server-Timing`: read, store, the decision's stages, total (see @ivr/metrics server-timing.ts). */
function serverTiming(t: WebhookVars['timing'] | undefined, decision: Array<[ServerTimingStage, number]>, end: number): string {
  if (!t) return formatServerTiming(decision);
  const store: Array<[ServerTimingStage, number]> = t.storeFrom !== undefined && t.storeTo !== undefined ? [['read', t.storeFrom - t.startedAt], ['store', t.storeTo - t.storeFrom]] : [];
  return formatServerTiming([...store, ...decision, ['total', end - t.startedAt]]);
}
