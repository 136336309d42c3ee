import { sha256, sha256Bytes } from '@ivr/core';
import type { ChainableCommander, Redis } from 'ioredis';
import { defineScript } from '@ivr/redis';
import type { Keyspace } from '@ivr/queue-contract';

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
-- Inside the ingest transaction (KEYS[2] = the BullMQ job key): anything but a pending claim of this body must
-- not add a job. If the job is gone (completed and removed), a placeholder hash makes the BullMQ add that
-- follows in the same MULTI a no-op ("duplicated"); FINISH deletes it before the transaction ends.
if r ~= 1 and KEYS[2] and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[2], 'ivrPlaceholder', '1')
end
return r
`;

/** After the BullMQ add in the ingest transaction: drop the placeholder, confirm the claim, or undo it. */
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

export type ClaimOutcome = { kind: 'new' } | { kind: 'dup'; confirmed: boolean } | { kind: 'conflict' };

/** Every `key` below is an event's scopedKey (@ivr/core): a client key and a derived one never share a record. */
export interface IdempotencyStore {
  /** Atomically claim a key for a body fingerprint. */
  claim(key: string, fingerprint: string): Promise<ClaimOutcome>;
  /** Mark the key's job as stored (keeps the TTL; a no-op if the record expired meanwhile). */
  confirm(key: string, fingerprint: string): Promise<void>;
  /**
   * Queue the claim on a MULTI that adds the job `jobKey` next (see ingestEvent); its reply is the claim code
   * (0 new, 1 pending claim of this body, 2 stored, 3 other body). For anything but 0 and 1, the add that
   * follows is made a no-op even if the job was already removed.
   */
  claimInto(multi: ChainableCommander, key: string, jobKey: string, fingerprint: string): void;
  /** Queue the step that closes the transaction: confirm the claim if the job is stored, undo it if not. */
  finishInto(multi: ChainableCommander, key: string, jobKey: string): void;
  /** The record's state for this key and body (diagnostics and tests). */
  state(key: string, fingerprint: string): Promise<'absent' | 'claimed' | 'stored' | 'conflict'>;
  /** The Redis key holding `key`'s record. */
  recordKey(key: string): string;
  /** Define the transaction scripts on another connection (the one the ingest MULTI is opened on). */
  prepare(conn: Redis): void;
}

export const CLAIM_OUTCOMES: ClaimOutcome[] = [{ kind: 'new' }, { kind: 'dup', confirmed: false }, { kind: 'dup', confirmed: true }, { kind: 'conflict' }];

/** 48 bits of SHA-256(fingerprint) as 15 zero-padded decimal digits. */
export function compactFingerprint(fingerprint: string): string {
  return String(sha256Bytes(fingerprint).readUIntBE(0, 6)).padStart(15, '0');
}

export function createIdempotencyStore(redis: Redis, ks: Keyspace, ttlSeconds: number): IdempotencyStore {
  const claim = defineScript<number>(redis, 'ivrIdemClaim2', 1, CLAIM);
  // Two keys in the transaction; defined on the connection the MULTI comes from (BullMQ's queue client).
  const define = (conn: Redis) => {
    defineScript(conn, 'ivrIdemClaimTx', 2, CLAIM);
    defineScript(conn, 'ivrIdemFinishTx', 2, FINISH);
  };
  define(redis);
  type Tx = ChainableCommander & Record<'ivrIdemClaimTx' | 'ivrIdemFinishTx', (...args: (string | number)[]) => ChainableCommander>;
  const recordKey = (key: string) => ks.idem(sha256(key).slice(0, 18));
  return {
    recordKey,
    claimInto(multi, key, jobKey, fingerprint) {
      const tx = multi as Tx;
      if (typeof tx.ivrIdemClaimTx !== 'function') throw new Error('claimInto: the MULTI must come from a connection prepared with prepare()');
      tx.ivrIdemClaimTx(recordKey(key), jobKey, compactFingerprint(fingerprint), ttlSeconds);
    },
    finishInto(multi, key, jobKey) {
      (multi as Tx).ivrIdemFinishTx(recordKey(key), jobKey);
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
