import { z } from 'zod';

/** The two routes a decision can take: the one list, also the zod enum every schema uses. */
export const ROUTES = ['route_to_queue', 'route_to_vm'] as const;
export type Route = (typeof ROUTES)[number];
export const routeSchema = z.enum(ROUTES);

/**
 * Where a decision's occupancy came from (issue 19): `notification` pushed by the channel holder, `poll` an
 * observations query this process made now, `cache` a peer's query or push shared through Redis, `fail_open` none.
 */
export const OCCUPANCY_SOURCES = ['notification', 'poll', 'cache', 'fail_open'] as const;
export type OccupancySource = (typeof OCCUPANCY_SOURCES)[number];

/** The name records written before `poll` was named used for a polled reading; read as `poll`. */
export const LEGACY_POLL_SOURCE = 'live';

/** A stored decision as this version reads it: a legacy `live` source is `poll`; anything else as stored. */
export function readStoredDecision<T extends { occupancySource: string }>(stored: T): T {
  return stored.occupancySource === LEGACY_POLL_SOURCE ? { ...stored, occupancySource: 'poll' } : stored;
}

/** A caller's key press, normalised from either accepted payload shape. */
export interface DtmfEvent {
  conversationId: string;
  /** The participant who pressed, when the payload names one; absent: the apply worker resolves the customer. */
  participantId?: string;
  dtmf: string;
  /** The tutorial payload's id; equals conversationId for that shape. */
  flowInstanceId: string;
  source: 'tutorial' | 'data-action';
  /** Optional explicit queue from the caller's flow; the routing policy decides otherwise. */
  queueId?: string;
}

/**
 * One routing decision, as recorded in the decision store (the tutorial's fields plus ours): THE definition. The
 * `decision-reports` job schema is this schema, and `DecisionRecord` is inferred from it.
 */
export const decisionRecordSchema = z.object({
  decisionId: z.string(),
  idempotencyKey: z.string(),
  /** ISO time the decision was made. */
  timestamp: z.string(),
  flowInstanceId: z.string(),
  conversationId: z.string(),
  /** As the webhook named it; absent when the write resolves the conversation's customer participant. */
  participantId: z.string().optional(),
  dtmf: z.string(),
  queueId: z.string(),
  threshold: z.number(),
  /** Available agents seen; null when Genesys could not answer (occupancySource 'fail_open'): unknown, not 0. */
  queue_occupancy: z.number().nullable(),
  routing_decision: routeSchema,
  state: z.enum(['ROUTING', 'COMPLETE']),
  sequence: z.number().int(),
  /** Webhook received -> decision made. */
  latencyMs: z.number(),
  // A record or job written by the previous version may say `live` (a polled reading): read as `poll`.
  occupancySource: z.preprocess((v) => (v === LEGACY_POLL_SOURCE ? 'poll' : v), z.enum(OCCUPANCY_SOURCES)),
  /** Genesys' estimated wait (s) the decision used: only when the target has `maxEstimatedWaitS` and a figure came. */
  estimatedWaitS: z.number().optional(),
  reason: z.string().optional(),
});
export type DecisionRecord = z.infer<typeof decisionRecordSchema>;
