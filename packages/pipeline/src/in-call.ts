import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { resolveTarget, scopedKey, VALID_TRANSITIONS, type DecisionRecord, type RoutingPolicy } from '@ivr/core';
import { heldReleaser, moveHeld, type IvrEventJob, type Keyspace } from '@ivr/queue-contract';
import type { EstimatedWaitCache } from './estimated-wait-cache';
import { readCachedEstimatedWait } from './estimated-wait-cache';
import { parseCachedOccupancy, readCachedOccupancy, type OccupancyCache } from './occupancy-cache';
import { parseStartReply, startCall, startScript, type TransitionTable } from './conversation-store';
import { decideEvent, enqueueReport, enqueueWrite, publishDecision, type DecideDeps, type DecideOutcome, type DecideResult, type StartedDecision } from './processors/decide';
import { defineSettleScript, settleAnsweredWrite, type ApplyResult, type SettleDeps } from './processors/apply';

/** A figure the decision needs is not in the shared cache: the in-call path leaves the event to a worker. */
class NotCached extends Error {
  override name = 'NotCached';
}

/** The occupancy cache, read only: a reading the cache holds, else NotCached (never a Genesys call or a lock). */
export function cachedOnlyOccupancy(redis: Redis, ks: Keyspace): OccupancyCache {
  let cacheHits = 0;
  return {
    async get(queueId) {
      const r = await readCachedOccupancy(redis, ks, queueId);
      if (!r) throw new NotCached('queue observations not cached');
      cacheHits++;
      return r;
    },
    stats: () => ({ analyticsCalls: 0, cacheHits, waitedForPeer: 0, failOpen: 0 }),
  };
}

/** The estimated-wait cache, read only (as cachedOnlyOccupancy). */
export function cachedOnlyEstimatedWait(redis: Redis, ks: Keyspace): EstimatedWaitCache {
  return {
    async get(queueId) {
      const r = await readCachedEstimatedWait(redis, ks, queueId);
      if (!r) throw new NotCached('estimated wait not cached');
      return r;
    },
  };
}

/**
 * The start of an in-call decision as a script the ingest runs in its own transaction when the event is new and its
 * job stored (IngestDeps.whenNew in @ivr/intake): START (the conversation store's script, the same text) and the
 * GET of the target queue's cached occupancy, the two reads decideEvent begins with. That takes one sequential
 * round trip off the caller's wait. KEYS = [conversation, decision, occupancy]; ARGV = START's; the reply is
 * {START's reply, the cache entry or false}.
 */
export function inCallStartScript(transitions: TransitionTable = VALID_TRANSITIONS): { name: string; numberOfKeys: number; lua: string } {
  const start = startScript(transitions);
  return {
    name: `ivrInCallStart_${start.name}`,
    numberOfKeys: 3,
    lua: `local function ivrStart(KEYS, ARGV)
${start.lua}
end
return {ivrStart({KEYS[1], KEYS[2]}, ARGV), redis.call('GET', KEYS[3]) or false}`,
  };
}

/** inCallStartScript's keys and arguments for an event (the same START call decideEvent would make). */
export function inCallStartCall(deps: { ks: Keyspace; ttlSeconds: number; policy: RoutingPolicy }, event: IvrEventJob): { keys: string[]; args: Array<string | number> } {
  const key = scopedKey(event.idempotencyKey, event.keySpace);
  const start = startCall(deps.ks, deps.ttlSeconds, event.conversationId, key, event.receivedAt);
  return { keys: [...start.keys, deps.ks.occupancy(resolveTarget(deps.policy, event.dtmf, event.queueId).queueId)], args: start.args };
}

/** inCallStartScript's reply as decideEvent's head start; undefined for no reply (the script did not run). */
export function parseInCallStart(reply: unknown): StartedDecision | undefined {
  if (reply === undefined || reply === null || reply === false) return undefined;
  if (!Array.isArray(reply) || reply.length !== 2) throw new Error(`the in-call start replied ${JSON.stringify(reply)}`);
  const reading = parseCachedOccupancy(reply[1] as string | null);
  return { start: parseStartReply<DecisionRecord>(reply[0]), ...(reading ? { reading } : {}) };
}

export interface InCallDeciderDeps {
  /** The decide deps, with cachedOnlyOccupancy / cachedOnlyEstimatedWait as the figures. */
  decide: DecideDeps;
  /** The events queue: an event held (ingestEvent's delayMs) and not decided here gets its job there at once (moveHeld). */
  events: Queue;
  /** The decision of an in-call path (metrics: the same decision series as a worker's). */
  onDecided?: (result: Extract<DecideResult, { status: 'decided' }>) => void;
  /**
   * For a held write (`decide.holdWrite`, WRITE_BACK=unanswered): how a delivered answer settles it (the answered
   * mark, the conversation COMPLETE; the `skipped` outcome goes with the report). Required with `decide.holdWrite`.
   */
  settle?: SettleDeps;
  /** A write settled here (metrics: the same write series as an apply worker's). */
  onWriteSettled?: (result: Extract<ApplyResult, { status: 'skipped' }>) => void;
}

/**
 * The in-call decider: `delivered` resolves once the caller's fate is known (true: the answer was handed to the
 * client; false: it was not, or another answer was given). Resolves with the decision, or undefined when not decided
 * here.
 */
export type InCallDecider = ((event: IvrEventJob, jobId: string, delivered?: Promise<boolean>, started?: unknown) => Promise<DecisionRecord | undefined>) & {
  /**
   * Resolves once the follow-ups of every decision made so far are sent and their events released (or have failed):
   * at shutdown, after the server has delivered its last answer and before the queues close.
   */
  drain(): Promise<void>;
};

/**
 * The receiver's in-call decider for an event held for it (`ingestEvent(..., { delayMs })`, no job yet): runs the
 * decide step now, instead of waiting for a worker to pick the job up, on the figures the shared caches hold
 * (`deps.decide.occupancy` / `.estimatedWait` should be cachedOnlyOccupancy / cachedOnlyEstimatedWait). The same
 * processor, the same Lua steps: the state transition and the decision are stored exactly as a worker would, the
 * write and the report are enqueued with the same job ids, the decision is published to any other waiter.
 * It returns the decision as soon as it is stored, then releases the held event once the follow-ups are enqueued
 * (heldReleaser: no job was ever added). When it cannot decide (a figure not cached, superseded, Redis failed) it adds
 * the event's job at once (moveHeld) so a worker takes it, and returns undefined: the caller waits for the worker's
 * decision as before. A figure missing from the cache leaves the conversation in CHECKING_QUEUE for this key, which the
 * worker's run of the job resumes (conversation store, START). A receiver that dies in between leaves the event held
 * until a worker's sweep adds its job at its due time (sweepHeld).
 * `started`: the reply of inCallStartScript when the ingest ran it for this event (START done, the occupancy read);
 * decideEvent then goes straight to the decision.
 *
 * With `decide.holdWrite` (WRITE_BACK=unanswered) the write and the report are not enqueued with the follow-ups:
 * once `delivered` says the answer reached the client, the write is settled here as skipped and the report carries
 * that outcome (one report job, no apply job, no write-outcome job: two of a worker's three jobs per in-call
 * decision); otherwise the write is enqueued to run at once beside the plain report. The event is released only after
 * that, so a process that dies first leaves it to a sweep and a worker's re-run of the decision, whose write then
 * checks the answered mark.
 */
export function createInCallDecider(deps: InCallDeciderDeps): InCallDecider {
  const log = deps.decide.logger;
  if (deps.decide.holdWrite && !deps.settle) throw new Error('createInCallDecider: decide.holdWrite needs settle deps');
  if (deps.settle) defineSettleScript(deps.settle.redis);
  const release = heldReleaser(deps.decide.publisher, deps.decide.ks);
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const decider = async (event: IvrEventJob, jobId: string, delivered: Promise<boolean> = Promise.resolve(false), started?: unknown): Promise<DecisionRecord | undefined> => {
    const fields = { idempotencyKey: event.idempotencyKey, conversationId: event.conversationId, jobId };
    let out: DecideOutcome | undefined;
    try {
      out = await decideEvent({ id: jobId, data: event }, deps.decide, parseInCallStart(started));
    } catch (err) {
      if (err instanceof NotCached) log.info({ ...fields, reason: 'not_cached' }, 'not decided in-call: the job goes to a worker');
      else log.warn({ ...fields, err: (err as Error).message }, 'in-call decision failed: the job goes to a worker');
    }
    const result = out?.result;
    if (out?.decision && result?.status === 'decided') {
      deps.onDecided?.(result);
      // The caller is answered now; the event is released once the follow-ups are enqueued and a held write and report
      // sent (after the answer's delivery is known). An event left held (follow-ups failed, or this process died) gets
      // its job from a sweep when due, which replays the stored decision and enqueues them.
      const decision = out.decision;
      const key = scopedKey(event.idempotencyKey, event.keySpace);
      const write = out.writeHeld ? delivered.then((ok) => settleWrite(deps, decision, key, jobId, ok)) : undefined;
      track(
        Promise.all([out.dispatched, write]).then(
          () => release(jobId).catch((err: Error) => log.warn({ ...fields, err: err.message }, 'decided event not released: a sweep replays its decision when due')),
          (err: Error) => log.warn({ ...fields, err: err.message }, 'in-call follow-ups not enqueued: a sweep replays the decision when due'),
        ),
      );
      return decision;
    }
    if (out) log.info({ ...fields, reason: 'superseded' }, 'not decided in-call: the job goes to a worker');
    await moveHeld(deps.events, deps.decide.ks, [{ jobId, job: event }]).catch((err: Error) => log.warn({ ...fields, err: err.message }, 'held event not moved to a worker: a sweep moves it when due'));
    return undefined;
  };
  return Object.assign(decider, {
    async drain() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  });
}

/**
 * A held write, report and published answer: the write settled as skipped when the answer was delivered, else
 * enqueued to run at once. The publish goes in the same turn as the settlement or the write (one wake-up of Redis
 * and of this process for both; any other waiter for the key gets the decision a moment after the caller).
 */
async function settleWrite(deps: InCallDeciderDeps, d: DecisionRecord, key: string, jobId: string, delivered: boolean): Promise<void> {
  const published = publishDecision(d, key, deps.decide);
  if (!delivered) {
    await Promise.all([enqueueWrite(d, deps.decide, 0), enqueueReport(d, deps.decide), published]);
    return;
  }
  const [{ result, outcome }] = await Promise.all([settleAnsweredWrite(deps.settle!, d, jobId), published]);
  await enqueueReport(d, deps.decide, outcome);
  deps.onWriteSettled?.(result);
}

