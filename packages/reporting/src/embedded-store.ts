import type { Redis } from 'ioredis';
import { ROUTES, readStoredDecision } from '@ivr/core';
import { defineScript } from '@ivr/redis';
import { agentBucket, hourOfDay, invalidDocReason } from './matrix';
import { entryOf, entryWait, heatmapFromCounters, heatmapFromEntries, rangeBounds, type Entry } from './embedded-read';
import { PRUNE_LUA, RECORD_OUTCOMES_LUA, WRITE_BATCH_LUA } from './embedded-lua';
import { StoreUnavailableError, type DecisionDoc, type DecisionStore, type HeatmapData, type HeatmapQuery, type WriteOutcome, type WriteOutcomesResult, type WriteResult } from './store';

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

/**
 * The embedded decision store, in Redis under `${prefix}:ivr:store:*`.
 * - docs: hash decisionId → document JSON (HSETNX = idempotency)
 * - by-time: sorted set, score = timestamp ms, member = compact entry → exact range queries
 * - c:dtmf / c:hour / c:agents / c:wait / meta: all-time counters → O(1) heatmap when no range is given
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
    wait: `${base}:c:wait`,
  };
  const writeScript = defineScript<number[]>(redis, 'ivrDecisionStoreWriteBatch', 7, WRITE_BATCH_LUA);
  const outcomesScript = defineScript<number[]>(redis, 'ivrDecisionStoreRecordOutcomes', 1, RECORD_OUTCOMES_LUA);
  const pruneScript = defineScript<number>(redis, 'ivrDecisionStorePrune', 7, PRUNE_LUA);
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
        const entry = JSON.parse(flat[i]!) as Entry;
        const [id, d, routeIdx, occ] = entry;
        const ms = Number(flat[i + 1]);
        const w = entryWait(entry, ms);
        // The same counter fields writeBatch incremented for this decision.
        args.push(flat[i]!, id, `${routeIdx}:${d}`, `${routeIdx}:${hourOfDay(ms)}`, `${routeIdx}:${agentBucket(occ)}`, w?.cell ?? '', w?.waitS === null || !w ? '' : String(w.waitS), w?.byWait ? '1' : '0');
      }
      removed += Number(await pruneScript([keys.docs, keys.byTime, keys.dtmf, keys.hour, keys.agents, keys.meta, keys.wait], args).catch((e: unknown) => Promise.reject(storeError(e))));
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

  async function allTimeHeatmap(): Promise<HeatmapData> {
    const results = await call(async () => {
      const res = await redis
        .multi()
        .hgetall(keys.dtmf)
        .hgetall(keys.hour)
        .hgetall(keys.agents)
        .hmget(keys.meta, 'total', 'minMs', 'maxMs')
        .hgetall(keys.wait)
        .exec();
      if (!res) throw new StoreUnavailableError('embedded decision store: transaction aborted');
      return res.map(([err, value]) => {
        if (err) throw err;
        return value;
      });
    });
    const [dtmf, hour, agents, meta, wait] = results as [Record<string, string>, Record<string, string>, Record<string, string>, (string | null)[], Record<string, string>];
    return heatmapFromCounters({ dtmf, hour, agents, wait }, meta);
  }

  async function rangeHeatmap(min: string, max: string, query: HeatmapQuery): Promise<HeatmapData> {
    const flat = await call(() => redis.zrange(keys.byTime, min, max, 'BYSCORE', 'WITHSCORES'));
    return heatmapFromEntries(flat, query);
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
        const entry = entryOf(doc, routeIdx);
        valid.push(doc);
        args.push(
          doc.decisionId,
          JSON.stringify(doc),
          String(ms),
          JSON.stringify(entry),
          `${routeIdx}:${doc.dtmf}`,
          `${routeIdx}:${hourOfDay(ms)}`,
          `${routeIdx}:${agentBucket(doc.queue_occupancy)}`,
          `${hourOfDay(ms)}${doc.dtmf}`,
          doc.estimatedWaitS === undefined ? '' : String(doc.estimatedWaitS),
          entry[6] === 1 ? '1' : '0',
        );
      }
      if (valid.length === 0) return result;
      const flags = await call(() => writeScript([keys.docs, keys.byTime, keys.dtmf, keys.hour, keys.agents, keys.meta, keys.wait], args));
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
      return raw ? readStoredDecision(JSON.parse(raw) as DecisionDoc) : null; // a legacy `live` source reads as `poll`
    },

    requests: () => requests,

    async close() {
      // The Redis connection belongs to the caller.
    },
  };
}
