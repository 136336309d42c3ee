import type { Redis } from 'ioredis';
import { defineScript } from '@ivr/redis';

/**
 * Who may use the last part of the budget: `live` requests decide calls that are in the IVR right now (queue
 * observations) or unblock everything (logins); `write` requests are after-the-fact (participant attributes, and
 * the conversation look-ups a write needs). Writes may not take the last `reservePct` % of the window.
 */
export type BudgetPriority = 'live' | 'write';

/** The priority of each endpoint name the client uses; an endpoint not listed here counts as a write. */
export const ENDPOINT_PRIORITY: Readonly<Record<string, BudgetPriority>> = {
  token: 'live',
  observations: 'live',
  // The push channel feeds decisions like observations do (and replaces them): opening it is a live read.
  notifications: 'live',
  estimatedwaittime: 'live', // read for a call in the IVR now, like observations
  conversation: 'write',
  attributes: 'write',
};

export function priorityOf(endpoint: string): BudgetPriority {
  return ENDPOINT_PRIORITY[endpoint] ?? 'write';
}

/**
 * `done()` once the request has its answer (or failed): the request then counts from that moment, the latest it
 * can have reached Genesys (see TAKE/DONE below).
 */
export type BudgetGrant = { granted: true; done(): Promise<void> } | { granted: false; retryInMs: number; reason: 'exhausted' | 'paused' };

export interface BudgetStats {
  /** Requests let through, by endpoint and priority. */
  granted: Record<string, Partial<Record<BudgetPriority, number>>>;
  /** Requests refused because the budget was used up (or paused after a 429), by endpoint. */
  exhausted: Record<string, number>;
}

/** One budget of Genesys requests shared by every process (the port the client's request path uses). */
export interface GenesysBudget {
  /** Take one request slot for `endpoint`, or learn how long until one frees up. Never waits. */
  take(endpoint: string): Promise<BudgetGrant>;
  /** Genesys answered 429: no process sends anything for `ms` (extends, never shortens, a pause). */
  pause(ms: number): Promise<void>;
  stats(): BudgetStats;
}

export interface RedisBudgetOptions {
  redis: Redis;
  /** QUEUE_PREFIX: the keys live under it (see budgetKeys). */
  prefix: string;
  /** GENESYS_RATE_PER_MIN: requests allowed in any window of `windowMs`. */
  limit: number;
  /** The window the limit applies to (default 60 000; tests use a few seconds instead of a clock). */
  windowMs?: number;
  /** Percentage of `limit` only `live` requests may use (default 20). */
  reservePct?: number;
}

/**
 * The Redis keys of a deployment's budget. Both keys share one hash tag, so the script that touches them runs
 * on Redis Cluster too: QUEUE_PREFIX's own tag (`{ivr}`, which Cluster requires anyway) when it has one, else
 * `{genesys-budget}` (then the two keys still land in one slot).
 */
export function budgetKeys(prefix: string): { window: string; pause: string } {
  const base = /\{[^{}]+\}/.test(prefix) ? `${prefix}:ivr:genesys-budget` : `${prefix}:ivr:{genesys-budget}`;
  return { window: `${base}:window`, pause: `${base}:pause` };
}

/**
 * Sliding-window log: a sorted set of the requests let through in the last window (score = Redis server time,
 * so every process uses one clock). At most `limit` members in any window is exact, where a token bucket
 * would let a full bucket plus a window's refill through in one window.
 * KEYS: window zset, pause key. ARGV: limit, windowMs, reserve (slots this priority must leave free), member.
 * Returns {1} granted, {0, ms, 0} exhausted (ms until enough entries leave the window), {0, ms, 1} paused.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return {0, paused, 1} end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cap = limit - tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < cap then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0, 0}
end
local e = redis.call('ZRANGE', KEYS[1], n - cap, n - cap, 'WITHSCORES')
return {0, math.max(1, tonumber(e[2]) + window - now + 1), 0}
`;

/**
 * A request's entry first counts from when it was let through; once it has its answer it counts from then instead
 * (ZADD XX: only if still there). Genesys sees a request somewhere between the two, so counting from the later one
 * keeps every window of Genesys' arrival times (and the simulator's answer times) within the limit, however long
 * the request took or queued: a request can only leave our window after Genesys could have counted it. (In flight
 * for longer than the window is impossible: GENESYS_TIMEOUT_MS <= 60 s.)
 * KEYS: window zset. ARGV: member, windowMs.
 */
const DONE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

// KEYS: pause key. ARGV: ms. Extends the pause, never shortens it.
const PAUSE = `
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], '1', 'PX', ms) end
return 1
`;

/** What the shared budget holds right now (the operator console): requests in the current window, and a 429 pause. */
export interface BudgetUsage {
  used: number;
  limit: number;
  windowMs: number;
  /** ms left of a Genesys 429 pause on every process's requests; 0 when none. */
  pausedMs: number;
}

/** Read the budget's window and pause keys (budgetKeys) on the Redis server's clock, as the TAKE script counts. */
export async function budgetUsage(redis: Redis, prefix: string, limit: number, windowMs: number): Promise<BudgetUsage> {
  const keys = budgetKeys(prefix);
  const [sec, micro] = await redis.time();
  const now = Number(sec) * 1000 + Math.floor(Number(micro) / 1000);
  const [used, pttl] = await Promise.all([redis.zcount(keys.window, `(${now - windowMs}`, '+inf'), redis.pttl(keys.pause)]);
  return { used, limit, windowMs, pausedMs: pttl > 0 ? pttl : 0 };
}

/** The budget in Redis, shared by every process that uses the same Redis and QUEUE_PREFIX. */
export function createRedisBudget(opts: RedisBudgetOptions): GenesysBudget {
  const { redis, limit } = opts;
  const windowMs = opts.windowMs ?? 60_000;
  const window = windowMs; // no margin needed: see DONE
  // Writes always keep at least one slot for live reads when the budget allows it; never all of it.
  const writeReserve = Math.min(limit - 1, Math.ceil((limit * (opts.reservePct ?? 20)) / 100));
  const keys = budgetKeys(opts.prefix);
  const token = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  let seq = 0;
  const stats: BudgetStats = { granted: {}, exhausted: {} };
  const takeScript = defineScript<[number, number, number]>(redis, 'ivrBudgetTake', 2, TAKE);
  const pauseScript = defineScript<unknown>(redis, 'ivrBudgetPause', 1, PAUSE);
  const doneScript = defineScript<unknown>(redis, 'ivrBudgetDone', 1, DONE);

  return {
    async take(endpoint) {
      const priority = priorityOf(endpoint);
      const reserve = priority === 'live' ? 0 : writeReserve;
      const member = `${token}:${++seq}`;
      const [ok, ms, paused] = await takeScript([keys.window, keys.pause], [limit, window, reserve, member]);
      if (ok === 1) {
        const e = (stats.granted[endpoint] ??= {});
        e[priority] = (e[priority] ?? 0) + 1;
        return { granted: true, done: async () => void (await doneScript([keys.window], [member, window])) };
      }
      stats.exhausted[endpoint] = (stats.exhausted[endpoint] ?? 0) + 1;
      return { granted: false, retryInMs: ms, reason: paused === 1 ? 'paused' : 'exhausted' };
    },
    async pause(ms) {
      if (ms > 0) await pauseScript([keys.pause], [Math.ceil(ms)]);
    },
    stats: () => ({ granted: Object.fromEntries(Object.entries(stats.granted).map(([k, v]) => [k, { ...v }])), exhausted: { ...stats.exhausted } }),
  };
}
