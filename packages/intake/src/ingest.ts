import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobIdForKey, scopedKey } from '@ivr/core';
import { CLAIM_OUTCOMES, type HoldCall, type IdempotencyStore, type WhenNewCall, type WhenNewScript } from './idempotency-store';
import { bullmqAddScript, captureAdd, EVENT_JOB, queueClientOf, type IvrEventJob } from '@ivr/queue-contract';

/**
 * What a failed ingest means for the event, so the receiver can say it truthfully:
 * - `not_stored`: Redis certainly did not store it: the command was never sent (connection down; the producer
 *   connection has no offline queue, ioredis says "Stream isn't writeable"), or Redis answered with an error
 *   (an error raised before the claim writes leaves nothing; one raised by BullMQ's add is caught by the script,
 *   whose finish step then undoes the claim: no claim without its job);
 * - `unknown`: the transaction may have been applied but its answer did not arrive (timeout, frozen Redis,
 *   connection lost after sending). Retrying with the same key is safe: a stored event answers 200 duplicate.
 * Anything not known to be `not_stored` is `unknown`.
 */
export function ingestFailure(err: unknown): 'not_stored' | 'unknown' {
  const e = err as { name?: string; message?: string } | undefined;
  const msg = String(e?.message ?? '');
  if (e?.name === 'ReplyError' || e?.name === 'IngestRefused') return 'not_stored';
  if (/Stream isn't writeable|enableOfflineQueue/.test(msg)) return 'not_stored';
  return 'unknown';
}

class IngestRefused extends Error {
  override name = 'IngestRefused';
}

export type IngestOutcome =
  /** `whenNew`: the reply of the IngestDeps.whenNew script, when IngestOptions.whenNew asked for it. */
  | { kind: 'accepted'; jobId: string; whenNew?: unknown }
  | { kind: 'duplicate'; jobId: string }
  | { kind: 'conflict'; jobId: string };

export interface IngestDeps {
  idempotency: IdempotencyStore;
  events: Queue;
  /**
   * A connection of its own for the ingest (recommended for the receiver). ioredis copies every script defined
   * on a connection onto each pipeline it opens: on the queue's connection that is BullMQ's 64 scripts per batch
   * (the bench profile's top ioredis cost once). This one gets only the ingest scripts (two; four with whenNew).
   * Without it the ingest pipeline is opened on the queue's connection.
   */
  tx?: Redis;
  /**
   * A script to run inside the ingest's transaction when the event is new and its job stored, for the ingests
   * that ask for it (IngestOptions.whenNew): the in-call path starts its decision there. Prepared with the
   * ingest scripts, on first use.
   */
  whenNew?: WhenNewScript;
}

export interface IngestOptions {
  /**
   * Hold the event for this many ms instead of adding its job (held.ts: the keyspace's held set and hash, no BullMQ
   * job): an event the receiver decides itself while the caller waits (`Prefer: wait`, the in-call path). A receiver
   * that decides it releases it (releaseHeld); one that cannot adds its job at once (moveHeld); one that crashed
   * leaves it to a worker's sweep (sweepHeld) when the time is up.
   */
  delayMs?: number;
  /** Run IngestDeps.whenNew with these keys and arguments (its reply comes back in the accepted outcome). */
  whenNew?: Omit<WhenNewCall, 'script'>;
}

type Tx = ReturnType<Redis['pipeline']>;

interface Pending {
  deps: IngestDeps;
  key: string;
  jobKey: string;
  fingerprint: string;
  /** BullMQ's add of the job, or (delayMs) the event held instead. */
  add: { name: string; args: unknown[] } | HoldCall;
  whenNew: WhenNewCall | undefined;
  resolve: (r: unknown[]) => void;
  reject: (e: Error) => void;
}

/** Per connection: the WhenNewScript names its ingest scripts were prepared with ('' for the plain ones). */
const prepared = new WeakMap<object, Set<string>>();
const batches = new WeakMap<object, Pending[]>();

/** The connection the ingest goes out on, with the ingest scripts: `ingestScript` around BullMQ's add script, and `holdScript`. */
async function connectionFor(deps: IngestDeps): Promise<Redis> {
  const queueClient = await queueClientOf(deps.events);
  const conn = deps.tx ?? queueClient;
  const done = prepared.get(conn) ?? new Set<string>();
  const wanted = deps.whenNew?.name ?? '';
  if (!done.has(wanted)) {
    // BullMQ's add script (addStandardJob); an event held for an in-call decision has no job (holdScript).
    deps.idempotency.prepare(conn, [bullmqAddScript(queueClient)], deps.whenNew ? [deps.whenNew] : []);
    done.add('').add(wanted);
    prepared.set(conn, done);
  }
  return conn;
}

/**
 * Every ingest that starts in one turn of the event loop goes out in one write: a pipeline of one ingest script
 * call per event (each event's three steps run atomically in its script; the events only share the syscall).
 */
function flush(conn: Redis, batch: Pending[]): void {
  batches.delete(conn);
  const p = conn.pipeline() as Tx;
  try {
    for (const it of batch) {
      if ('dueAt' in it.add) it.deps.idempotency.holdInto(p, it.add, it.key, it.fingerprint, it.whenNew);
      else it.deps.idempotency.ingestInto(p, it.add, it.key, it.jobKey, it.fingerprint, it.whenNew);
    }
  } catch (err) {
    // Nothing was sent: every waiter hears why rather than waiting for ever.
    for (const it of batch) it.reject(err as Error);
    return;
  }
  p.exec().then(
    (results) => {
      batch.forEach((it, i) => {
        const [err, replies] = results?.[i] ?? [new Error('no reply for the ingest script')];
        if (err) it.reject(err);
        else if (!Array.isArray(replies)) it.reject(new Error(`the ingest script replied ${String(replies)}`));
        else it.resolve(replies);
      });
    },
    (err: Error) => batch.forEach((it) => it.reject(err)),
  );
}

function send(conn: Redis, item: Omit<Pending, 'resolve' | 'reject'>): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    let batch = batches.get(conn);
    if (!batch) {
      const b: Pending[] = [];
      batches.set(conn, b);
      batch = b;
      setImmediate(() => flush(conn, b));
    }
    batch.push({ ...item, resolve, reject });
  });
}

/**
 * Store one webhook event exactly once per idempotency key, in ONE round trip: one script (`ingestScript`) that runs
 * 1. claim the key (new | pending claim of this body | stored | same key with another body),
 * 2. BullMQ's own add of the job (jobId derived from the scoped key by jobIdForKey, never the client's string;
 *    the arguments built by BullMQ's Job.addJob),
 * 3. finish: confirm the claim when the job is in Redis, or undo it when the add failed.
 * The script is atomic, so no other client ever sees a claim without its job. A duplicate or a conflict
 * never adds a job: the add is a no-op when the job exists, and when it was already completed and removed
 * the claim step puts a placeholder under the job key for the add to see (finish deletes it). A claim left
 * pending (a crash of the older claim-then-add protocol, or a claim made alone) is repaired by the next
 * delivery of the same body: the add goes through. Concurrent events share one write (see flush).
 * With `opts.delayMs` (an event held for an in-call decision) step 2 holds the event instead of adding its job
 * (`holdScript`: the same claim, the job data and deadline in the keyspace's held hash and set, the record confirmed;
 * @ivr/queue-contract held.ts says who adds the job later, if anyone).
 * The caller may answer 2xx once this resolves.
 */
export async function ingestEvent(deps: IngestDeps, job: IvrEventJob, fingerprint: string, opts: IngestOptions = {}): Promise<IngestOutcome> {
  if (opts.whenNew && !deps.whenNew) throw new Error('ingestEvent: IngestOptions.whenNew needs IngestDeps.whenNew');
  const space = job.keySpace ?? 'client';
  const jobId = jobIdForKey(job.idempotencyKey, space);
  const queue = deps.events;
  const conn = await connectionFor(deps);
  const delay = opts.delayMs !== undefined && opts.delayMs > 0 ? Math.ceil(opts.delayMs) : undefined;
  const add = delay ? { jobId, dueAt: Date.now() + delay, data: JSON.stringify(job) } : await captureAdd(new Job(queue, EVENT_JOB, job, { ...queue.defaultJobOptions, jobId }, jobId));
  const whenNew = opts.whenNew && deps.whenNew ? { script: deps.whenNew, ...opts.whenNew } : undefined;
  const replies = await send(conn, { deps, key: scopedKey(job.idempotencyKey, space), jobKey: queue.keys[''] + jobId, fingerprint, add, whenNew });
  const [claim, added, , after] = replies;
  if (claim instanceof Error) throw claim;
  if (added instanceof Error) throw added;
  if (typeof added === 'number' && added < 0) throw new IngestRefused(`BullMQ refused the job ${jobId} (code ${added})`);
  const outcome = CLAIM_OUTCOMES[claim as number];
  if (!outcome) throw new IngestRefused(`idempotency claim returned ${String(claim)}`);
  if (outcome.kind === 'conflict') return { kind: 'conflict', jobId };
  if (outcome.kind !== 'new') return { kind: 'duplicate', jobId };
  return whenNew && after !== null && after !== undefined ? { kind: 'accepted', jobId, whenNew: after } : { kind: 'accepted', jobId };
}
