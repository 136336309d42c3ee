import { serve, type ServerType } from '@hono/node-server';
import type { Logger } from 'pino';
import { describeParts, eventLogger, loadRoutingPolicy, type Config } from '@ivr/config';
import type { DecisionRecord } from '@ivr/core';
import { createDecisionWaiter, createIdempotencyStore, createRecorder, ingestEvent } from '@ivr/intake';
import { createMetrics, httpMetrics, type IvrMetrics } from '@ivr/metrics';
import { createQueues, keyspace, answeredMarkTtlS, heldState, markAnswered, prepareHeldMove, queueReadiness, type IvrQueues, type IvrEventJob } from '@ivr/queue-contract';
import { createRedis, assertRedisMemory, waitForRedis } from '@ivr/redis';
import { decisionAnswer } from '@ivr/queue-contract';
import { cachedOnlyEstimatedWait, cachedOnlyOccupancy, createConversationStore, createInCallDecider, createReportSender, IN_CALL_REPORT_BATCH, inCallStartCall, inCallStartScript } from '@ivr/pipeline';
import { createApp, type ReceiverDeps } from './app';
import { createAuthenticator } from './middleware/authenticator';

export interface RunningReceiver {
  url: string;
  port: number;
  queues: IvrQueues;
  metrics: IvrMetrics;
  close(): Promise<void>;
}

/**
 * Node http.Server timeouts from config (issue 13: only Node's 300 s requestTimeout applied, so a body trickled
 * one byte at a time held its connection for minutes). Node enforces headersTimeout and requestTimeout from a
 * periodic check every `connectionsCheckingInterval` (default 30 s): 1 s here, so a slow client is cut at most
 * ~1 s after its deadline. See https://nodejs.org/api/http.html#httpcreateserveroptions-requestlistener.
 */
export function receiverServerOptions(config: Pick<Config, 'RECEIVER_HEADERS_TIMEOUT_MS' | 'RECEIVER_REQUEST_TIMEOUT_MS' | 'RECEIVER_KEEPALIVE_TIMEOUT_MS'>) {
  return {
    headersTimeout: config.RECEIVER_HEADERS_TIMEOUT_MS,
    requestTimeout: config.RECEIVER_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.RECEIVER_KEEPALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: 1000,
  };
}

/** Wire config → Redis connections → queues → Hono app → HTTP server. */
export async function startReceiver(config: Config, logger: Logger, extra: Partial<ReceiverDeps> = {}): Promise<RunningReceiver> {
  // Built first: a malformed WEBHOOK_SECRET fails before any connection is opened.
  const authenticate = createAuthenticator({ webhookSecret: config.WEBHOOK_SECRET, webhookToken: config.WEBHOOK_TOKEN });
  const prefix = config.QUEUE_PREFIX;
  const ks = keyspace(prefix);
  const producer = createRedis(config.REDIS_URL, 'producer');
  // The ingest script (claim + BullMQ add + finish) on a connection of its own: see IngestDeps.tx.
  const ingestTx = createRedis(config.REDIS_URL, 'producer', { connectionName: 'ivr-receiver-ingest' });
  const subscriber = createRedis(config.REDIS_URL, 'worker', { connectionName: 'ivr-receiver-sub' });
  for (const [name, conn] of [['producer', producer], ['ingest', ingestTx], ['subscriber', subscriber]] as const) {
    conn.on('error', (err) => logger.warn({ connection: name, err: err.message }, 'Redis connection error'));
  }
  try {
    await Promise.all([waitForRedis(producer, 10000), waitForRedis(ingestTx, 10000), waitForRedis(subscriber, 10000)]);
    await assertRedisMemory(producer, logger); // too small or too full: a one-line refusal (StartupError)
  } catch (err) {
    for (const c of [producer, ingestTx, subscriber]) c.disconnect();
    throw err;
  }
  const queues = createQueues(producer, prefix, { applyAttempts: config.APPLY_ATTEMPTS, applyBackoffMs: config.APPLY_BACKOFF_MS }, { skipWaitingForReady: true });
  const idempotency = createIdempotencyStore(producer, ks, config.IDEMPOTENCY_TTL_S);
  const waiter = createDecisionWaiter({
    subscriber,
    ks,
    lookup: async (key) => { // key: the event's scopedKey (app.ts)
      const v = await producer.get(ks.decision(key));
      return v ? decisionAnswer(JSON.parse(v) as DecisionRecord) : undefined;
    },
  });

  if (!config.WEBHOOK_SECRET && !config.WEBHOOK_TOKEN) {
    logger.warn('WEBHOOK_SECRET and WEBHOOK_TOKEN unset: webhooks are not authenticated');
  }
  const metrics = createMetrics();
  metrics.watchQueues(queues.all);
  metrics.watchHeld(() => heldState(producer, ks));
  const recorder = config.RECORD_PATH ? createRecorder(config.RECORD_PATH, { prefix, logger }) : undefined;
  if (recorder) logger.info({ path: config.RECORD_PATH }, 'recording accepted webhooks (RECORD_PATH) for pnpm ivr replay');
  // INCALL_DECIDE: a Prefer: wait request is decided here when the shared caches hold its figures (the in-call path).
  const policy = config.INCALL_DECIDE ? loadRoutingPolicy(config) : undefined;
  // Its reports go in report-batch jobs, a few milliseconds' worth each, not one job per decision.
  const reportSender = policy ? createReportSender({ reports: queues.reports, redis: producer, ks, logger: eventLogger(logger), ...IN_CALL_REPORT_BATCH }) : undefined;
  const inCall = policy
    ? createInCallDecider({
        decide: {
          conversations: createConversationStore(producer, ks, config.IDEMPOTENCY_TTL_S),
          occupancy: cachedOnlyOccupancy(producer, ks),
          estimatedWait: cachedOnlyEstimatedWait(producer, ks),
          policy,
          defaultRoute: config.DEFAULT_ROUTE,
          writes: queues.writes,
          reports: queues.reports,
          ...(reportSender ? { sendReport: reportSender.send } : {}),
          publisher: producer,
          ks,
          logger: eventLogger(logger),
          writeBack: config.WRITE_BACK,
          answerGraceMs: config.WRITE_ANSWER_GRACE_MS,
          deferFollowUps: true, // the answer first: the delayed job re-sends them should this process die
          // WRITE_BACK=unanswered: a delivered answer settles its write here (skipped, recorded with the report), no
          // apply job and no write-outcome job.
          holdWrite: config.WRITE_BACK === 'unanswered',
        },
        events: queues.events,
        onDecided: (r) => metrics.observeDecision(r),
        settle: { redis: producer, ks, answeredTtlS: answeredMarkTtlS(config.WRITE_MAX_AGE_S), logger: eventLogger(logger) },
        onWriteSettled: (r) => metrics.observeWrite(r),
      })
    : undefined;
  if (inCall) await prepareHeldMove(queues.events); // an event not decided here gets its job at once (moveHeld)
  const ingestDeps = { idempotency, events: queues.events, tx: ingestTx };
  const inCallStart = policy ? { deps: { ...ingestDeps, whenNew: inCallStartScript() }, ks, ttlSeconds: config.IDEMPOTENCY_TTL_S, policy } : undefined;
  const app = createApp({
    authenticate,
    observe: (outcome) => metrics.observeWebhook(outcome),
    metrics: () => metrics.render(),
    httpMetrics: httpMetrics(metrics),
    ...(recorder ? { onAccepted: (raw: string, job: IvrEventJob, headers?: Headers) => recorder.record(raw, job, headers) } : {}),
    // An in-call event (held: delayed job) starts its decision inside its own ingest (inCallStartScript).
    ingest: (job, fp, opts) =>
      inCallStart && opts?.delayMs
        ? ingestEvent(inCallStart.deps, job, fp, { ...opts, whenNew: inCallStartCall(inCallStart, job) })
        : ingestEvent(ingestDeps, job, fp, opts),
    waitForDecision: (key, ms) => waiter.wait(key, ms),
    ...(inCall ? { decideInCall: async (job: IvrEventJob, jobId: string, delivered: Promise<boolean>, started?: unknown) => {
      const d = await inCall(job, jobId, delivered, started);
      return d ? decisionAnswer(d) : undefined;
    } } : {}),
    // WRITE_BACK=unanswered: a delivered synchronous answer makes the attribute write unnecessary (apply checks the mark).
    ...(config.WRITE_BACK === 'unanswered' ? { markAnswered: (decisionId: string) => markAnswered(producer, ks, decisionId, answeredMarkTtlS(config.WRITE_MAX_AGE_S)) } : {}),
    ready: async () => {
      if ((await producer.ping()) !== 'PONG') return { ok: false, reason: 'Redis not reachable' };
      return queueReadiness(producer, [queues.events]);
    },
    logger: eventLogger(logger),
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    storeTimeoutMs: config.STORE_TIMEOUT_MS,
    ...extra,
  });

  let server: ServerType;
  try {
    server = await new Promise<ServerType>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.RECEIVER_PORT, hostname: config.RECEIVER_HOST, serverOptions: receiverServerOptions(config) }, () => resolve(s));
      s.once('error', reject); // EADDRINUSE and friends: a one-line reason in main (exitOnStartupFailure)
    });
  } catch (err) {
    await queues.close().catch(() => undefined);
    for (const c of [producer, ingestTx, subscriber]) c.disconnect();
    throw err;
  }
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.RECEIVER_PORT;
  const url = `http://127.0.0.1:${port}`;
  logger.info({ url, port, host: config.RECEIVER_HOST, prefix, parts: describeParts(config) }, 'receiver listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    queues,
    metrics,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        // The answers are delivered; their follow-ups (the settled writes, the reports in their batch jobs) are sent
        // before the queues close, so no event job is left to replay a decision made here.
        await inCall?.drain();
        await reportSender?.flush();
        await recorder?.close();
        await waiter.close();
        await queues.close();
        producer.disconnect();
        ingestTx.disconnect();
        subscriber.disconnect();
      })();
      return closing;
    },
  };
}
