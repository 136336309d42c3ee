import { sha256, sha256Bytes } from '@ivr/core';
import type { ChainableCommander, Redis } from 'ioredis';
import { defineScript } from '@ivr/redis';
import type { BullmqScript, Keyspace } from '@ivr/queue-contract';

/**
 * Idempotency records, sized for millions of keys a day (the bench measures bytes per key):
 * - key `{prefix}:ivr:i:{h}`, h = 18 base64url chars (108 bits) of SHA-256(idempotency key): a short key
 *   whatever the caller's key looks like (a UUID would make the key alone 49 bytes);
 * - value `<state><fp>`: state 1 = claimed, job not yet confirmed in Redis; 2 = job stored (a 2xx may be sent),
 *   fp = 48 bits of the body fingerprint as 15 decimal digits. All digits, leading 1 or 2: Redis stores it as
 *   an integer inside the value object (16 bytes) instead of a string allocation;
 * - TTL IDEMPOTENCY_TTL_S.
 * A fingerprint collision on 48 bits makes a reused key with another body look like a duplicate (200, not 422)
 * with probability 2^-48 per reuse; a key collision on 108 bits is out of reach.
 */
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], '1' .. ARGV[1], 'EX', ARGV[2])
  return 0
end
local r
if string.sub(v, 2) ~= ARGV[1] then r = 3
elseif string.sub(v, 1, 1) == '2' then r = 2
else r = 1 end
-- Inside the ingest script (KEYS[2] = the BullMQ job key): anything but a pending claim of this body must
-- not add a job. If the job is gone (completed and removed), a placeholder hash makes the BullMQ add that
-- follows in the same script a no-op ("duplicated"); FINISH deletes it before the script ends.
if r ~= 1 and KEYS[2] and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[2], 'ivrPlaceholder', '1')
end
return r
`;

/** After the BullMQ add in the ingest script: drop the placeholder, confirm the claim, or undo it. */
const FINISH = `
if redis.call('HEXISTS', KEYS[2], 'ivrPlaceholder') == 1 then
  redis.call('DEL', KEYS[2])
  return 0
end
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 1) ~= '1' then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SET', KEYS[1], '2' .. string.sub(v, 2), 'KEEPTTL')
  return 1
end
redis.call('DEL', KEYS[1])
return -1
`;

/**
 * The ingest transaction as ONE script: CLAIM, BullMQ's add script `addLua` (its text unchanged, run as a function
 * of its own KEYS and ARGV), then FINISH. KEYS = [record, job key, ...the add's keys]; ARGV = [compact fingerprint,
 * TTL, ...the add's arguments]. The reply is {claim, add, finish}, what the MULTI/EXEC of the three steps replied
 * before: a script runs atomically as a MULTI does, in one command instead of five. An error raised inside the add
 * is caught so that FINISH still runs (and undoes the claim, the job not being there); it is returned as the
 * add's reply, as EXEC returned it.
 *
 * With `whenNew` (a caller's script, see WhenNewScript), the script takes its keys after the add's and its arguments
 * after the add's (ARGV[3] then says how many arguments the add has), runs it only when the event is new and its
 * job stored (claim 0, finish 1), and returns its reply fourth (false when it did not run).
 */
export function ingestScript(addLua: string, whenNew?: { numberOfKeys: number; lua: string }): string {
  const split = whenNew
    ? `local nAddKeys = #KEYS - 2 - ${whenNew.numberOfKeys}
local nAddArgs = tonumber(ARGV[3])
local addKeys, addArgs, newKeys, newArgs = {}, {}, {}, {}
for i = 1, nAddKeys do addKeys[i] = KEYS[i + 2] end
for i = nAddKeys + 3, #KEYS do newKeys[#newKeys + 1] = KEYS[i] end
for i = 1, nAddArgs do addArgs[i] = ARGV[i + 3] end
for i = nAddArgs + 4, #ARGV do newArgs[#newArgs + 1] = ARGV[i] end`
    : `local addKeys, addArgs = {}, {}
for i = 3, #KEYS do addKeys[i - 2] = KEYS[i] end
for i = 3, #ARGV do addArgs[i - 2] = ARGV[i] end`;
  const ending = whenNew
    ? `local finish = ivrFinish(own, {})
local after = false
if claim == 0 and finish == 1 then after = ivrWhenNew(newKeys, newArgs) end
return {claim, added, finish, after}`
    : `return {claim, added, ivrFinish(own, {})}`;
  return `
local function ivrClaim(KEYS, ARGV)
${CLAIM}
end
local function ivrFinish(KEYS, ARGV)
${FINISH}
end
local function bullmqAdd(KEYS, ARGV)
${addLua}
end
${whenNew ? `local function ivrWhenNew(KEYS, ARGV)
${whenNew.lua}
end` : ''}
local own = {KEYS[1], KEYS[2]}
${split}
local claim = ivrClaim(own, {ARGV[1], ARGV[2]})
local ok, added = pcall(bullmqAdd, addKeys, addArgs)
if not ok then
  added = redis.error_reply(type(added) == 'table' and added.err or tostring(added))
elseif added == nil then
  added = false
end
${ending}
`;
}

/**
 * The ingest of an event held for an in-call decision, as ONE script: CLAIM, then, for a new event (or a pending claim
 * of this body), HOLD it (no BullMQ job: the event's job data under its job id in the held hash, the job id in the
 * held set at its due time; held.ts) and mark the record stored, all atomically. KEYS = [record, held set, held hash,
 * ...whenNew's keys]; ARGV = [compact fingerprint, TTL, job id, due (ms), job data, ...whenNew's arguments]. The reply
 * is {claim, job id, finish (1 held, 0 not), whenNew's reply or false}, the shape of ingestScript's.
 */
export function holdScript(whenNew?: { numberOfKeys: number; lua: string }): string {
  return `
local function ivrClaim(KEYS, ARGV)
${CLAIM}
end
${whenNew ? `local function ivrWhenNew(KEYS, ARGV)
${whenNew.lua}
end` : ''}
local claim = ivrClaim({KEYS[1]}, {ARGV[1], ARGV[2]})
local finish = 0
if claim == 0 or claim == 1 then
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])
  redis.call('ZADD', KEYS[2], 'NX', ARGV[4], ARGV[3])
  redis.call('SET', KEYS[1], '2' .. ARGV[1], 'KEEPTTL')
  finish = 1
end
${whenNew ? `local after = false
if claim == 0 then
  local newKeys, newArgs = {}, {}
  for i = 4, #KEYS do newKeys[#newKeys + 1] = KEYS[i] end
  for i = 6, #ARGV do newArgs[#newArgs + 1] = ARGV[i] end
  after = ivrWhenNew(newKeys, newArgs)
end
return {claim, ARGV[3], finish, after}` : 'return {claim, ARGV[3], finish}'}
`;
}

/** An event to hold instead of adding its job (holdScript): its job id, due time (ms) and job data (JSON). */
export interface HoldCall {
  jobId: string;
  dueAt: number;
  data: string;
}

/**
 * A script the ingest runs in its own transaction when the event is new and its job stored (ingestScript): the
 * in-call path starts the decision there (one round trip less before the caller's answer). Its Lua is the body of
 * a function of its own KEYS and ARGV; `name` is unique per script text.
 */
export interface WhenNewScript {
  name: string;
  numberOfKeys: number;
  lua: string;
}

/** One run of a WhenNewScript within an ingest: its keys (numberOfKeys of them) and arguments. */
export interface WhenNewCall {
  script: WhenNewScript;
  keys: string[];
  args: Array<string | number>;
}

/** The name the ingest script wrapping BullMQ's add script `addName` is defined under. */
const ingestCommand = (addName: string, whenNew?: string) => (whenNew ? `ivrIngest:${addName}:${whenNew}` : `ivrIngest:${addName}`);
/** The name the holding ingest script (holdScript) is defined under. */
const holdCommand = (whenNew?: string) => (whenNew ? `ivrIngestHold:${whenNew}` : 'ivrIngestHold');

/** How many of its KEYS each BullMQ add script prepared so far takes (a fact of the script: its name is versioned). */
const keysOfAdd = new Map<string, number>();

export type ClaimOutcome = { kind: 'new' } | { kind: 'dup'; confirmed: boolean } | { kind: 'conflict' };

/** Every `key` below is an event's scopedKey (@ivr/core): a client key and a derived one never share a record. */
export interface IdempotencyStore {
  /** Atomically claim a key for a body fingerprint. */
  claim(key: string, fingerprint: string): Promise<ClaimOutcome>;
  /** Mark the key's job as stored (keeps the TTL; a no-op if the record expired meanwhile). */
  confirm(key: string, fingerprint: string): Promise<void>;
  /**
   * Queue the ingest step of one event on `pipeline` (see ingestEvent): ONE script call (`ingestScript`) that claims
   * the key, runs BullMQ's add of the job `jobKey` (`add`: the add script's name and the arguments BullMQ built for
   * it) and finishes. Its reply is [claim code (0 new, 1 pending claim of this body, 2 stored, 3 other body), the
   * add's reply, the finish code]. For anything but 0 and 1 the add is made a no-op even if the job was removed.
   * With `whenNew` (its script prepared), the reply has a fourth element: that script's reply when the event was new
   * and its job stored, else false.
   */
  ingestInto(pipeline: ChainableCommander, add: { name: string; args: unknown[] }, key: string, jobKey: string, fingerprint: string, whenNew?: WhenNewCall): void;
  /**
   * As ingestInto for an event held for an in-call decision (holdScript): no BullMQ job, the event held in the
   * keyspace's held set and hash until `hold.dueAt`. The reply has ingestInto's shape (the job id as the add's reply).
   */
  holdInto(pipeline: ChainableCommander, hold: HoldCall, key: string, fingerprint: string, whenNew?: WhenNewCall): void;
  /** The record's state for this key and body (diagnostics and tests). */
  state(key: string, fingerprint: string): Promise<'absent' | 'claimed' | 'stored' | 'conflict'>;
  /** The Redis key holding `key`'s record. */
  recordKey(key: string): string;
  /**
   * Define the ingest scripts on `conn` (the connection the ingest goes out on): one per BullMQ add script in
   * `adds` (name, number of keys, Lua), each wrapped by `ingestScript`, and one per add and script of `whenNew`.
   */
  prepare(conn: Redis, adds: readonly BullmqScript[], whenNew?: readonly WhenNewScript[]): void;
}

export const CLAIM_OUTCOMES: ClaimOutcome[] = [{ kind: 'new' }, { kind: 'dup', confirmed: false }, { kind: 'dup', confirmed: true }, { kind: 'conflict' }];

/** 48 bits of SHA-256(fingerprint) as 15 zero-padded decimal digits. */
export function compactFingerprint(fingerprint: string): string {
  return String(sha256Bytes(fingerprint).readUIntBE(0, 6)).padStart(15, '0');
}

export function createIdempotencyStore(redis: Redis, ks: Keyspace, ttlSeconds: number): IdempotencyStore {
  const claim = defineScript<number>(redis, 'ivrIdemClaim2', 1, CLAIM);
  const define = (conn: Redis, adds: readonly BullmqScript[], whenNew: readonly WhenNewScript[] = []) => {
    defineScript(conn, holdCommand(), 3, holdScript());
    for (const w of whenNew) defineScript(conn, holdCommand(w.name), 3 + w.numberOfKeys, holdScript(w));
    for (const a of adds) {
      defineScript(conn, ingestCommand(a.name), a.numberOfKeys + 2, ingestScript(a.lua));
      for (const w of whenNew) defineScript(conn, ingestCommand(a.name, w.name), a.numberOfKeys + 2 + w.numberOfKeys, ingestScript(a.lua, w));
      keysOfAdd.set(a.name, a.numberOfKeys);
    }
  };
  type Pipe = ChainableCommander & Record<string, (args: unknown[]) => ChainableCommander>;
  const recordKey = (key: string) => ks.idem(sha256(key).slice(0, 18));
  return {
    recordKey,
    ingestInto(pipeline, add, key, jobKey, fingerprint, whenNew) {
      const n = keysOfAdd.get(add.name);
      const command = ingestCommand(add.name, whenNew?.script.name);
      if (n === undefined || typeof (pipeline as Pipe)[command] !== 'function') throw new Error(`ingestInto: ${command} was not prepared on this connection (prepare())`);
      const own = [recordKey(key), jobKey];
      const fp = compactFingerprint(fingerprint);
      if (!whenNew) {
        (pipeline as Pipe)[command]!([...own, ...add.args.slice(0, n), fp, ttlSeconds, ...add.args.slice(n)]);
        return;
      }
      if (whenNew.keys.length !== whenNew.script.numberOfKeys) throw new Error(`ingestInto: ${whenNew.script.name} takes ${whenNew.script.numberOfKeys} keys, given ${whenNew.keys.length}`);
      const addArgs = add.args.slice(n);
      (pipeline as Pipe)[command]!([...own, ...add.args.slice(0, n), ...whenNew.keys, fp, ttlSeconds, addArgs.length, ...addArgs, ...whenNew.args]);
    },
    holdInto(pipeline, hold, key, fingerprint, whenNew) {
      const command = holdCommand(whenNew?.script.name);
      if (typeof (pipeline as Pipe)[command] !== 'function') throw new Error(`holdInto: ${command} was not prepared on this connection (prepare())`);
      if (whenNew && whenNew.keys.length !== whenNew.script.numberOfKeys) throw new Error(`holdInto: ${whenNew.script.name} takes ${whenNew.script.numberOfKeys} keys, given ${whenNew.keys.length}`);
      const args = [compactFingerprint(fingerprint), ttlSeconds, hold.jobId, hold.dueAt, hold.data];
      (pipeline as Pipe)[command]!([recordKey(key), ks.held, ks.heldEvents, ...(whenNew?.keys ?? []), ...args, ...(whenNew?.args ?? [])]);
    },
    prepare: define,
    async claim(key, fingerprint) {
      const r = await claim([recordKey(key)], [compactFingerprint(fingerprint), ttlSeconds]);
      const out = CLAIM_OUTCOMES[r];
      if (!out) throw new Error(`idempotency claim script returned ${String(r)}`);
      return out;
    },
    async confirm(key, fingerprint) {
      await redis.set(recordKey(key), `2${compactFingerprint(fingerprint)}`, 'KEEPTTL', 'XX');
    },
    async state(key, fingerprint) {
      const v = await redis.get(recordKey(key));
      if (v === null) return 'absent';
      if (v.slice(1) !== compactFingerprint(fingerprint)) return 'conflict';
      return v[0] === '2' ? 'stored' : 'claimed';
    },
  };
}
