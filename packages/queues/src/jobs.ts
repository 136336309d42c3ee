import { z } from 'zod';

const route = z.enum(['route_to_queue', 'route_to_vm']);

/** `ivr-events`: one per accepted webhook; jobId derives from the idempotency key. */
export const ivrEventJobSchema = z.object({
  /** The key as the sender knows it (answers, logs, records); with keySpace it identifies the event (scopedKey). */
  idempotencyKey: z.string(),
  /** `body` when the receiver derived the key from the body's hash; absent or `client` for a sender's key. */
  keySpace: z.enum(['client', 'body']).optional(),
  receivedAt: z.number(),
  conversationId: z.string(),
  participantId: z.string(),
  flowInstanceId: z.string(),
  dtmf: z.string(),
  source: z.enum(['tutorial', 'data-action']),
  queueId: z.string().optional(),
});
export type IvrEventJob = z.infer<typeof ivrEventJobSchema>;

/** `genesys-writes`: hand one decision back to the call as participant attributes. */
export const genesysWriteJobSchema = z.object({
  decisionId: z.string(),
  idempotencyKey: z.string(),
  conversationId: z.string(),
  participantId: z.string(),
  sequence: z.number().int(),
  attributes: z.record(z.string(), z.string()),
});
export type GenesysWriteJob = z.infer<typeof genesysWriteJobSchema>;

/** `decision-reports`: one decision record for the store. */
export const decisionReportJobSchema = z.object({
  decisionId: z.string(),
  idempotencyKey: z.string(),
  timestamp: z.string(),
  flowInstanceId: z.string(),
  conversationId: z.string(),
  participantId: z.string(),
  dtmf: z.string(),
  queueId: z.string(),
  threshold: z.number(),
  queue_occupancy: z.number(),
  routing_decision: route,
  state: z.enum(['ROUTING', 'COMPLETE']),
  sequence: z.number().int(),
  latencyMs: z.number(),
  occupancySource: z.enum(['live', 'cache', 'fail_open']),
  reason: z.string().optional(),
});
export type DecisionReportJob = z.infer<typeof decisionReportJobSchema>;
