import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { defineScript } from '@ivr/redis';
import { EVENT_JOB, type IvrEventJob } from './jobs';
import type { Keyspace } from './names';

/**
 * Events held for an in-call decision. The receiver's ingest stores such an event without a BullMQ job (holdScript
 * in @ivr/intake: the job data in the keyspace's held hash under its job id, the job id in the held set at its due
 * time, the idempotency record marked stored, in one script). Then exactly one of:
 * - the receiver decides it and releases it (releaseHeld / heldReleaser) once the decision's follow-ups are sent;
 * - the receiver cannot decide it and adds its job at once (moveHeld), for a worker to decide;
 * - the receiver died: a worker's sweep (sweepHeld) adds its job once it is due, as BullMQ would have promoted a
 *   delayed job.
 * The move adds the job (BullMQ's own add script, its text unchanged) and stops holding the event in one script, and
 * only when the event is still held, so two processes moving the same event add one job; a release after a move
 * removes nothing, and a move after a release adds nothing.
 * What this saves against a delayed BullMQ job per call: the delayed add and its events, the decide workers' wake-up
 * by BullMQ's marker, and a removeJob script per decided call (docs/performance.md).
 */

/** BullMQ's addStandardJob script as a queue's connection defines it (its name is versioned). */
export interface BullmqScript {
  name: string;
  numberOfKeys: number;
  lua: string;
}

/** BullMQ's addStandardJob script, read from the queue's connection (BullMQ defines its scripts there). */
export function bullmqAddScript(queueClient: Redis): BullmqScript {
  const scripts = (queueClient as unknown as { scriptsSet: Record<string, { lua: string; numberOfKeys: number }> }).scriptsSet;
  const name = Object.keys(scripts).find((k) => k.startsWith('addStandardJob:'));
  if (!name) throw new Error('BullMQ addStandardJob script not found on the queue connection (BullMQ version changed?)');
  return { name, numberOfKeys: scripts[name]!.numberOfKeys, lua: scripts[name]!.lua };
}

/**
 * BullMQ's own add, captured rather than sent: Job.addJob builds the arguments (msgpack'd options, keys) and
 * hands them to its transaction's `runCommand` synchronously, as it does for addBulk and flows.
 */
export async function captureAdd(job: Job): Promise<{ name: string; args: unknown[] }> {
  let captured: { name: string; args: unknown[] } | undefined;
  const recorder = {
    runCommand(name: string, args: unknown[]) {
      if (captured) throw new Error('BullMQ issued more than one command for a standard add (BullMQ version changed?)');
      captured = { name, args };
      return recorder;
    },
  };
  await job.addJob(recorder as unknown as Parameters<Job['addJob']>[0]);
  if (!captured) throw new Error('BullMQ issued no command for the add (BullMQ version changed?)');
  return captured;
}

/** The queue's connection (BullMQ 6: the Redis backend's client). */
export async function queueClientOf(queue: Queue): Promise<Redis> {
  return (await queue.backend.client) as unknown as Redis;
}

/**
 * MOVE, one held event: when it is still held, BullMQ's add of its job (`addLua`, run as a function of its own KEYS
 * and ARGV), then stop holding it. KEYS = [held set, held hash, ...the add's keys]; ARGV = [job id, ...the add's
 * arguments]. Replies false when the event is not held (released, or moved by another process), else the add's
 * reply. An add that fails (an error, or BullMQ's negative code) leaves the event held: the next sweep retries.
 */
export function moveScript(addLua: string): string {
  return `
local function bullmqAdd(KEYS, ARGV)
${addLua}
end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return false end
local addKeys, addArgs = {}, {}
for i = 3, #KEYS do addKeys[i - 2] = KEYS[i] end
for i = 2, #ARGV do addArgs[i - 1] = ARGV[i] end
local added = bullmqAdd(addKeys, addArgs)
if type(added) == 'number' and added < 0 then return added end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return added
`;
}

const moveCommand = (addName: string) => `ivrMoveHeld:${addName}`;
const moveReady = new WeakMap<object, { command: string; numberOfKeys: number }>();

/**
 * Define the move script on the queue's connection: at start-up, before any job (a script defined later would be
 * missing from a pipeline opened before it). Returns the connection.
 */
export async function prepareHeldMove(events: Queue): Promise<Redis> {
  const conn = await queueClientOf(events);
  if (!moveReady.has(conn)) {
    const add = bullmqAddScript(conn);
    defineScript(conn, moveCommand(add.name), add.numberOfKeys + 2, moveScript(add.lua));
    moveReady.set(conn, { command: moveCommand(add.name), numberOfKeys: add.numberOfKeys });
  }
  return conn;
}

export type MoveOutcome = 'moved' | 'not_held';

/**
 * Add the jobs of held events now (one pipeline): each as ingestEvent would have added it (the same job id and job
 * options), and only if still held. Rejects on a Redis failure, or when BullMQ refused an add (the event stays held).
 */
export async function moveHeld(events: Queue, ks: Keyspace, held: ReadonlyArray<{ jobId: string; job: IvrEventJob }>): Promise<MoveOutcome[]> {
  if (!held.length) return [];
  const conn = await prepareHeldMove(events);
  const { command, numberOfKeys } = moveReady.get(conn)!;
  const adds = await Promise.all(held.map((h) => captureAdd(new Job(events, EVENT_JOB, h.job, { ...events.defaultJobOptions, jobId: h.jobId }, h.jobId))));
  const p = conn.pipeline() as unknown as Record<string, (args: unknown[]) => unknown> & { exec(): Promise<Array<[Error | null, unknown]> | null> };
  held.forEach((h, i) => {
    const add = adds[i]!;
    p[command]!([ks.held, ks.heldEvents, ...add.args.slice(0, numberOfKeys), h.jobId, ...add.args.slice(numberOfKeys)]);
  });
  const results = (await p.exec()) ?? [];
  return held.map((h, i) => {
    const [err, reply] = results[i] ?? [new Error('no reply for the move')];
    if (err) throw err;
    if (typeof reply === 'number' && reply < 0) throw new Error(`BullMQ refused the job ${h.jobId} (code ${reply}): the event stays held`);
    return reply === null || reply === false ? 'not_held' : 'moved';
  });
}

/** Stop holding events decided in this process: one MULTI (the held set, the held hash). */
export async function releaseHeld(redis: Redis, ks: Keyspace, jobIds: readonly string[]): Promise<void> {
  if (!jobIds.length) return;
  await redis.multi().zrem(ks.held, ...jobIds).hdel(ks.heldEvents, ...jobIds).exec();
}

/**
 * releaseHeld for one event at a time, sent together with every release asked for in the same turn of the event loop
 * (the in-call decisions of one report batch settle together): one round trip for all of them.
 */
export function heldReleaser(redis: Redis, ks: Keyspace): (jobId: string) => Promise<void> {
  let ids: string[] | undefined;
  let done: Promise<void> = Promise.resolve();
  return (jobId) => {
    if (!ids) {
      const batch: string[] = (ids = []);
      done = new Promise<void>((resolve, reject) =>
        setImmediate(() => {
          ids = undefined;
          releaseHeld(redis, ks, batch).then(resolve, reject);
        }),
      );
    }
    ids.push(jobId);
    return done;
  };
}

/** The held events due at `now` (ms), oldest first, at most `limit`. An id whose data is gone is dropped from the set. */
export async function dueHeld(redis: Redis, ks: Keyspace, now: number, limit: number): Promise<Array<{ jobId: string; job: IvrEventJob }>> {
  const ids = await redis.zrangebyscore(ks.held, '-inf', now, 'LIMIT', 0, limit);
  if (!ids.length) return [];
  const data = await redis.hmget(ks.heldEvents, ...ids);
  const orphans = ids.filter((_, i) => data[i] === null);
  if (orphans.length) await redis.zrem(ks.held, ...orphans);
  return ids.flatMap((jobId, i) => (data[i] === null ? [] : [{ jobId, job: JSON.parse(data[i]!) as IvrEventJob }]));
}

/** What operators see of the held events (metrics, the status page). */
export interface HeldState {
  count: number;
  /** The earliest deadline (ms), null when none is held. */
  oldestDueAt: number | null;
}

/** The held events now: how many, and the earliest deadline. */
export async function heldState(redis: Redis, ks: Keyspace): Promise<HeldState> {
  const [[, count], [, first]] = ((await redis.multi().zcard(ks.held).zrange(ks.held, 0, 0, 'WITHSCORES').exec()) ?? []) as [[unknown, number], [unknown, string[]]];
  return { count, oldestDueAt: first.length === 2 ? Number(first[1]) : null };
}

/**
 * One sweep: add the jobs of the held events due at `now` (their receiver did not decide, release or move them in
 * time: it died), `limit` at a time until none is due. Returns how many jobs it added (another sweeper may have
 * moved some first).
 */
export async function sweepHeld(events: Queue, ks: Keyspace, now: number, limit = 200): Promise<number> {
  const redis = await queueClientOf(events);
  let moved = 0;
  for (;;) {
    const due = await dueHeld(redis, ks, now, limit);
    if (!due.length) return moved;
    moved += (await moveHeld(events, ks, due)).filter((o) => o === 'moved').length;
    if (due.length < limit) return moved;
  }
}
