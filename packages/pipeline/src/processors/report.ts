import { UnrecoverableError, type Job } from 'bullmq';
import { decisionReportJobSchema, REPORT_BATCH_JOB, reportBatchEnvelopeSchema, WRITE_OUTCOME_BATCH_JOB, WRITE_OUTCOME_JOB, writeOutcomeBatchEnvelopeSchema, writeOutcomeJobSchema, type DecisionReportJob, type WriteOutcome } from '@ivr/queue-contract';
import type { Logger } from './logger';

type FailedItems = Array<{ decisionId: string; reason: string; retryable: boolean }>;

/** The part of the decision store (@ivr/reporting's DecisionStore) the reporter writes through. */
export interface BatchWriter {
  writeBatch(docs: readonly DecisionReportJob[]): Promise<{
    written: number;
    duplicates: number;
    failed: FailedItems;
  }>;
  /** Record write outcomes on stored decisions; a decision not stored yet is a retryable failure. */
  recordWriteOutcomes(outcomes: readonly WriteOutcome[]): Promise<{ updated: number; failed: FailedItems }>;
}

export interface BatchStats {
  batches: number;
  docs: number;
  written: number;
  duplicates: number;
  failed: number;
  lastBatchSize: number;
}

export interface ReportBatcher {
  /** Resolves once the document is stored (or was already); rejects with the store's reason otherwise. */
  add(doc: DecisionReportJob): Promise<'written' | 'duplicate'>;
  /** Resolves once the outcome is recorded on its decision; rejects (retryable) when the decision is not stored yet. */
  addOutcome(outcome: WriteOutcome): Promise<'recorded'>;
  /** Write whatever is waiting now (used at shutdown). */
  flush(): Promise<void>;
  stats(): BatchStats;
}

export interface BatcherOptions {
  store: BatchWriter;
  /** Flush when this many documents wait (REPORT_BATCH_SIZE). */
  batchSize: number;
  /** ...or when the oldest has waited this long (REPORT_LINGER_MS). */
  lingerMs: number;
  /** Called after every batch that stored something (e.g. to regenerate the heatmap). */
  onBatch?: (info: { size: number; written: number }) => void;
  logger: Logger;
}

interface Pending {
  doc: DecisionReportJob;
  resolve: (v: 'written' | 'duplicate') => void;
  reject: (e: Error) => void;
}

interface PendingOutcome {
  outcome: WriteOutcome;
  resolve: (v: 'recorded') => void;
  reject: (e: Error) => void;
  /** Batches this outcome already missed its decision in. */
  misses: number;
}

/**
 * An outcome whose decision is not stored yet (its report job may sit in this or another process's batch) waits
 * for this many more batches before its job fails the attempt and BullMQ retries it later.
 */
const OUTCOME_MISSES_BEFORE_RETRY = 3;

/**
 * Collects documents from concurrently running report jobs into one `_bulk` (or one Redis round trip)
 * per batch. Every job waits for its own document's outcome, so a job completes only once its document
 * is stored, and a document the store refused fails (and is retried by) its own job.
 */
export function createReportBatcher(opts: BatcherOptions): ReportBatcher {
  let pending: Pending[] = [];
  let pendingOutcomes: PendingOutcome[] = [];
  let timer: NodeJS.Timeout | undefined;
  const stats: BatchStats = { batches: 0, docs: 0, written: 0, duplicates: 0, failed: 0, lastBatchSize: 0 };

  async function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    // Documents first: an outcome for a decision in the same batch then finds it stored.
    await flushDocs();
    await flushOutcomes();
  }

  function requeue(p: PendingOutcome): void {
    pendingOutcomes.push(p);
    if (pendingOutcomes.length >= opts.batchSize) void flush();
    else if (!timer) timer = setTimeout(() => void flush(), opts.lingerMs);
  }

  async function flushOutcomes(): Promise<void> {
    if (!pendingOutcomes.length) return;
    const batch = pendingOutcomes;
    pendingOutcomes = [];
    try {
      const res = await opts.store.recordWriteOutcomes(batch.map((p) => p.outcome));
      const failed = new Map(res.failed.map((f) => [f.decisionId, f]));
      for (const p of batch) {
        const f = failed.get(p.outcome.decisionId);
        if (!f) p.resolve('recorded');
        else if (f.retryable && ++p.misses < OUTCOME_MISSES_BEFORE_RETRY) requeue(p);
        else if (f.retryable) p.reject(new Error(`write outcome for ${p.outcome.decisionId} not recorded (will retry): ${f.reason}`));
        else p.reject(new UnrecoverableError(`write outcome for ${p.outcome.decisionId} rejected: ${f.reason}`));
      }
      opts.logger.debug({ size: batch.length, updated: res.updated, failed: res.failed.length }, 'write outcomes recorded');
    } catch (err) {
      const e = new Error(`decision store unavailable (will retry): ${(err as Error).message}`);
      opts.logger.warn({ size: batch.length, err: (err as Error).message }, 'write outcomes batch failed');
      for (const p of batch) p.reject(e);
    }
  }

  async function flushDocs(): Promise<void> {
    if (!pending.length) return;
    const batch = pending;
    pending = [];
    // One document per decisionId per batch; duplicates in the same batch share the outcome.
    const byId = new Map<string, Pending[]>();
    for (const p of batch) byId.set(p.doc.decisionId, [...(byId.get(p.doc.decisionId) ?? []), p]);
    const docs = [...byId.values()].map((ps) => ps[0]!.doc);
    stats.batches++;
    stats.docs += docs.length;
    stats.lastBatchSize = docs.length;
    try {
      const res = await opts.store.writeBatch(docs);
      const failed = new Map(res.failed.map((f) => [f.decisionId, f]));
      stats.written += res.written;
      stats.duplicates += res.duplicates;
      stats.failed += res.failed.length;
      for (const [id, ps] of byId) {
        const f = failed.get(id);
        for (const p of ps) {
          if (!f) p.resolve('written');
          else if (f.retryable) p.reject(new Error(`decision store refused ${id} (will retry): ${f.reason}`));
          else p.reject(new UnrecoverableError(`decision store rejected ${id}: ${f.reason}`));
        }
      }
      opts.logger.debug({ size: docs.length, written: res.written, duplicates: res.duplicates, failed: res.failed.length }, 'report batch stored');
      if (res.written > 0) opts.onBatch?.({ size: docs.length, written: res.written });
    } catch (err) {
      const e = new Error(`decision store unavailable (will retry): ${(err as Error).message}`);
      opts.logger.warn({ size: docs.length, err: (err as Error).message }, 'report batch failed');
      for (const p of batch) p.reject(e);
    }
  }

  return {
    add(doc) {
      return new Promise((resolve, reject) => {
        pending.push({ doc, resolve, reject });
        if (pending.length >= opts.batchSize) void flush();
        else if (!timer) timer = setTimeout(() => void flush(), opts.lingerMs);
      });
    },
    addOutcome(outcome) {
      return new Promise((resolve, reject) => requeue({ outcome, resolve, reject, misses: 0 }));
    },
    flush,
    stats: () => ({ ...stats }),
  };
}

export interface ReportDeps {
  batcher: ReportBatcher;
  logger: Logger;
}

/** What a report job did: one document or outcome, or the documents (kind `report-batch`) or outcomes (kind `write-outcome-batch`) of a batch. */
export type ReportResult =
  | { status: 'written' | 'duplicate' | 'recorded'; decisionId: string }
  | { status: 'batch'; decisions: number }
  | { status: 'outcomes'; outcomes: number };

/**
 * report: store one decision document (batched with its neighbours; idempotent per decisionId), or, for a job of
 * kind `write-outcome`, record the write's outcome on the stored decision (retried until the decision is stored),
 * or, for a job of kind `report-batch` / `write-outcome-batch`, each of its documents / outcomes (processBatch).
 */
export async function processReport(job: Pick<Job, 'id' | 'data'> & Partial<Pick<Job, 'name'>>, deps: ReportDeps): Promise<ReportResult> {
  if (job.name === WRITE_OUTCOME_JOB) {
    const outcome = writeOutcomeJobSchema.parse(job.data);
    return { status: await deps.batcher.addOutcome(outcome), decisionId: outcome.decisionId };
  }
  if (job.name === REPORT_BATCH_JOB) {
    const { reports } = envelopeOf(job, reportBatchEnvelopeSchema, 'no reports');
    await processBatch(job, deps, reports, { schema: decisionReportJobSchema, run: (doc) => deps.batcher.add(doc), item: 'report', what: 'decisions of the batch not stored' });
    return { status: 'batch', decisions: reports.length };
  }
  if (job.name === WRITE_OUTCOME_BATCH_JOB) {
    const { outcomes } = envelopeOf(job, writeOutcomeBatchEnvelopeSchema, 'no outcomes');
    await processBatch(job, deps, outcomes, { schema: writeOutcomeJobSchema, run: (o) => deps.batcher.addOutcome(o), item: 'write outcome', what: 'write outcomes of the batch not recorded' });
    return { status: 'outcomes', outcomes: outcomes.length };
  }
  const doc = decisionReportJobSchema.parse(job.data);
  const status = await deps.batcher.add(doc);
  return { status, decisionId: doc.decisionId };
}

/** How a batch job's items are checked (a zod schema's safeParse). */
interface ItemSchema<T> {
  safeParse(item: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

/** A batch job's envelope (its list of items), or a final failure naming what is missing. */
function envelopeOf<T>(job: Pick<Job, 'data'> & Partial<Pick<Job, 'name'>>, schema: ItemSchema<T>, missing: string): T {
  const envelope = schema.safeParse(job.data);
  if (!envelope.success) throw new UnrecoverableError(`${job.name} job malformed: ${envelope.error.issues[0]?.message ?? missing}`);
  return envelope.data;
}

/**
 * A batch job (`report-batch`, `write-outcome-batch`): every valid item goes to the batcher (so they share a store
 * batch with the single jobs' items); it completes once all are stored. Any retryable refusal fails the attempt
 * (BullMQ retries the job; the items already stored are stored again, which changes nothing); when every refusal is
 * final (the store rejected an item, or it is not valid), the job fails for good naming the first, the others stored.
 */
async function processBatch<T>(
  job: Pick<Job, 'id'>,
  deps: ReportDeps,
  items: readonly unknown[],
  how: { schema: ItemSchema<T>; run: (item: T) => Promise<unknown>; item: string; what: string },
): Promise<void> {
  const settled = await Promise.allSettled(
    items.map((raw) => {
      const item = how.schema.safeParse(raw);
      if (item.success) return how.run(item.data);
      const issue = item.error.issues[0];
      return Promise.reject(new UnrecoverableError(`not a valid ${how.item} (${issue?.path.join('.') || 'document'}: ${issue?.message ?? 'invalid'})`));
    }),
  );
  const idOf = (item: unknown, i: number) => {
    const id = (item as { decisionId?: unknown } | null)?.decisionId;
    return typeof id === 'string' ? id : `#${i + 1}`;
  };
  const refused = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ decisionId: idOf(items[i], i), err: s.reason as Error }] : []));
  if (!refused.length) return;
  const retryable = refused.filter((r) => !(r.err instanceof UnrecoverableError));
  const first = (retryable[0] ?? refused[0])!;
  const msg = `${refused.length} of ${items.length} ${how.what} (first ${first.decisionId}): ${first.err.message}`;
  deps.logger.warn({ jobId: job.id, refused: refused.length, items: items.length, retryable: retryable.length }, 'batch job not fully stored');
  throw retryable.length ? new Error(msg) : new UnrecoverableError(msg);
}

/** Run `fn` at most once per `intervalMs`, with a trailing call so the last change is never missed. */
export function throttle(fn: () => Promise<unknown>, intervalMs: number, onError: (e: Error) => void): { (): void; flush(): Promise<void> } {
  let last = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const run = () => {
    timer = undefined;
    last = Date.now();
    running = fn().catch(onError).finally(() => (running = undefined));
  };
  const t = () => {
    if (timer) return;
    const wait = Math.max(0, last + intervalMs - Date.now());
    timer = setTimeout(run, wait);
  };
  t.flush = async () => {
    if (timer) {
      clearTimeout(timer);
      run();
    }
    await running;
  };
  return t;
}
