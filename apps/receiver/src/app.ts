import { Hono, type MiddlewareHandler } from 'hono';
import { errorBody, HttpError } from '@ivr/core';
import type { IngestOptions, IngestOutcome } from '@ivr/intake';
import type { IvrEventJob } from '@ivr/queue-contract';
import { fastBodyLimit } from './middleware/body-limit';
import { authenticate } from './middleware/authenticate';
import { ingest } from './middleware/ingest';
import { parseWebhook } from './middleware/parse-webhook';
import { preferWait, type DecidedAnswer } from './middleware/prefer-wait';
import { received } from './middleware/received';
import { requireJson } from './middleware/require-json';
import { monotonicNow, type ReceiverEnv, type ReceiverLogger } from './middleware/webhook-env';
import { withTimeout } from './with-timeout';

export type { DecidedAnswer } from './middleware/prefer-wait';
export type { ReceiverLogger } from './middleware/webhook-env';

export interface ReceiverDeps {
  /** Store the event exactly once per key (claim + enqueue + confirm). Rejects when Redis is unavailable. */
  ingest(job: IvrEventJob, fingerprint: string, opts?: IngestOptions): Promise<IngestOutcome>;
  /** Wait for the decision of `key`, the event's scopedKey (Prefer: wait). */
  waitForDecision?(key: string, timeoutMs: number): Promise<DecidedAnswer | undefined>;
  /** The synchronous answer of `decisionId` reached the client (WRITE_BACK=unanswered: its write is skipped). */
  markAnswered?(decisionId: string): Promise<void>;
  /**
   * The in-call path (INCALL_DECIDE): decide a held, newly accepted event in this process; its job is then added
   * delayed (the fallback). Undefined when not decided here: the job went to a worker. Needs waitForDecision.
   * `started`: the reply of the script the ingest ran for it when new (IngestOutcome `whenNew`), if any.
   */
  decideInCall?(job: IvrEventJob, jobId: string, delivered: Promise<boolean>, started?: unknown): Promise<DecidedAnswer | undefined>;
  /** Redis reachable and the queue able to accept jobs? `reason` says why not (shown by /readyz). */
  ready(): Promise<boolean | { ok: boolean; reason?: string }>;
  /** Authenticate a request (signatures or shared token); throws HttpError 401. */
  authenticate?(req: { headers: Headers; body: string }): void;
  /** Called with every event stored as new (e.g. to record to NDJSON). */
  onAccepted?(body: string, job: IvrEventJob, headers?: Headers): void;
  /** Counts outcomes (metrics). */
  observe?(outcome: string): void;
  /** Prometheus exposition text for GET /metrics (route absent when unset). */
  metrics?: () => Promise<string>;
  /** Installed before every route: HTTP server metrics (`httpMetrics` from @ivr/metrics). */
  httpMetrics?: MiddlewareHandler;
  logger: ReceiverLogger;
  bodyLimitBytes?: number;
  storeTimeoutMs?: number;
  maxWaitMs?: number;
  now?: () => number;
  /** A monotonic clock in ms (default `performance.now`): the stages of the `Server-Timing` header of a waited answer. */
  hrNow?: () => number;
}

/**
 * A request body read that failed because the client went away: Node's IncomingMessage errors with
 * `aborted` / ECONNRESET, and @hono/node-server's body stream surfaces it (or an AbortError) to `c.req.text()`.
 */
export function isClientAbort(err: Error): boolean {
  const code = (err as { code?: string }).code;
  return err.name === 'AbortError' || code === 'ECONNRESET' || code === 'ECONNABORTED' || err.message === 'aborted' || err.message === 'The operation was aborted';
}

/**
 * The receiver's routes. The webhook is a chain of named steps, each in its own module under middleware/:
 * fastBodyLimit (413) → received (stamps receivedAt) → requireJson (415) → authenticate (401) → parseWebhook (400,
 * 200 skipped) → ingest (503, 422, 202/200) → preferWait (200 decided). A step refuses by throwing HttpError,
 * answered by onError below.
 */
export function createApp(deps: ReceiverDeps): Hono<ReceiverEnv> {
  const app = new Hono<ReceiverEnv>();
  const limit = deps.bodyLimitBytes ?? 64 * 1024;
  const now = deps.now ?? Date.now;
  const hrNow = deps.hrNow ?? monotonicNow;
  const observe = deps.observe ?? (() => undefined);
  if (deps.httpMetrics) app.use('*', deps.httpMetrics);

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const r = await withTimeout(deps.ready(), 1000, 'Redis ping').catch(() => false);
    const state = typeof r === 'boolean' ? { ok: r, reason: r ? undefined : 'Redis not reachable' } : r;
    return state.ok
      ? c.json({ status: 'ready' })
      : c.json({ status: 'unavailable', reason: state.reason ?? 'not ready' }, 503, { 'Retry-After': '1' });
  });

  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', async (c) => c.body(await metrics(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));
  }

  const waitForDecision = deps.waitForDecision;
  app.post(
    '/webhook/genesys-dtmf',
    fastBodyLimit({
      maxSize: limit,
      onError: () => {
        throw new HttpError(413, 'payload_too_large', `body exceeds ${limit} bytes`);
      },
    }),
    received(now, hrNow),
    requireJson(),
    authenticate(deps.authenticate),
    parseWebhook(observe),
    ingest({
      ingest: deps.ingest,
      decidesInCall: Boolean(waitForDecision && deps.decideInCall),
      storeTimeoutMs: deps.storeTimeoutMs ?? 2000,
      maxWaitMs: waitForDecision ? (deps.maxWaitMs ?? 10_000) : 0,
      onAccepted: deps.onAccepted,
      observe,
      logger: deps.logger,
      hrNow,
    }),
    ...(waitForDecision ? [preferWait({ waitForDecision, decideInCall: deps.decideInCall, markAnswered: deps.markAnswered, logger: deps.logger, now, hrNow })] : []),
  );

  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => {
    if (err instanceof HttpError) {
      observe(`error_${err.status}`);
      return c.json(errorBody(err.code, err.message), err.status, err.headers);
    }
    if (isClientAbort(err)) {
      // The client went away mid-request (closed the connection, timed out): nothing to answer, not our error.
      deps.logger.info({ path: c.req.path, err: err.message }, 'client aborted the request');
      observe('aborted');
      return c.body(null, 499 as never);
    }
    deps.logger.error({ err: err.message, stack: err.stack }, 'unhandled error');
    observe('error_500');
    return c.json(errorBody('internal', 'internal error'), 500);
  });
  return app;
}
