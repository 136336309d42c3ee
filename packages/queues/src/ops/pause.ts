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

/**
 * Jobs counted in the write queue's current BullMQ limiter window (`limiter: {max, duration}`), with the window's
 * remaining ms; null when no window is open or the key holds a 429 pause. This is "budget use as far as BullMQ shows
 * it": a shared budget kept elsewhere is not visible here.
 */
export async function limiterWindow(queue: Queue): Promise<{ used: number; resetsInMs: number } | null> {
  const client = (await queue.backend.client) as unknown as Redis; // BullMQ 6: the Redis backend's client (as ingest.ts)
  const [raw, pttl] = await Promise.all([client.get(queue.keys.limiter!), client.pttl(queue.keys.limiter!)]);
  const used = Number(raw);
  if (raw === null || !Number.isFinite(used) || used >= Number.MAX_SAFE_INTEGER || pttl <= 0) return null;
  return { used, resetsInMs: pttl };
}
