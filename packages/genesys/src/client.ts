import type { Logger } from '@ivr/core';
import platformClient, { type Models } from 'purecloud-platform-client-v2';
import { classifyGenesysError, GenesysApiError, GenesysAuthError } from './errors';
import { checkGenesysEnvironment } from './environment';
import { createSdkClient, loginUrl, type SdkApiClient } from './sdk-client';
import { TokenManager } from './token-manager';
import type { GenesysBudget } from './budget';
import type { GenesysClient, GenesysStats, ObservationsResponse } from './types';

/** The pino methods the client uses. */
export type GenesysLogger = Pick<Logger, 'info' | 'warn'> & Partial<Pick<Logger, 'debug'>>;

export interface GenesysClientOptions {
  /** e.g. `mypurecloud.com`, `mypurecloud.ie` (ignored when apiBase is set). */
  environment: string;
  /** Sends every login and API call to this base instead (the simulator), e.g. `http://127.0.0.1:4010`. */
  apiBase?: string;
  clientId: string;
  clientSecret: string;
  /** Per HTTP request (default 16 000, as the SDK). */
  timeoutMs?: number;
  /** Log in again this long before the token expires (default 60 000). */
  refreshMarginMs?: number;
  /** The token lifecycle's clock (default Date.now; tests move it instead of waiting). */
  now?: () => number;
  logger?: GenesysLogger;
  /**
   * The request budget every call and login goes through (GENESYS_RATE_PER_MIN, shared by all processes).
   * Without it nothing is limited here (tests of the client alone).
   */
  budget?: GenesysBudget;
}

export const OBSERVATION_METRICS = ['oOnQueueUsers', 'oWaiting', 'oInteracting', 'oAlerting', 'oActiveUsers'] as const;

interface ExtendedResponse<T> {
  status: number;
  body: T;
}

const noopLogger: GenesysLogger = { info() {}, warn() {} };

/** Builds the observations query body: one `queueId` predicate per queue, so one HTTP call for all of them. */
export function observationsQuery(queueIds: readonly string[]) {
  return {
    filter: {
      type: 'or' as const,
      predicates: queueIds.map((value) => ({ type: 'dimension' as const, dimension: 'queueId', operator: 'matches' as const, value })),
    },
    metrics: [...OBSERVATION_METRICS],
  };
}

/**
 * The estimatedwaittime path names media as its answer's `intent` does (PredictionResults.IntentEnum: CALL,
 * CALLBACK, CHAT, EMAIL, MESSAGE, lower-cased), so MEDIA_TYPE `voice` is `call` there. Checked against the SDK's
 * docs (MyPureCloud/platform-client-sdk-javascript build/docs/RoutingApi.md › getRoutingQueueMediatypeEstimatedwaittime):
 * mediaType "Values: all, call, chat, callback, email, videoComm, message": there is no `voice`.
 */
function ewtMediaType(mediaType: string): string {
  return mediaType === 'voice' ? 'call' : mediaType;
}

/** The `BEST` formula's figure when given (Genesys picks the best available estimate), else the first result's. */
function estimatedWaitOf(body: Models.EstimatedWaitTimePredictions): number {
  const results = body.results ?? [];
  const best = results.find((r) => r.formula === 'BEST') ?? results[0];
  if (!best || typeof best.estimatedWaitTimeSeconds !== 'number') throw new GenesysApiError({ kind: 'fatal', message: 'Genesys answered no estimated wait for the queue' }, 'estimatedwaittime');
  return best.estimatedWaitTimeSeconds;
}

class StatsCounter {
  logins = 0;
  private readonly calls: Record<string, number> = {};
  private readonly statuses: Record<string, number> = {};

  call(endpoint: string): void {
    this.calls[endpoint] = (this.calls[endpoint] ?? 0) + 1;
  }

  status(status: number | string): void {
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }

  snapshot(): GenesysStats {
    return { logins: this.logins, calls: { ...this.calls }, statuses: { ...this.statuses } };
  }
}

function authFailure(err: unknown, opts: GenesysClientOptions, url: string): Error {
  const c = classifyGenesysError(err);
  const where = opts.apiBase ? `GENESYS_API_BASE=${opts.apiBase}` : `GENESYS_ENVIRONMENT=${opts.environment}`;
  if (c.status !== undefined && c.status >= 400 && c.status < 500 && c.status !== 429) {
    const reason = `${c.status} ${c.code ?? ''}`.trim();
    return new GenesysAuthError(
      `Genesys login failed for client id ${opts.clientId} at ${url}: ${reason} (${c.message}); check GENESYS_CLIENT_ID/SECRET and GENESYS_ENVIRONMENT (${where}), and that the OAuth client uses the Client Credentials grant`,
      c.status,
      c.code,
      { cause: err },
    );
  }
  return new GenesysApiError({ ...c, message: `Genesys login at ${url} failed: ${c.message}` }, 'token', { cause: err });
}

/** Creates a Genesys client on a private SDK ApiClient (several may coexist in one process). Call `login()` first. */
export function createGenesysClient(opts: GenesysClientOptions): GenesysClient {
  const logger = opts.logger ?? noopLogger;
  // A region typo stops the process here with the valid values, not at the first login as a DNS error.
  checkGenesysEnvironment(opts.environment);
  const sdk: SdkApiClient = createSdkClient({ environment: opts.environment, apiBase: opts.apiBase, timeoutMs: opts.timeoutMs ?? 16_000 });
  const analytics = new platformClient.AnalyticsApi(sdk);
  const conversations = new platformClient.ConversationsApi(sdk);
  const notifications = new platformClient.NotificationsApi(sdk);
  const routing = new platformClient.RoutingApi(sdk);
  const counter = new StatsCounter();
  const url = loginUrl(sdk);

  const budget = opts.budget;

  /**
   * The ONE place a request is admitted against the shared budget: every API method goes through callApi, so a
   * method added later is covered without its own code. A refusal is not sent: GenesysApiError `budget_exhausted`
   * with retryAfterMs (the write queue delays the job, the occupancy read fails open). A Redis failure of the
   * budget itself is retryable, never a reason to send unbudgeted.
   */
  async function admit(endpoint: string): Promise<() => Promise<void>> {
    let grant: Awaited<ReturnType<GenesysBudget['take']>>;
    try {
      grant = budget ? await budget.take(endpoint) : { granted: true, done: async () => undefined };
    } catch (err) {
      throw new GenesysApiError({ kind: 'retryable', message: `Genesys request budget unavailable (Redis: ${(err as Error).message}); not sent` }, endpoint, { cause: err });
    }
    if (grant.granted) {
      const done = grant.done;
      // Counting the request from its answer is stricter; if Redis fails here it still counts from when it was sent.
      return () => done().catch((err: Error) => logger.warn({ endpoint, err: err.message }, 'Genesys budget: request end not recorded'));
    }
    const why = grant.reason === 'paused' ? 'Genesys asked us to wait (429 Retry-After)' : 'the shared Genesys request budget (GENESYS_RATE_PER_MIN) is used up';
    throw new GenesysApiError({ kind: 'budget_exhausted', retryAfterMs: grant.retryInMs, message: `not sent: ${why}; next slot in ${grant.retryInMs} ms` }, endpoint);
  }

  /** Logins are rare and everything waits on them: a login waits for its slot (bounded) instead of failing. */
  async function admitLogin(): Promise<() => Promise<void>> {
    const deadline = Date.now() + (opts.timeoutMs ?? 16_000) * 4;
    for (;;) {
      try {
        return await admit('token');
      } catch (err) {
        if (!(err instanceof GenesysApiError) || err.kind !== 'budget_exhausted' || Date.now() + (err.retryAfterMs ?? 0) > deadline) throw err;
        await new Promise((r) => setTimeout(r, err.retryAfterMs ?? 1000));
      }
    }
  }

  const tokens = new TokenManager({
    refreshMarginMs: opts.refreshMarginMs ?? 60_000,
    ...(opts.now ? { now: opts.now } : {}),
    login: async () => {
      const answered = await admitLogin();
      counter.logins += 1;
      try {
        const auth = await sdk.loginClientCredentialsGrant(opts.clientId, opts.clientSecret);
        logger.info({ clientId: opts.clientId, loginUrl: url, expiresAt: auth.tokenExpiryTimeString }, 'Genesys login ok');
        return auth.tokenExpiryTime ?? Date.now();
      } catch (err) {
        throw authFailure(err, opts, url);
      } finally {
        await answered();
      }
    },
  });

  /** One API call: fresh token first, one re-login + retry on 401, everything else classified. */
  async function callApi<T>(endpoint: string, send: () => Promise<unknown>): Promise<ExtendedResponse<T>> {
    for (let attempt = 0; ; attempt++) {
      await tokens.ensureFresh();
      const generation = tokens.generation;
      const answered = await admit(endpoint);
      counter.call(endpoint);
      try {
        const res = (await send().finally(answered)) as ExtendedResponse<T>;
        counter.status(res.status);
        return res;
      } catch (err) {
        const c = classifyGenesysError(err);
        counter.status(c.status ?? 'network');
        // A 429 pauses every process's requests, not only this queue's (GENESYS.md: honour Retry-After globally).
        if (c.kind === 'rate_limited' && budget) await budget.pause(c.retryAfterMs ?? 1000).catch(() => undefined);
        if (c.kind === 'reauth' && attempt === 0) {
          logger.warn({ endpoint, status: c.status }, 'Genesys answered 401: logging in again once');
          await tokens.reauth(generation);
          continue;
        }
        throw new GenesysApiError(c, endpoint, { cause: err });
      }
    }
  }

  return {
    login: () => tokens.login(),
    async queryObservations(queueIds) {
      if (queueIds.length === 0) return { results: [] };
      const res = await callApi<ObservationsResponse>('observations', () => analytics.postAnalyticsQueuesObservationsQuery(observationsQuery(queueIds)));
      return res.body;
    },
    async patchParticipantAttributes(conversationId, participantId, attributes) {
      const res = await callApi('attributes', () => conversations.patchConversationParticipantAttributes(conversationId, participantId, { attributes }));
      return { status: res.status };
    },
    async getConversation(conversationId) {
      const res = await callApi<Models.Conversation>('conversation', () => conversations.getConversation(conversationId));
      return res.body;
    },
    async getEstimatedWaitSeconds(queueId, mediaType) {
      const res = await callApi<Models.EstimatedWaitTimePredictions>('estimatedwaittime', () => routing.getRoutingQueueMediatypeEstimatedwaittime(queueId, ewtMediaType(mediaType)));
      return estimatedWaitOf(res.body);
    },
    async createNotificationChannel() {
      const res = await callApi<Models.Channel>('notifications', () => notifications.postNotificationsChannels());
      const { id, connectUri, expires } = res.body;
      if (!id || !connectUri) throw new GenesysApiError({ kind: 'fatal', message: 'Genesys created a notification channel without an id or connectUri' }, 'notifications');
      return { id, connectUri, ...(expires ? { expires } : {}) };
    },
    async subscribeNotificationChannel(channelId, topics) {
      await callApi('notifications', () => notifications.putNotificationsChannelSubscriptions(channelId, topics.map((id) => ({ id }))));
    },
    stats: () => ({ ...counter.snapshot(), ...(budget ? { budget: budget.stats() } : {}) }),
  };
}
