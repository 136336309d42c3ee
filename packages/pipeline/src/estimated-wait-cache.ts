import type { Redis } from 'ioredis';
import { defineScript } from '@ivr/redis';
import type { Keyspace } from '@ivr/queue-contract';

/** `poll`: asked Genesys now; `cache`: another call's (or process's) answer; `fail_open`: no figure, the reason. */
export type WaitReading = { source: 'poll' | 'cache'; seconds: number } | { source: 'fail_open'; reason: string };

export interface EstimatedWaitCache {
  get(queueId: string): Promise<WaitReading>;
}

export interface EstimatedWaitCacheOptions {
  redis: Redis;
  ks: Keyspace;
  /** One queue's estimated wait in seconds (the Genesys client: inside the one budget). */
  fetch: (queueId: string) => Promise<number>;
  /** How long an answer is shared (OCCUPANCY_CACHE_MS, as observations). */
  cacheMs: number;
  /** The cross-process single-flight lock; peers wait this long for the holder's answer. */
  lockMs: number;
}

type Stored = { s: number } | { e: string };

const asReading = (v: Stored, source: 'poll' | 'cache'): WaitReading => ('e' in v ? { source: 'fail_open', reason: v.e } : { source, seconds: v.s });

/** A cache entry's value (the GET of `ks.estimatedWait(queueId)`) as a reading; undefined for no entry. */
const parseCachedEstimatedWait = (v: unknown): WaitReading | undefined => (typeof v === 'string' ? asReading(JSON.parse(v) as Stored, 'cache') : undefined);

/** The shared cache's estimated wait of `queueId`, or undefined when it holds none (no Genesys call, no lock). */
export async function readCachedEstimatedWait(redis: Redis, ks: Keyspace, queueId: string): Promise<WaitReading | undefined> {
  return parseCachedEstimatedWait(await redis.get(ks.estimatedWait(queueId)));
}

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Estimated wait per queue (GET .../estimatedwaittime), shared like observations: one answer per queue per
 * `cacheMs` in Redis; concurrent reads in a process share one promise; across processes the one that takes the
 * lock asks Genesys and the others wait for its answer in the cache. A failure is remembered as briefly (a Genesys
 * outage is not a storm of calls) and read as `fail_open`: the decision then routes on occupancy alone.
 */
export function createEstimatedWaitCache(opts: EstimatedWaitCacheOptions): EstimatedWaitCache {
  const { redis, ks, cacheMs, lockMs } = opts;
  const owner = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const unlock = defineScript<number>(redis, 'ivrEwtUnlock', 1, UNLOCK);
  const pending = new Map<string, Promise<WaitReading>>();

  async function ask(queueId: string): Promise<WaitReading> {
    const deadline = Date.now() + lockMs + 1000;
    for (;;) {
      const cached = await readCachedEstimatedWait(redis, ks, queueId);
      if (cached) return cached;
      // The lock with a read of the figure in the same transaction: a peer that stored it and released its lock
      // between our read and our lock left it there, and we use it instead of a second Genesys call.
      const [locked, stored] = ((await redis.multi().set(ks.estimatedWaitLock(queueId), owner, 'PX', lockMs, 'NX').get(ks.estimatedWait(queueId)).exec()) ?? []).map((r) => r?.[1]);
      const storedByPeer = locked === 'OK' ? parseCachedEstimatedWait(stored) : undefined;
      if (storedByPeer) {
        await unlock([ks.estimatedWaitLock(queueId)], [owner]);
        return storedByPeer;
      }
      if (locked === 'OK') {
        let v: Stored;
        try {
          v = { s: await opts.fetch(queueId) };
        } catch (err) {
          v = { e: `estimated wait unavailable: ${(err as Error).message}` };
        }
        if (cacheMs > 0) await redis.set(ks.estimatedWait(queueId), JSON.stringify(v), 'PX', cacheMs);
        await unlock([ks.estimatedWaitLock(queueId)], [owner]);
        return asReading(v, 'poll');
      }
      if (Date.now() > deadline) return { source: 'fail_open', reason: 'timed out waiting for a peer worker to read the estimated wait' };
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  return {
    get(queueId) {
      let p = pending.get(queueId);
      if (!p) {
        p = ask(queueId).finally(() => pending.delete(queueId));
        pending.set(queueId, p);
      }
      return p;
    },
  };
}
