import { Hono, type MiddlewareHandler } from 'hono';
import { fastBodyLimit } from './middleware/body-limit';
import {
  bodyDigest,
  bodyFingerprint,
  decisionIdFor,
  jobIdForKey,
  jsonDepth,
  parseWebhookBody,
  resolveIdempotencyKey,
  scopedKey,
} from '@ivr/core';
import { ingestFailure, keptHeaders, type IngestOutcome, type IvrEventJob } from '@ivr/queues';
import { errorBody, HttpError, withTimeout } from './errors';
import { afterDelivery, preferWaitMs } from './prefer';

export interface DecidedAnswer {
  status: 'decided';
  routing: string;
  availableAgents: number;
  [k: string]: unknown;
}

export interface ReceiverLogger {
  debug?(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ReceiverDeps {
  /** Store the event exactly once per key (claim + enqueue + confirm). Rejects when Redis is unavailable. */
  ingest(job: IvrEventJob, fingerprint: string): Promise<IngestOutcome>;
  /** Wait for the decision of `key`, the event's scopedKey (Prefer: wait). */
  waitForDecision?(key: string, timeoutMs: number): Promise<DecidedAnswer | undefined>;
  /** The synchronous answer of `decisionId` reached the client (WRITE_BACK=unanswered: its write is skipped). */
  markAnswered?(decisionId: string): Promise<void>;
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
  /** Installed before every route: HTTP server metrics (`httpMetrics` from @ivr/queues). */
  httpMetrics?: MiddlewareHandler;
  logger: ReceiverLogger;
  bodyLimitBytes?: number;
  storeTimeoutMs?: number;
  maxWaitMs?: number;
  now?: () => number;
}

const MAX_DEPTH = 32;

/**
 * A request body read that failed because the client went away: Node's IncomingMessage errors with
 * `aborted` / ECONNRESET, and @hono/node-server's body stream surfaces it (or an AbortError) to `c.req.text()`.
 */
export function isClientAbort(err: Error): boolean {
  const code = (err as { code?: string }).code;
  return err.name === 'AbortError' || code === 'ECONNRESET' || code === 'ECONNABORTED' || err.message === 'aborted' || err.message === 'The operation was aborted';
}

export function createApp(deps: ReceiverDeps): Hono {
  const app = new Hono();
  const limit = deps.bodyLimitBytes ?? 64 * 1024;
  const now = deps.now ?? Date.now;
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

  app.post(
    '/webhook/genesys-dtmf',
    fastBodyLimit({
      maxSize: limit,
      onError: () => {
        throw new HttpError(413, 'payload_too_large', `body exceeds ${limit} bytes`);
      },
    }),
    async (c) => {
      const receivedAt = now();
      const ct = c.req.header('content-type') ?? '';
      if (!/^application\/([a-z0-9.+-]*\+)?json\b/i.test(ct)) {
        throw new HttpError(415, 'unsupported_media_type', `Content-Type must be application/json (got ${JSON.stringify(ct.slice(0, 100))})`);
      }
      const raw = await c.req.text();
      deps.authenticate?.({ headers: c.req.raw.headers, body: raw });
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch (e) {
        throw new HttpError(400, 'invalid_json', `body is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
      }
      if (jsonDepth(body, MAX_DEPTH) > MAX_DEPTH) throw new HttpError(400, 'too_deep', `JSON nested deeper than ${MAX_DEPTH} levels`);
      const parsed = parseWebhookBody(body);
      if (parsed.kind === 'invalid') throw new HttpError(400, 'invalid_payload', parsed.message);
      if (parsed.kind === 'no_dtmf') {
        observe('skipped');
        return c.json({ status: 'skipped', reason: 'no_dtmf' }, 200);
      }
      const digest = bodyDigest(body); // canonical JSON + SHA-256 once, for the fingerprint and a hash key alike
      const key = resolveIdempotencyKey({ idempotencyKey: c.req.header('idempotency-key'), webhookId: c.req.header('webhook-id') }, body, digest);
      if (!key.ok) throw new HttpError(400, 'invalid_idempotency_key', key.message);
      const waitMs = deps.waitForDecision ? Math.min(preferWaitMs(c.req.header('prefer')), deps.maxWaitMs ?? 10_000) : 0;
      const job: IvrEventJob = { ...parsed.event, idempotencyKey: key.key, ...(key.space === 'body' ? { keySpace: 'body' as const } : {}), receivedAt, headers: keptHeaders(c.req.raw.headers), ...(waitMs > 0 ? { answerBy: receivedAt + waitMs } : {}) };
      let outcome: IngestOutcome;
      try {
        outcome = await withTimeout(deps.ingest(job, bodyFingerprint(body, digest)), deps.storeTimeoutMs ?? 2000, 'storing the event');
      } catch (err) {
        const fields = { idempotencyKey: key.key, conversationId: job.conversationId, jobId: jobIdForKey(key.key, key.space), err: (err as Error).message };
        if (ingestFailure(err) === 'unknown') {
          // Redis did not answer in time (frozen, slow, connection lost mid-request): the event may be stored.
          deps.logger.error(fields, 'event outcome unknown: Redis did not answer; a retry with the same key is safe');
          throw new HttpError(503, 'store_outcome_unknown', 'outcome unknown: Redis did not answer in time, the event may or may not be stored; retrying with the same idempotency key is safe', { 'Retry-After': '1' });
        }
        deps.logger.error(fields, 'event not stored: Redis unavailable');
        throw new HttpError(503, 'store_unavailable', 'the event could not be stored (Redis unavailable); retry later', { 'Retry-After': '1' });
      }
      const log = { idempotencyKey: key.key, conversationId: job.conversationId, jobId: outcome.jobId };
      if (outcome.kind === 'conflict') {
        observe('conflict');
        deps.logger.warn(log, 'idempotency key reused with a different body');
        throw new HttpError(422, 'idempotency_conflict', `idempotency key ${key.key} was already used with a different body`);
      }
      observe(outcome.kind);
      if (outcome.kind === 'accepted') {
        deps.logger.debug?.({ ...log, dtmf: job.dtmf, keyFrom: key.from }, 'accepted'); // per event: debug (docs/performance.md)
        deps.onAccepted?.(raw, job, c.req.raw.headers);
      }
      if (waitMs > 0 && deps.waitForDecision) {
        const answer = await deps.waitForDecision(scopedKey(key.key, key.space), Math.max(1, waitMs - (now() - receivedAt))).catch(() => undefined);
        if (answer) {
          const decisionId = decisionIdFor(scopedKey(key.key, key.space)); // derived from the key, never a string from the body
          if (deps.markAnswered) afterDelivery(c.env, () => void deps.markAnswered!(decisionId).catch((err: Error) => deps.logger.warn({ idempotencyKey: key.key, decisionId, err: err.message }, 'answered mark not stored: the decision will be written too')));
          return c.json({ ...answer, jobId: outcome.jobId, idempotencyKey: key.key }, 200, { 'Preference-Applied': `wait=${waitMs / 1000}` });
        }
      }
      return outcome.kind === 'accepted'
        ? c.json({ status: 'accepted', jobId: outcome.jobId, idempotencyKey: key.key }, 202)
        : c.json({ status: 'duplicate', jobId: outcome.jobId, idempotencyKey: key.key }, 200);
    },
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
