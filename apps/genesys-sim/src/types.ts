/** Endpoint names used in the call log, stats and fault matching. */
export type SimEndpoint = 'token' | 'observations' | 'attributes' | 'conversation' | 'other';

export const SIM_ENDPOINTS: readonly SimEndpoint[] = ['token', 'observations', 'attributes', 'conversation', 'other'];

export interface QueueCounts {
  idle: number;
  interacting: number;
  waiting: number;
  alerting: number;
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

export interface Participant {
  id: string;
  purpose: string;
  attributes: Record<string, string>;
}

export interface SimConversation {
  id: string;
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
}
