import type { estypes } from '@elastic/elasticsearch';
import { readStoredDecision, routedByWaitRule } from '@ivr/core';
import type { DecisionDoc } from './store';

/** Hour of day (UTC, 0-23) of a decision, indexed beside it: the heatmap's hour rows are a plain terms aggregation. */
export interface DerivedFields {
  hour_of_day: number;
  /** Sent to voicemail by the maxEstimatedWaitS rule (routedByWaitRule): the wait view counts these with a term filter. */
  routed_by_wait: boolean;
}

/** What one `_bulk` create sends: the decision record plus the fields derived from it at write time. */
export type StoredDecision = DecisionDoc & DerivedFields;

/**
 * Fields other parts of the system are adding to the decision record (write outcomes, media type, estimated wait).
 * They are mapped ahead of time so a record carrying them is never refused; once they are part of DecisionRecord the
 * type below requires them anyway.
 */
export type AnticipatedField = 'writeStatus' | 'writeReason' | 'writtenAt' | 'mediaType';

/** A mapping for every field of T (optional ones included), and for the anticipated fields at most. */
export type FieldMappingsFor<T> = { [K in keyof Required<T>]: estypes.MappingProperty } & Partial<Record<AnticipatedField, estypes.MappingProperty>>;

/**
 * Every field a stored decision can have, with its Elasticsearch type. `satisfies` makes this provably in step with
 * the record: a field of DecisionRecord (or DerivedFields) without a mapping, or a mapping for a field nobody writes
 * (other than the anticipated ones), does not compile. Ids, DTMF, routes, sources and states are keywords (exact
 * terms aggregations); `timestamp`/`writtenAt` dates; counts integers. `queue_occupancy` may be null (occupancy
 * unknown): a null is stored in _source and not indexed (https://www.elastic.co/guide/en/elasticsearch/reference/8.19/null-value.html).
 */
export const DECISION_FIELDS = {
  decisionId: { type: 'keyword' },
  idempotencyKey: { type: 'keyword' },
  timestamp: { type: 'date' },
  flowInstanceId: { type: 'keyword' },
  conversationId: { type: 'keyword' },
  participantId: { type: 'keyword' },
  dtmf: { type: 'keyword' },
  queueId: { type: 'keyword' },
  threshold: { type: 'integer' },
  queue_occupancy: { type: 'integer' },
  routing_decision: { type: 'keyword' },
  state: { type: 'keyword' },
  sequence: { type: 'integer' },
  latencyMs: { type: 'integer' },
  occupancySource: { type: 'keyword' },
  reason: { type: 'keyword', ignore_above: 1024 },
  hour_of_day: { type: 'byte' },
  routed_by_wait: { type: 'boolean' },
  writeStatus: { type: 'keyword' },
  writeReason: { type: 'keyword', ignore_above: 1024 },
  writtenAt: { type: 'date' },
  mediaType: { type: 'keyword' },
  estimatedWaitS: { type: 'float' },
} as const satisfies FieldMappingsFor<StoredDecision>;

/**
 * The index mapping: exactly DECISION_FIELDS, and `dynamic: strict`, so a document with a field the mapping does not
 * know is refused (`strict_dynamic_mapping_exception`, that report job fails with the reason) instead of being
 * silently stored unsearchable or with a guessed type.
 */
export const DECISION_MAPPINGS: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  properties: DECISION_FIELDS,
};

/**
 * The index template: `genesys_flow_decisions` (the name users query) gets these settings and mappings when it is
 * created. The store's `init()` PUTs it at every start, in tests and in docker-compose alike (there is no second
 * copy of it; tests/unit/compose.test.ts checks compose leaves it to the workers).
 */
export function indexTemplate(index: string): estypes.IndicesPutIndexTemplateRequest {
  return {
    name: index,
    index_patterns: [index],
    priority: 200,
    template: { settings: { number_of_shards: 1 }, mappings: DECISION_MAPPINGS },
    _meta: { description: 'IVR routing decisions (@ivr/reporting)' },
  };
}

/** The document sent for one decision: the record and its derived fields (hour of day from the timestamp, UTC). */
export function toStoredDecision(doc: DecisionDoc): StoredDecision {
  return { ...doc, hour_of_day: new Date(doc.timestamp).getUTCHours(), routed_by_wait: routedByWaitRule(doc) };
}

/**
 * The decision as the rest of the system knows it: the stored document without the fields derived at write time,
 * a legacy `live` source read as `poll`.
 */
export function fromStoredDecision(stored: StoredDecision): DecisionDoc {
  const { hour_of_day: _hour, routed_by_wait: _byWait, ...doc } = stored;
  return readStoredDecision(doc);
}
