/** Endpoint names used in the call log, stats and fault matching. */
export type SimEndpoint = 'token' | 'observations' | 'attributes' | 'conversation' | 'notifications' | 'estimatedwaittime' | 'other';

export const SIM_ENDPOINTS: readonly SimEndpoint[] = ['token', 'observations', 'attributes', 'conversation', 'notifications', 'estimatedwaittime', 'other'];

/**
 * Media types Genesys splits conversation metrics by (`oWaiting`, `oInteracting`, `oAlerting`): one result group
 * `{"mediaType", "queueId"}` per media type (the SDK's QueueObservationDataContainer.group is a free map).
 */
export const MEDIA_TYPES = ['voice', 'callback', 'chat', 'email', 'message'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/** Conversations of one media type in one queue. */
export interface MediaCounts {
  waiting: number;
  interacting: number;
  alerting: number;
}

/** What the simulator knows about one queue: on-queue users (all media) and conversations per media type. */
export interface QueueCounts {
  /** On-queue users with routing status IDLE (`oOnQueueUsers` / `IDLE`): the available agents. */
  idle: number;
  /** On-queue users busy with an interaction (`oOnQueueUsers` / `INTERACTING`). */
  interactingUsers: number;
  media: Record<MediaType, MediaCounts>;
  /** What `GET .../estimatedwaittime` answers for this queue, seconds (every media type). */
  estimatedWaitS: number;
}

/**
 * `PUT /__sim/queues/{id}`: `idle`, `interacting`, `waiting`, `alerting` are the voice figures (and `interacting`
 * also counts as INTERACTING users unless `interactingUsers` is given); `media` sets other media types, e.g.
 * `{"idle":0,"media":{"chat":{"waiting":40}}}`.
 */
export interface QueueInput {
  idle?: number;
  interacting?: number;
  waiting?: number;
  alerting?: number;
  interactingUsers?: number;
  media?: Partial<Record<MediaType, Partial<MediaCounts>>>;
  estimatedWaitS?: number;
}

export interface CallRecord {
  /** Global, monotonically increasing position of the call (use with `?since=`). */
  index: number;
  method: string;
  path: string;
  status: number;
  /** Epoch milliseconds when the answer was sent. */
  time: number;
  endpoint: SimEndpoint;
}

export interface FaultSpec {
  /** An endpoint name (`token`, `observations`, `attributes`, `conversation`) or a substring of the path. */
  match: string;
  /** HTTP status to answer with; omit for a latency-only fault. */
  status?: number;
  /** Fraction of matching requests to hit, 0..1 (default 1). Deterministic: counter based. */
  rate?: number;
  /** Stop after this many injections. */
  count?: number;
  /** For 429 (and 503): the `Retry-After` header in seconds (default 1 for 429). */
  retryAfterS?: number;
  /** Delay added before answering (hit requests only). */
  latencyMs?: number;
}

/** Participant purposes a call has in Genesys (Participant.purpose in the SDK's models). */
export const PARTICIPANT_PURPOSES = ['customer', 'ivr', 'acd', 'agent'] as const;
export type ParticipantPurpose = (typeof PARTICIPANT_PURPOSES)[number];

export interface Participant {
  id: string;
  purpose: ParticipantPurpose;
  attributes: Record<string, string>;
  startTime: string;
  endTime?: string;
}

/** A call the simulator knows: created with `PUT /__sim/conversations/{cid}`, ended with `DELETE`. */
export interface SimConversation {
  id: string;
  startTime: string;
  /** Set when the call ended (`DELETE /__sim/conversations/{cid}`). */
  endTime?: string;
  participants: Participant[];
}

export interface SimStats {
  total: number;
  /** endpoint → status → count, e.g. `byEndpoint.attributes['200']`. */
  byEndpoint: Record<string, Record<string, number>>;
  /** endpoint → count. */
  countByEndpoint: Record<string, number>;
  /** status → count. */
  byStatus: Record<string, number>;
}

export interface SimOptions {
  clientId?: string;
  clientSecret?: string;
  /** `expires_in` of issued tokens, seconds (default 86399, as Genesys). */
  tokenTtlS?: number;
  /** How many call records to keep (counters stay exact). Default 100 000. */
  callLogCapacity?: number;
  /** Notification heartbeat interval, ms (default 30 000, as Genesys). */
  heartbeatMs?: number;
  /** How long a notification channel lives without a resubscription, seconds (default 86 400, as Genesys). */
  channelTtlS?: number;
}
