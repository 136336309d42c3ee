import type { DecisionDoc } from './store';

const BASE = Date.UTC(2024, 2, 1); // 2024-03-01T00:00:00Z

/** A valid decision document; override what the test cares about. */
export function makeDoc(i: number, over: Partial<DecisionDoc> = {}): DecisionDoc {
  return {
    decisionId: `d-${i}`,
    idempotencyKey: `k-${i}`,
    timestamp: new Date(BASE + i * 60_000).toISOString(),
    flowInstanceId: `flow-${i}`,
    conversationId: `conv-${i}`,
    participantId: `part-${i}`,
    dtmf: '1',
    queueId: 'queue-1',
    threshold: 5,
    queue_occupancy: 3,
    routing_decision: 'route_to_queue',
    state: 'ROUTING',
    sequence: 1,
    latencyMs: 12,
    occupancySource: 'poll',
    ...over,
  };
}

/**
 * The known set: 37 docs over DTMF 1-4, both routes, several hours, 0..12 available agents.
 * Doc i: dtmf (i % 4) + 1, vm when i % 3 === 0, hour (i * 5) % 24, minute i, agents i % 13, on 2024-03-0{1 + i % 3}.
 */
export function knownSet(): DecisionDoc[] {
  return Array.from({ length: 37 }, (_, i) => {
    const day = i % 3;
    const ts = Date.UTC(2024, 2, 1 + day, (i * 5) % 24, i, 0);
    return makeDoc(i, {
      dtmf: String((i % 4) + 1),
      routing_decision: i % 3 === 0 ? 'route_to_vm' : 'route_to_queue',
      timestamp: new Date(ts).toISOString(),
      queue_occupancy: i % 13,
    });
  });
}
