import type { Redis } from 'ioredis';
import { defineScript } from './lua';
import type { Keyspace } from './names';

/**
 * Idempotency records: `{prefix}:ivr:idem:{key}` = "<state>|<fingerprint>" with TTL.
 * state p = claimed, job not yet confirmed in Redis; q = job stored (a 2xx may be sent).
 * A small string per key keeps memory low (measured by the bench).
 */
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], 'p|' .. ARGV[1], 'EX', ARGV[2])
  return {'new', ''}
end
local fp = string.sub(v, 3)
if fp ~= ARGV[1] then return {'conflict', string.sub(v, 1, 1)} end
return {'dup', string.sub(v, 1, 1)}
`;

export type ClaimOutcome = { kind: 'new' } | { kind: 'dup'; confirmed: boolean } | { kind: 'conflict' };

export interface IdempotencyStore {
  /** Atomically claim a key for a body fingerprint. */
  claim(key: string, fingerprint: string): Promise<ClaimOutcome>;
  /** Mark the key's job as stored (keeps the TTL). */
  confirm(key: string, fingerprint: string): Promise<void>;
}

export function createIdempotencyStore(redis: Redis, ks: Keyspace, ttlSeconds: number): IdempotencyStore {
  const claim = defineScript<[string, string]>(redis, 'ivrIdemClaim', 1, CLAIM);
  return {
    async claim(key, fingerprint) {
      const [kind, state] = await claim([ks.idem(key)], [fingerprint, ttlSeconds]);
      if (kind === 'new') return { kind: 'new' };
      if (kind === 'conflict') return { kind: 'conflict' };
      return { kind: 'dup', confirmed: state === 'q' };
    },
    async confirm(key, fingerprint) {
      await redis.set(ks.idem(key), `q|${fingerprint}`, 'KEEPTTL');
    },
  };
}
