import type { Models } from 'purecloud-platform-client-v2';

/** The raw observations query response, as the SDK returns it (zero metrics may be omitted). */
export interface ObservationsResponse {
  results?: Array<{
    group?: { queueId?: string; [k: string]: unknown };
    data?: Array<{ metric?: string; qualifier?: string; stats?: { count?: number } }>;
  }>;
}

/** `budget_exhausted`: not sent at all, the shared request budget (GENESYS_RATE_PER_MIN) has no slot for it yet. */
export type GenesysErrorKind = 'retryable' | 'rate_limited' | 'reauth' | 'fatal' | 'budget_exhausted';

export interface GenesysStats {
  logins: number;
  /** API calls made, by endpoint name (`observations`, `attributes`, `conversation`). */
  calls: Record<string, number>;
  /** API answers by status code. */
  statuses: Record<string, number>;
  /** This process's use of the shared request budget (absent when the client has no budget). */
  budget?: import('./budget').BudgetStats;
}

/** A notification channel as Genesys creates it (the SDK's Channel model, id and connectUri required). */
export interface NotificationChannel {
  id: string;
  connectUri: string;
  /** ISO time the channel expires unless resubscribed. */
  expires?: string;
}

/** Everything the workers need from Genesys Cloud. One instance per process (the SDK is a singleton). */
export interface GenesysClient {
  /** Client-credentials login; rejects with GenesysAuthError (clear message) on bad credentials. */
  login(): Promise<void>;
  /** POST /api/v2/analytics/queues/observations/query with one predicate per queue. */
  queryObservations(queueIds: readonly string[]): Promise<ObservationsResponse>;
  /** PATCH /api/v2/conversations/{cid}/participants/{pid}/attributes. Rejects with GenesysApiError. */
  patchParticipantAttributes(conversationId: string, participantId: string, attributes: Record<string, string>): Promise<{ status: number }>;
  /**
   * GET /api/v2/conversations/{cid} (ConversationsApi.getConversation, permission conversation:communication:view),
   * through the same request path (token, 401 re-login, classification) as the other calls. Rejects with GenesysApiError.
   */
  getConversation(conversationId: string): Promise<Models.Conversation>;
  /**
   * GET /api/v2/routing/queues/{queueId}/mediatypes/{mediaType}/estimatedwaittime (RoutingApi): Genesys' estimated
   * wait in seconds for a call of MEDIA_TYPE arriving now. Rejects with GenesysApiError.
   */
  getEstimatedWaitSeconds(queueId: string, mediaType: string): Promise<number>;
  /**
   * POST /api/v2/notifications/channels (NotificationsApi.postNotificationsChannels): a channel whose WebSocket
   * (connectUri) carries the subscribed topics' events until `expires` (about 24 h; resubscribing extends it).
   */
  createNotificationChannel(): Promise<NotificationChannel>;
  /** PUT /api/v2/notifications/channels/{id}/subscriptions: replaces the channel's topics (and extends its life). */
  subscribeNotificationChannel(channelId: string, topics: readonly string[]): Promise<void>;
  stats(): GenesysStats;
  /** Releases what the client holds (the budget's Redis connection when it owns one). */
  close?(): Promise<void>;
}
