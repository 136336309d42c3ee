import platformClient, { type Models } from 'purecloud-platform-client-v2';
import { classifyGenesysError, GenesysApiError, GenesysAuthError } from './errors';
import { checkGenesysEnvironment } from './environment';
import { createSdkClient, loginUrl, type SdkApiClient } from './sdk-client';
import { TokenManager } from './token-manager';
import type { GenesysClient, GenesysStats, ObservationsResponse } from './types';

/** The pino methods the client uses. */
export interface GenesysLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

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
  logger?: GenesysLogger;
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
  const counter = new StatsCounter();
  const url = loginUrl(sdk);

  const tokens = new TokenManager({
    refreshMarginMs: opts.refreshMarginMs ?? 60_000,
    login: async () => {
      counter.logins += 1;
      try {
        const auth = await sdk.loginClientCredentialsGrant(opts.clientId, opts.clientSecret);
        logger.info({ clientId: opts.clientId, loginUrl: url, expiresAt: auth.tokenExpiryTimeString }, 'Genesys login ok');
        return auth.tokenExpiryTime ?? Date.now();
      } catch (err) {
        throw authFailure(err, opts, url);
      }
    },
  });

  /** One API call: fresh token first, one re-login + retry on 401, everything else classified. */
  async function callApi<T>(endpoint: string, send: () => Promise<unknown>): Promise<ExtendedResponse<T>> {
    for (let attempt = 0; ; attempt++) {
      await tokens.ensureFresh();
      const generation = tokens.generation;
      counter.call(endpoint);
      try {
        const res = (await send()) as ExtendedResponse<T>;
        counter.status(res.status);
        return res;
      } catch (err) {
        const c = classifyGenesysError(err);
        counter.status(c.status ?? 'network');
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
    stats: () => counter.snapshot(),
  };
}
