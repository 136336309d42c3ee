import { z } from 'zod';
import { decisionDocSchema, writeOutcomeSchema } from '@ivr/core';


/** `ivr-events`: one per accepted webhook; jobId derives from the idempotency key. */
export const ivrEventJobSchema = z.object({
  /** The key as the sender knows it (answers, logs, records); with keySpace it identifies the event (scopedKey). */
  idempotencyKey: z.string(),
  /** `body` when the receiver derived the key from the body's hash; absent or `client` for a sender's key. */
  keySpace: z.enum(['client', 'body']).optional(),
  receivedAt: z.number(),
  /** The request headers that matter for an operator (keptHeaders: content type, keys, user agent, correlation ids). */
  headers: z.record(z.string(), z.string()).optional(),
  conversationId: z.string(),
  /** Absent when the webhook named none: apply resolves the conversation's customer participant. */
  participantId: z.string().optional(),
  flowInstanceId: z.string(),
  dtmf: z.string(),
  source: z.enum(['tutorial', 'data-action']),
  queueId: z.string().optional(),
  /** Epoch ms until which a `Prefer: wait` request holds its answer open for this decision (WRITE_BACK=unanswered). */
  answerBy: z.number().optional(),
});
export type IvrEventJob = z.infer<typeof ivrEventJobSchema>;

/** `genesys-writes`: hand one decision back to the call as participant attributes. */
export const genesysWriteJobSchema = z.object({
  decisionId: z.string(),
  idempotencyKey: z.string(),
  conversationId: z.string(),
  /** Absent: resolved from GET /api/v2/conversations/{conversationId} (purpose `customer`) before writing. */
  participantId: z.string().optional(),
  sequence: z.number().int(),
  attributes: z.record(z.string(), z.string()),
});
export type GenesysWriteJob = z.infer<typeof genesysWriteJobSchema>;

/** `decision-reports`: one decision record for the store, with its write's outcome when already known. */
export const decisionReportJobSchema = decisionDocSchema;
export type DecisionReportJob = z.infer<typeof decisionReportJobSchema>;

/** Job name of the third kind of `decision-reports` job: the reports of several decisions, stored as one. */
export const REPORT_BATCH_JOB = 'report-batch';
/** The name of an event's job on `ivr-events` (one per idempotency key: ingestEvent, or a held event's move). */
export const EVENT_JOB = 'dtmf';

/**
 * `decision-reports`, kind `report-batch`: the reports of the decisions a receiver made in-call within a few
 * milliseconds (one job instead of one per decision; report-sender.ts in @ivr/pipeline). Stored as the single
 * reports are (idempotent per decisionId), so a decision reported both here and by its own job is stored once.
 */
export const reportBatchJobSchema = z.object({ reports: z.array(decisionReportJobSchema).min(1) });
export type ReportBatchJob = z.infer<typeof reportBatchJobSchema>;
/**
 * The reports a report-batch job's data carries, as they are (not validated: for the console's look-ups and links),
 * or undefined for any other job's data.
 */
export function batchReportsOf(data: unknown): Array<{ decisionId?: unknown; idempotencyKey?: unknown }> | undefined {
  return itemsOf(data, 'reports');
}
/** A batch job's list of items (field `reports` or `outcomes`), as it is, or undefined when the data has none. */
function itemsOf<T>(data: unknown, field: 'reports' | 'outcomes'): T[] | undefined {
  const items = (data as Record<string, unknown> | null)?.[field];
  return Array.isArray(items) ? (items as T[]) : undefined;
}
/** A report-batch job's envelope alone: the report processor checks each report on its own (one bad one fails only itself). */
export const reportBatchEnvelopeSchema = z.object({ reports: z.array(z.unknown()).min(1) });

/** Job name of the second kind of `decision-reports` job: a write outcome to record on the stored decision. */
export const WRITE_OUTCOME_JOB = 'write-outcome';

/** `decision-reports`, kind `write-outcome`: the outcome of one decision's Genesys write (defined in @ivr/core, with the record). */
export const writeOutcomeJobSchema = writeOutcomeSchema;

/** Job name of the fourth kind of `decision-reports` job: the write outcomes of several decisions, recorded as one. */
export const WRITE_OUTCOME_BATCH_JOB = 'write-outcome-batch';
/**
 * `decision-reports`, kind `write-outcome-batch`: the outcomes an apply worker's writes reached within a few
 * milliseconds (one job instead of one per write; createOutcomeSender in @ivr/pipeline). Recorded as the single
 * outcomes are (by decision id: recording one twice changes nothing).
 */
export const writeOutcomeBatchJobSchema = z.object({ outcomes: z.array(writeOutcomeJobSchema).min(1) });
export type WriteOutcomeBatchJob = z.infer<typeof writeOutcomeBatchJobSchema>;
/** The outcomes a write-outcome-batch job's data carries, as they are (not validated: for the console's links), or undefined. */
export function batchOutcomesOf(data: unknown): Array<{ decisionId?: unknown }> | undefined {
  return itemsOf(data, 'outcomes');
}
/** A write-outcome-batch job's envelope alone: the report processor checks each outcome on its own. */
export const writeOutcomeBatchEnvelopeSchema = z.object({ outcomes: z.array(z.unknown()).min(1) });
export type { WriteOutcome, WriteStatus } from '@ivr/core';
