import type { DecisionRecord } from '@ivr/core';

/** The message published on `{prefix}:ivr:decided:{idempotencyKey}` and returned to `Prefer: wait` callers. */
export function decisionAnswer(d: DecisionRecord) {
  return {
    status: 'decided' as const,
    routing: d.routing_decision,
    // The data action's contract types availableAgents as an integer: unknown (fail-open) is answered as 0, as before.
    availableAgents: d.queue_occupancy ?? 0,
    queueId: d.queueId,
    decisionId: d.decisionId,
    occupancySource: d.occupancySource,
    ...(d.reason ? { reason: d.reason } : {}),
  };
}
