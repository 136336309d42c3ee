import type { Redis } from 'ioredis';
import { ROUTES } from '@ivr/core';
import { defineScript } from '@ivr/redis';
import { percentile } from '@ivr/core';
import { HOURS, Tally, agentBucket, agentsMatrix, emptyHeatmap, emptyHeatmapFor, hourOfDay, invalidDocReason, parseTime, timeBucketPlan, timeSeries } from './matrix';
import { StoreUnavailableError, type DecisionDoc, type DecisionStore, type HeatmapData, type HeatmapQuery, type WriteOutcome, type WriteOutcomesResult, type WriteResult } from './store';

/**
 * Store one batch atomically and idempotently.
 * KEYS: docs (hash id → JSON), byTime (zset ms → entry), dtmf/hour/agents counters (hash "routeIdx:value" → n), meta (hash).
 * ARGV: 7 per doc: id, doc JSON, ms, zset entry, dtmf field, hour field, agents field.
 * Returns one 1 (new) / 0 (already stored) per doc, in order.
 */
const WRITE_BATCH_LUA = `
local res = {}
local n = #ARGV / 7
for i = 0, n - 1 do
  local b = i * 7
  if redis.call('HSETNX', KEYS[1], ARGV[b + 1], ARGV[b + 2]) == 1 then
    local ms = tonumber(ARGV[b + 3])
    redis.call('ZADD', KEYS[2], ms, ARGV[b + 4])
    redis.call('HINCRBY', KEYS[3], ARGV[b + 5], 1)
    redis.call('HINCRBY', KEYS[4], ARGV[b + 6], 1)
    redis.call('HINCRBY', KEYS[5], ARGV[b + 7], 1)
    redis.call('HINCRBY', KEYS[6], 'total', 1)
    local mn = tonumber(redis.call('HGET', KEYS[6], 'minMs'))
    if (not mn) or ms < mn then redis.call('HSET', KEYS[6], 'minMs', ARGV[b + 3]) end
    local mx = tonumber(redis.call('HGET', KEYS[6], 'maxMs'))
    if (not mx) or ms > mx then redis.call('HSET', KEYS[6], 'maxMs', ARGV[b + 3]) end
    res[i + 1] = 1
  else
    res[i + 1] = 0
  end
end
return res
`;

/**
 * Record write outcomes on stored decisions (the document JSON in the docs hash gets writeStatus, writeReason,
 * writtenAt; absent ones are removed). KEYS: docs. ARGV: 4 per outcome: id, writeStatus, writeReason|'', writtenAt|''.
 * Returns one 1 (recorded) / 0 (decision not stored) per outcome, in order.
 */
const RECORD_OUTCOMES_LUA = `
local res = {}
local n = #ARGV / 4
for i = 0, n - 1 do
  local b = i * 4
  local raw = redis.call('HGET', KEYS[1], ARGV[b + 1])
  if raw then
    local doc = cjson.decode(raw)
    doc['writeStatus'] = ARGV[b + 2]
    if ARGV[b + 3] ~= '' then doc['writeReason'] = ARGV[b + 3] else doc['writeReason'] = nil end
    if ARGV[b + 4] ~= '' then doc['writtenAt'] = ARGV[b + 4] else doc['writtenAt'] = nil end
    redis.call('HSET', KEYS[1], ARGV[b + 1], cjson.encode(doc))
    res[i + 1] = 1
  else
    res[i + 1] = 0
  end
end
return res
`;

/**
 * Retention: remove decisions older than the cutoff with their contributions to every counter, so the all-time
 * heatmap stays exact (it is the sum of what is kept). ZREM guards each removal: two prunes racing remove a
 * decision once. KEYS as WRITE_BATCH_LUA; ARGV: 5 per decision: zset entry, id, dtmf field, hour field, agents field.
 * Returns how many were removed. meta minMs moves to the oldest decision kept.
 */
const PRUNE_LUA = `
local removed = 0
for i = 0, #ARGV / 5 - 1 do
  local b = i * 5
  if redis.call('ZREM', KEYS[2], ARGV[b + 1]) == 1 then
    redis.call('HDEL', KEYS[1], ARGV[b + 2])
    for k = 3, 5 do
      if redis.call('HINCRBY', KEYS[k], ARGV[b + k], -1) <= 0 then redis.call('HDEL', KEYS[k], ARGV[b + k]) end
    end
    removed = removed + 1
  end
end
if removed > 0 then
  if redis.call('HINCRBY', KEYS[6], 'total', -removed) <= 0 then
    redis.call('DEL', KEYS[6])
  else
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    if first[2] then redis.call('HSET', KEYS[6], 'minMs', first[2]) end
  end
end
return removed
`;

/** At most one prune per this interval per store instance (writes trigger it; init runs one). */
const PRUNE_EVERY_MS = 60_000;
const PRUNE_PAGE = 500;

export interface EmbeddedStoreOptions {
  /** Decisions older than this many days are removed (STORE_RETENTION_DAYS, default 30 in @ivr/config); unset = kept forever. */
  retentionDays?: number;
  now?: () => number;
}

/** Redis replies that mean "the server cannot serve now" rather than "this command is wrong". */
const TRANSIENT_REPLY = /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|OOM|READONLY|NOREPLICAS)/;

function storeError(err: unknown): Error {
  if (err instanceof StoreUnavailableError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  if (e.name === 'ReplyError' && !TRANSIENT_REPLY.test(e.message)) return e;
  return new StoreUnavailableError(`embedded decision store (Redis) unavailable: ${e.message}`, { cause: err });
}

/** Zset entry: compact, unique per decision (the id is in it). agents null = fail-open; latency absent in older entries. */
type Entry = [id: string, dtmf: string, routeIdx: number, agents: number | null, latencyMs?: number];

/**
 * The embedded decision store, in Redis under `${prefix}:ivr:store:*`.
 * - docs: hash decisionId → document JSON (HSETNX = idempotency)
 * - by-time: sorted set, score = timestamp ms, member = compact entry → exact range queries
 * - c:dtmf / c:hour / c:agents / meta: all-time counters → O(1) heatmap when no range is given
 * One request per writeBatch (one script call), per heatmap and per count.
 */
export function createEmbeddedStore(redis: Redis, prefix: string, opts: EmbeddedStoreOptions = {}): DecisionStore & { prune(): Promise<number> } {
  const base = `${prefix}:ivr:store`;
  const keys = {
    docs: `${base}:docs`,
    byTime: `${base}:by-time`,
    dtmf: `${base}:c:dtmf`,
    hour: `${base}:c:hour`,
    agents: `${base}:c:agents`,
    meta: `${base}:meta`,
  };
  const writeScript = defineScript<number[]>(redis, 'ivrDecisionStoreWriteBatch', 6, WRITE_BATCH_LUA);
  const outcomesScript = defineScript<number[]>(redis, 'ivrDecisionStoreRecordOutcomes', 1, RECORD_OUTCOMES_LUA);
  const pruneScript = defineScript<number>(redis, 'ivrDecisionStorePrune', 6, PRUNE_LUA);
  const retentionMs = opts.retentionDays === undefined ? undefined : opts.retentionDays * 86_400_000;
  const now = opts.now ?? Date.now;
  let lastPrune = 0;
  let requests = 0;

  /** Remove every decision older than the retention, a page at a time; returns how many. */
  async function prune(): Promise<number> {
    lastPrune = now();
    if (retentionMs === undefined) return 0;
    const cutoff = `(${now() - retentionMs}`;
    let removed = 0;
    for (;;) {
      // Not counted in requests(): that counts the reads and writes callers make.
      const flat = await redis.zrange(keys.byTime, '-inf', cutoff, 'BYSCORE', 'LIMIT', 0, PRUNE_PAGE, 'WITHSCORES').catch((e: unknown) => Promise.reject(storeError(e)));
      if (flat.length === 0) return removed;
      const args: string[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const [id, d, routeIdx, occ] = JSON.parse(flat[i]!) as Entry;
        const ms = Number(flat[i + 1]);
        // The same counter fields writeBatch incremented for this decision.
        args.push(flat[i]!, id, `${routeIdx}:${d}`, `${routeIdx}:${hourOfDay(ms)}`, `${routeIdx}:${agentBucket(occ)}`);
      }
      removed += Number(await pruneScript([keys.docs, keys.byTime, keys.dtmf, keys.hour, keys.agents, keys.meta], args).catch((e: unknown) => Promise.reject(storeError(e))));
      if (flat.length < PRUNE_PAGE * 2) return removed;
    }
  }
  /** After a write: prune at most once a minute, in the background (a failure is retried by the next one). */
  const maybePrune = () => {
    if (retentionMs !== undefined && now() - lastPrune >= PRUNE_EVERY_MS) prune().catch(() => undefined);
  };

  async function call<T>(fn: () => Promise<T>): Promise<T> {
    requests++;
    try {
      return await fn();
    } catch (err) {
      throw storeError(err);
    }
  }

  function rangeBounds(query?: HeatmapQuery): [string, string] | null {
    if (!query || (query.from === undefined && query.to === undefined)) return null;
    const min = query.from !== undefined ? String(parseTime(query.from, 'from')) : '-inf';
    const max = query.to !== undefined ? `(${parseTime(query.to, 'to')}` : '+inf';
    return [min, max];
  }

  function foldCounters(tally: Tally, hash: Record<string, string>): void {
    for (const [field, value] of Object.entries(hash)) {
      const sep = field.indexOf(':');
      const route = ROUTES[Number(field.slice(0, sep))];
      if (sep < 0 || !route) continue;
      tally.add(field.slice(sep + 1), route, Number(value));
    }
  }

  async function allTimeHeatmap(): Promise<HeatmapData> {
    const results = await call(async () => {
      const res = await redis
        .multi()
        .hgetall(keys.dtmf)
        .hgetall(keys.hour)
        .hgetall(keys.agents)
        .hmget(keys.meta, 'total', 'minMs', 'maxMs')
        .exec();
      if (!res) throw new StoreUnavailableError('embedded decision store: transaction aborted');
      return res.map(([err, value]) => {
        if (err) throw err;
        return value;
      });
    });
    const [dtmfHash, hourHash, agentsHash, meta] = results as [Record<string, string>, Record<string, string>, Record<string, string>, (string | null)[]];
    const total = Number(meta[0] ?? 0);
    if (total === 0) return emptyHeatmap();
    const dtmf = new Tally();
    const hour = new Tally();
    const agents = new Tally();
    foldCounters(dtmf, dtmfHash);
    foldCounters(hour, hourHash);
    foldCounters(agents, agentsHash);
    return {
      total,
      from: meta[1] ? new Date(Number(meta[1])).toISOString() : null,
      to: meta[2] ? new Date(Number(meta[2])).toISOString() : null,
      dtmfByRoute: dtmf.toMatrix(),
      hourByRoute: hour.toMatrix(HOURS),
      agentsByRoute: agentsMatrix(agents),
      overTime: null,
      latency: null, // the all-time counters hold no latency (see HeatmapData.latency)
    };
  }

  async function rangeHeatmap(min: string, max: string, query: HeatmapQuery): Promise<HeatmapData> {
    const flat = await call(() => redis.zrange(keys.byTime, min, max, 'BYSCORE', 'WITHSCORES'));
    if (flat.length === 0) return emptyHeatmapFor(query);
    const plan = timeBucketPlan(query);
    const dtmf = new Tally();
    const hour = new Tally();
    const agents = new Tally();
    const overTime = new Tally();
    const latencies: number[] = [];
    let total = 0;
    let minMs = Infinity;
    let maxMs = -Infinity;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const [, d, routeIdx, occ, latencyMs] = JSON.parse(flat[i]!) as Entry;
      const ms = Number(flat[i + 1]);
      const route = ROUTES[routeIdx];
      if (!route) continue;
      total++;
      if (ms < minMs) minMs = ms;
      if (ms > maxMs) maxMs = ms;
      dtmf.add(d, route);
      hour.add(hourOfDay(ms), route);
      agents.add(agentBucket(occ), route);
      if (plan) overTime.add(new Date(Math.floor(ms / plan.bucketMs) * plan.bucketMs).toISOString(), route);
      if (typeof latencyMs === 'number') latencies.push(latencyMs);
    }
    latencies.sort((a, b) => a - b);
    return {
      total,
      from: new Date(minMs).toISOString(),
      to: new Date(maxMs).toISOString(),
      dtmfByRoute: dtmf.toMatrix(),
      hourByRoute: hour.toMatrix(HOURS),
      agentsByRoute: agentsMatrix(agents),
      overTime: plan ? timeSeries(overTime, plan) : null,
      latency: latencies.length ? { count: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) } : null,
    };
  }

  return {
    kind: 'embedded',

    async init() {
      // Nothing to create (keys appear with the first write); drop what outlived the retention. A store that
      // cannot be reached now must not stop a start (decisions go on; the next write's prune retries).
      await prune().catch(() => undefined);
    },

    prune,

    async writeBatch(docs: readonly DecisionDoc[]): Promise<WriteResult> {
      const result: WriteResult = { written: 0, duplicates: 0, failed: [] };
      const valid: DecisionDoc[] = [];
      const args: string[] = [];
      for (const doc of docs) {
        const invalid = invalidDocReason(doc);
        if (invalid) {
          result.failed.push({ decisionId: String(doc?.decisionId ?? ''), reason: invalid, retryable: false });
          continue;
        }
        const ms = Date.parse(doc.timestamp);
        const routeIdx = ROUTES.indexOf(doc.routing_decision);
        const entry: Entry = [doc.decisionId, doc.dtmf, routeIdx, doc.queue_occupancy, doc.latencyMs];
        valid.push(doc);
        args.push(
          doc.decisionId,
          JSON.stringify(doc),
          String(ms),
          JSON.stringify(entry),
          `${routeIdx}:${doc.dtmf}`,
          `${routeIdx}:${hourOfDay(ms)}`,
          `${routeIdx}:${agentBucket(doc.queue_occupancy)}`,
        );
      }
      if (valid.length === 0) return result;
      const flags = await call(() => writeScript([keys.docs, keys.byTime, keys.dtmf, keys.hour, keys.agents, keys.meta], args));
      for (const flag of flags) {
        if (Number(flag) === 1) result.written++;
        else result.duplicates++;
      }
      maybePrune();
      return result;
    },

    async recordWriteOutcomes(outcomes: readonly WriteOutcome[]): Promise<WriteOutcomesResult> {
      const result: WriteOutcomesResult = { updated: 0, failed: [] };
      if (outcomes.length === 0) return result;
      const args = outcomes.flatMap((o) => [o.decisionId, o.writeStatus, o.writeReason ?? '', o.writtenAt ?? '']);
      const flags = await call(() => outcomesScript([keys.docs], args));
      flags.forEach((flag, i) => {
        const o = outcomes[i]!;
        if (Number(flag) === 1) result.updated++;
        else result.failed.push({ decisionId: o.decisionId, reason: `decision ${o.decisionId} is not stored yet`, retryable: true });
      });
      return result;
    },

    async heatmap(query?: HeatmapQuery): Promise<HeatmapData> {
      const bounds = rangeBounds(query);
      return bounds ? rangeHeatmap(bounds[0], bounds[1], query ?? {}) : allTimeHeatmap();
    },

    async count(query?: HeatmapQuery): Promise<number> {
      const bounds = rangeBounds(query);
      if (!bounds) return Number((await call(() => redis.hget(keys.meta, 'total'))) ?? 0);
      return call(() => redis.zcount(keys.byTime, bounds[0], bounds[1]));
    },

    async getDecision(decisionId: string): Promise<DecisionDoc | null> {
      const raw = await call(() => redis.hget(keys.docs, decisionId));
      return raw ? (JSON.parse(raw) as DecisionDoc) : null;
    },

    requests: () => requests,

    async close() {
      // The Redis connection belongs to the caller.
    },
  };
}
