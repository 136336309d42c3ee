import type { DecisionDoc } from '@ivr/core';
import type { WriteOutcome } from '@ivr/core';

export type { WriteOutcome, WriteStatus } from '@ivr/core';

/** One decision document (the tutorial's fields plus ours, and the write's outcome); `_id` in Elasticsearch = decisionId. */
export type { DecisionDoc };

export interface WriteResult {
  /** Documents newly stored. */
  written: number;
  /** Documents whose decisionId was already stored (idempotent re-write). */
  duplicates: number;
  /** Items the store refused; `retryable` ones (429, 5xx, unavailable) should be retried by the caller. */
  failed: Array<{ decisionId: string; reason: string; retryable: boolean }>;
}

export interface WriteOutcomesResult {
  /** Decisions the outcome was recorded on. */
  updated: number;
  /** Outcomes not recorded; a decision not stored yet is `retryable` (its report job may still be on the way). */
  failed: Array<{ decisionId: string; reason: string; retryable: boolean }>;
}

/** Time range filter, ISO strings, inclusive `from`, exclusive `to`. */
export interface HeatmapQuery {
  from?: string;
  to?: string;
  /**
   * Width of the "decisions over time" buckets, ms. Used only when both `from` and `to` are given; widened
   * (doubled) until the range has at most MAX_TIME_BUCKETS buckets. Buckets are aligned to the Unix epoch (UTC).
   */
  bucketMs?: number;
}

/** Decisions per time bucket × route: rows are bucket starts (ISO, UTC), every bucket of the range present. */
export interface TimeSeries extends CountMatrix {
  bucketMs: number;
}

/** Decision latency (webhook received → decision made), ms, over the decisions in range. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
}

/** A count matrix: counts[rowIndex][colIndex]. */
export interface CountMatrix {
  rows: string[];
  cols: string[];
  counts: number[][];
}

/**
 * The estimated-wait view (issue 19): DTMF pressed (rows, keypad order) × hour of day UTC (cols "00".."23") over the
 * decisions in range. A decision has a figure only when its target has maxEstimatedWaitS and the agents alone would
 * have routed it to the queue; the others are counted as "no figure", never as a wait of 0.
 */
export interface WaitView {
  rows: string[];
  cols: string[];
  /** Decisions per cell. */
  decisions: number[][];
  /** Decisions per cell that recorded an estimatedWaitS. */
  withFigure: number[][];
  /** Mean estimatedWaitS per cell, seconds rounded to 0.1; null where no decision of the cell has a figure. */
  meanS: Array<Array<number | null>>;
  /** Decisions per cell sent to voicemail by the maxEstimatedWaitS rule (enough agents, wait above the maximum). */
  routedByWait: number[][];
  totals: { decisions: number; withFigure: number; withoutFigure: number; routedByWait: number; meanS: number | null };
}

export interface HeatmapData {
  total: number;
  /** Earliest and latest decision timestamp in range (null when empty). */
  from: string | null;
  to: string | null;
  /** DTMF × routing decision (the tutorial's view). */
  dtmfByRoute: CountMatrix;
  /** Hour of day (UTC, "00".."23") × routing decision. */
  hourByRoute: CountMatrix;
  /**
   * Available agents bucketed ("0", "1", "2", "3-4", "5-9", "10+") × routing decision, plus an "unknown" row
   * (fail-open: Genesys could not answer, queue_occupancy null) only when such decisions are in range.
   */
  agentsByRoute: CountMatrix;
  /** Decisions over time (see HeatmapQuery.bucketMs); null unless from, to and bucketMs were given. */
  overTime: TimeSeries | null;
  /**
   * Latency percentiles (Elasticsearch: `percentiles` aggregation; embedded store: computed exactly from the
   * range's entries, nearest rank). Null when empty, and for the embedded store's all-time view
   * (its O(1) counters hold no latency); ask with a range to get it from both stores.
   */
  latency: LatencySummary | null;
  /**
   * Estimated wait (see WaitView). The embedded store counts the decisions it stored since the view exists (older
   * entries carry no wait fields); Elasticsearch every decision, the rule's count from `routed_by_wait` (same caveat).
   */
  wait: WaitView;
}

/** The decision store port. Implementations: Elasticsearch and the embedded (Redis) store; one contract suite. */
export interface DecisionStore {
  readonly kind: 'elasticsearch' | 'embedded';
  /** The Elasticsearch index (undefined for the embedded store); shown in the heatmap's footer. */
  readonly index?: string;
  /** Create index template/index if missing. Idempotent. */
  init(): Promise<void>;
  writeBatch(docs: readonly DecisionDoc[]): Promise<WriteResult>;
  /**
   * Records on each stored decision what became of its Genesys write: fields `writeStatus`
   * (written | failed | skipped | expired), `writeReason` (why, when not written) and `writtenAt` (ISO, when written);
   * a later outcome for the same decision replaces the earlier one. One request per call. A decision that is not
   * stored yet fails that item, retryable.
   */
  recordWriteOutcomes(outcomes: readonly WriteOutcome[]): Promise<WriteOutcomesResult>;
  heatmap(query?: HeatmapQuery): Promise<HeatmapData>;
  count(query?: HeatmapQuery): Promise<number>;
  /** The stored document of one decision (the dashboard's events page), null when not stored (yet). */
  getDecision(decisionId: string): Promise<DecisionDoc | null>;
  /** Requests made to the backing store (for the bench's store-requests-per-decision). */
  requests(): number;
  close(): Promise<void>;
}

/** The store could not be reached; callers retry (BullMQ attempts), nothing is dropped. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
