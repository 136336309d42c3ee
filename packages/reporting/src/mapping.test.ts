/**
 * The index mapping and the decision record are provably in step: at compile time (DECISION_FIELDS `satisfies`
 * FieldMappingsFor<StoredDecision>; the @ts-expect-error lines below fail `pnpm typecheck` if that check ever stops
 * biting) and at run time against what is really written (the report job schema). The real node's mapping is
 * compared with DECISION_MAPPINGS in elasticsearch-store.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { decisionReportJobSchema } from '@ivr/queue-contract';
import { DECISION_FIELDS, DECISION_MAPPINGS, toStoredDecision, type FieldMappingsFor, type StoredDecision } from './elasticsearch-mapping';
import { makeDoc } from './fixtures';

describe('decision mapping', () => {
  it('refuses, at compile time, a record field without a mapping and a mapping nobody writes', () => {
    const { dtmf: _dropped, ...withoutDtmf } = DECISION_FIELDS;
    // @ts-expect-error a record field (dtmf) without a mapping does not compile
    const missing: FieldMappingsFor<StoredDecision> = withoutDtmf;
    // @ts-expect-error a mapped field that is neither in the record nor anticipated does not compile
    const extra: FieldMappingsFor<StoredDecision> = { ...DECISION_FIELDS, colour: { type: 'keyword' } };
    expect(Object.keys(missing)).not.toContain('dtmf');
    expect(Object.keys(extra)).toContain('colour');
  });

  it('maps every field the report job carries, plus the derived hour of day', () => {
    const jobFields = Object.keys(decisionReportJobSchema.shape);
    expect(jobFields.filter((f) => !(f in DECISION_FIELDS))).toEqual([]);
    const stored = toStoredDecision(makeDoc(7, { reason: 'r', timestamp: '2024-03-01T13:59:59.999Z' }));
    expect(Object.keys(stored).filter((f) => !(f in DECISION_FIELDS))).toEqual([]);
    expect(stored.hour_of_day).toBe(13);
    expect(stored.routed_by_wait).toBe(false);
    // enough agents, a wait figure, voicemail: the maxEstimatedWaitS rule decided it
    expect(toStoredDecision(makeDoc(8, { queue_occupancy: 6, threshold: 2, estimatedWaitS: 140, routing_decision: 'route_to_vm' })).routed_by_wait).toBe(true);
    expect(toStoredDecision(makeDoc(9, { queue_occupancy: 1, threshold: 2, routing_decision: 'route_to_vm' })).routed_by_wait).toBe(false);
  });

  it("reads a report job queued by the previous version (occupancySource 'live') as 'poll'; refuses unknown sources", () => {
    expect(decisionReportJobSchema.parse({ ...makeDoc(1), occupancySource: 'live' }).occupancySource).toBe('poll');
    expect(decisionReportJobSchema.parse(makeDoc(2, { occupancySource: 'notification' })).occupancySource).toBe('notification');
    expect(decisionReportJobSchema.safeParse({ ...makeDoc(3), occupancySource: 'guess' }).success).toBe(false);
  });

  it('is strict and is exactly DECISION_FIELDS; ids, DTMF, routes, sources and states are keywords', () => {
    expect(DECISION_MAPPINGS.dynamic).toBe('strict');
    expect(DECISION_MAPPINGS.properties).toBe(DECISION_FIELDS);
    for (const f of ['decisionId', 'idempotencyKey', 'flowInstanceId', 'conversationId', 'participantId', 'queueId', 'dtmf', 'routing_decision', 'occupancySource', 'state', 'writeStatus', 'mediaType'] as const) {
      expect(DECISION_FIELDS[f].type, f).toBe('keyword');
    }
    expect(DECISION_FIELDS.timestamp.type).toBe('date');
    for (const f of ['queue_occupancy', 'threshold', 'latencyMs', 'sequence'] as const) expect(DECISION_FIELDS[f].type, f).toBe('integer');
  });
});
