import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Remaining ms of a Genesys 429 pause on a queue, 0 when none. The apply worker pauses with `worker.rateLimit(ms)`,
 * which BullMQ 6 stores as the limiter key set to Number.MAX_SAFE_INTEGER with a PX expiry (redis-queue-backend.js
 * setRateLimit); a limiter window (`limiter: {max, duration}`) only counts jobs. `getRateLimitTtl(maxJobs)` answers
 * the TTL only when the counter is >= maxJobs, so asking with MAX_SAFE_INTEGER answers the 429 pause and nothing else.
 */
export async function genesysPauseMs(queue: Queue): Promise<number> {
  const ttl = await queue.getRateLimitTtl(Number.MAX_SAFE_INTEGER);
  return ttl > 0 ? ttl : 0;
}
