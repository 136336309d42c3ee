import type { Redis } from 'ioredis';
import { defineScript } from '@ivr/redis';

// KEYS: lease. ARGV: token, ms. Extends the lease only while this process still holds it.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export interface PushLease {
  /** SET NX PX: true when this process now holds the lease. */
  acquire(): Promise<boolean>;
  /** Extends the lease by `leaseMs`; false when this process no longer holds it (expired, or another process took it). */
  renew(): Promise<boolean>;
  /** Gives the lease up (only if still ours), so another process takes over at once. */
  release(): Promise<void>;
}

/**
 * The notification channel holder's lease (issue 19): one Redis key (`ks.occupancyPushLeader`) holding a token of
 * this process, `leaseMs` long; the holder renews it, and another process takes over within `leaseMs` when it dies.
 */
export function createPushLease(redis: Redis, key: string, leaseMs: number): PushLease {
  const token = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const renew = defineScript<number>(redis, 'ivrPushRenew', 1, RENEW);
  const release = defineScript<number>(redis, 'ivrPushRelease', 1, RELEASE);
  return {
    acquire: async () => (await redis.set(key, token, 'PX', leaseMs, 'NX')) === 'OK',
    renew: async () => (await renew([key], [token, leaseMs])) === 1,
    release: async () => {
      await release([key], [token]);
    },
  };
}
