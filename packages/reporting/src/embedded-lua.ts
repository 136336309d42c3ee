/** The embedded store's Lua scripts (one request per batch, per outcome batch, per prune page). */

/**
 * Store one batch atomically and idempotently.
 * KEYS: docs (hash id → JSON), byTime (zset ms → entry), dtmf/hour/agents counters (hash "routeIdx:value" → n), meta (hash),
 * wait (hash: "n|w|s|r" + hour + dtmf → decisions, with a figure, sum of figures (s), routed by the wait rule).
 * ARGV: 10 per doc: id, doc JSON, ms, zset entry, dtmf field, hour field, agents field, wait cell (hour + dtmf),
 * estimatedWaitS ('' when none), routed by the wait rule ('1' | '0').
 * Returns one 1 (new) / 0 (already stored) per doc, in order.
 */
export const WRITE_BATCH_LUA = `
local res = {}
local n = #ARGV / 10
for i = 0, n - 1 do
  local b = i * 10
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
    local cell = ARGV[b + 8]
    redis.call('HINCRBY', KEYS[7], 'n' .. cell, 1)
    if ARGV[b + 9] ~= '' then
      redis.call('HINCRBY', KEYS[7], 'w' .. cell, 1)
      redis.call('HINCRBYFLOAT', KEYS[7], 's' .. cell, ARGV[b + 9])
    end
    if ARGV[b + 10] == '1' then redis.call('HINCRBY', KEYS[7], 'r' .. cell, 1) end
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
export const RECORD_OUTCOMES_LUA = `
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
 * decision once. KEYS as WRITE_BATCH_LUA; ARGV: 8 per decision: zset entry, id, dtmf field, hour field, agents field,
 * wait cell ('' for an entry written before the wait counters: it never counted there), estimatedWaitS ('' none),
 * routed by the wait rule ('1' | '0').
 * Returns how many were removed. meta minMs moves to the oldest decision kept.
 */
export const PRUNE_LUA = `
local removed = 0
local function dec(key, field)
  if redis.call('HINCRBY', key, field, -1) <= 0 then
    redis.call('HDEL', key, field)
    return true
  end
  return false
end
for i = 0, #ARGV / 8 - 1 do
  local b = i * 8
  if redis.call('ZREM', KEYS[2], ARGV[b + 1]) == 1 then
    redis.call('HDEL', KEYS[1], ARGV[b + 2])
    for k = 3, 5 do dec(KEYS[k], ARGV[b + k]) end
    local cell = ARGV[b + 6]
    if cell ~= '' then
      dec(KEYS[7], 'n' .. cell)
      if ARGV[b + 7] ~= '' then
        if dec(KEYS[7], 'w' .. cell) then
          redis.call('HDEL', KEYS[7], 's' .. cell)
        else
          redis.call('HINCRBYFLOAT', KEYS[7], 's' .. cell, '-' .. ARGV[b + 7])
        end
      end
      if ARGV[b + 8] == '1' then dec(KEYS[7], 'r' .. cell) end
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
