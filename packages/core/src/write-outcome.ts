import { z } from 'zod';
import { decisionRecordSchema } from './types';

/** What became of a decision's Genesys write (field names as stored: writeStatus, writeReason, writtenAt). */
export const WRITE_STATUSES = ['written', 'failed', 'skipped', 'expired'] as const;
export type WriteStatus = (typeof WRITE_STATUSES)[number];

/**
 * The outcome of one decision's Genesys write, as recorded on the stored decision (the decision store's
 * `recordWriteOutcomes`) and carried by the `write-outcome` report job (@ivr/queue-contract's writeOutcomeJobSchema).
 */
export const writeOutcomeSchema = z.object({
  decisionId: z.string(),
  writeStatus: z.enum(WRITE_STATUSES),
  /** Why it failed, was skipped or expired: one line a user can act on. */
  writeReason: z.string().optional(),
  /** ISO time the write landed (written only). */
  writtenAt: z.string().optional(),
});
export type WriteOutcome = z.infer<typeof writeOutcomeSchema>;

/**
 * A decision as the store holds it, and as a report job carries it: the record, with its write's outcome when that
 * was known as the report was sent (a write the receiver settled in-call), else added later by the `write-outcome`
 * job. The `decision-reports` job schema (@ivr/queue-contract) and the store's document type (@ivr/reporting).
 */
export const decisionDocSchema = decisionRecordSchema.extend(writeOutcomeSchema.omit({ decisionId: true }).partial().shape);
export type DecisionDoc = z.infer<typeof decisionDocSchema>;
