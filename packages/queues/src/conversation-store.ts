import type { Redis } from 'ioredis';
import { defineScript } from './lua';
import type { Keyspace } from './names';

/**
 * Per-conversation state machine in Redis, one hash per conversation:
 *   state, seq (decision sequence), key (idempotency key of the current decision), updatedAt.
 * Every change is a Lua compare-and-set, so two workers can never both move one conversation.
 * Valid moves are the tutorial's: IDLE->WAITING_DTMF->CHECKING_QUEUE->(ROUTING|IDLE), ROUTING->COMPLETE.
 * A new press (new idempotency key) starts a new decision: seq+1, state IDLE->WAITING_DTMF.
 */

// KEYS[1]=conv  ARGV: key, now, ttl, pressedAt
const BEGIN = `
local cur = redis.call('HMGET', KEYS[1], 'key', 'seq', 'state', 'pressedAt')
if cur[1] == ARGV[1] then
  return {'resume', tonumber(cur[2]), cur[3]}
end
if cur[4] and tonumber(ARGV[4]) < tonumber(cur[4]) then
  return {'stale', tonumber(cur[2]), cur[3]}
end
local seq = (tonumber(cur[2]) or 0) + 1
redis.call('HSET', KEYS[1], 'key', ARGV[1], 'seq', seq, 'state', 'WAITING_DTMF', 'updatedAt', ARGV[2], 'pressedAt', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {'new', seq, cur[3] or 'NONE'}
`;

// KEYS[1]=conv KEYS[2]=decision  ARGV: key, now, ttl, pressedAt
// One round trip for the start of a decision: replay a stored decision, else IDLE/COMPLETE -> WAITING_DTMF
// (a new sequence) -> CHECKING_QUEUE, each move checked against the transition table.
const START = `
local d = redis.call('GET', KEYS[2])
if d then return {'decided', 0, '', d} end
local cur = redis.call('HMGET', KEYS[1], 'key', 'seq', 'state', 'pressedAt')
local seq = tonumber(cur[2]) or 0
local state = cur[3] or 'IDLE'
if cur[1] == ARGV[1] then
  if state == 'WAITING_DTMF' then
    redis.call('HSET', KEYS[1], 'state', 'CHECKING_QUEUE', 'updatedAt', ARGV[2])
    return {'resume', seq, 'WAITING_DTMF', ''}
  end
  if state == 'CHECKING_QUEUE' then return {'resume', seq, state, ''} end
  return {'invalid', seq, state, ''}
end
if cur[4] and tonumber(ARGV[4]) < tonumber(cur[4]) then return {'stale', seq, state, ''} end
seq = seq + 1
redis.call('HSET', KEYS[1], 'key', ARGV[1], 'seq', seq, 'state', 'CHECKING_QUEUE', 'updatedAt', ARGV[2], 'pressedAt', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {'new', seq, state, ''}
`;

// KEYS[1]=conv  ARGV: seq, from, to, now
const ADVANCE = `
local cur = redis.call('HMGET', KEYS[1], 'seq', 'state')
if tonumber(cur[1]) ~= tonumber(ARGV[1]) then return {'superseded', tonumber(cur[1]) or 0, cur[2] or 'NONE'} end
if cur[2] ~= ARGV[2] then return {'invalid', tonumber(cur[1]), cur[2] or 'NONE'} end
redis.call('HSET', KEYS[1], 'state', ARGV[3], 'updatedAt', ARGV[4])
return {'ok', tonumber(cur[1]), ARGV[3]}
`;

// KEYS[1]=conv KEYS[2]=decision  ARGV: seq, now, decisionJson, ttl
const COMMIT = `
local existing = redis.call('GET', KEYS[2])
if existing then return {'exists', existing} end
local cur = redis.call('HMGET', KEYS[1], 'seq', 'state')
if tonumber(cur[1]) ~= tonumber(ARGV[1]) then return {'superseded', tostring(cur[1])} end
if cur[2] ~= 'CHECKING_QUEUE' then return {'invalid', tostring(cur[2])} end
redis.call('HSET', KEYS[1], 'state', 'ROUTING', 'updatedAt', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
return {'ok', ARGV[3]}
`;

/** new: a new decision (seq+1); resume: this key's decision is in progress; stale: a later press already began. */
export type BeginResult = { kind: 'new' | 'resume' | 'stale'; seq: number; state: string };
/**
 * decided: this key already has a decision (replay it); new: a new sequence, now CHECKING_QUEUE;
 * resume: this key's decision was interrupted and is CHECKING_QUEUE again; stale: a later press began;
 * invalid: this key's conversation is in a state it cannot decide from.
 */
export type StartResult<D> =
  | { kind: 'decided'; decision: D }
  | { kind: 'new' | 'resume' | 'stale' | 'invalid'; seq: number; previousState: string };
export type AdvanceResult = { kind: 'ok' | 'superseded' | 'invalid'; seq: number; state: string };
export type CommitResult<D> = { kind: 'ok' | 'exists'; decision: D } | { kind: 'superseded' | 'invalid'; detail: string };

export interface ConversationStore {
  begin(conversationId: string, idempotencyKey: string, pressedAt?: number): Promise<BeginResult>;
  /** begin + WAITING_DTMF -> CHECKING_QUEUE in one atomic step, or the stored decision for this key. */
  startDecision<D>(conversationId: string, idempotencyKey: string, pressedAt?: number): Promise<StartResult<D>>;
  advance(conversationId: string, seq: number, from: string, to: string): Promise<AdvanceResult>;
  /** CHECKING_QUEUE -> ROUTING and store the decision for this key, in one step. */
  commitDecision<D>(conversationId: string, idempotencyKey: string, seq: number, decision: D): Promise<CommitResult<D>>;
  getDecision<D>(idempotencyKey: string): Promise<D | undefined>;
  get(conversationId: string): Promise<{ state: string; seq: number; key: string } | undefined>;
}

export function createConversationStore(redis: Redis, ks: Keyspace, ttlSeconds: number): ConversationStore {
  const begin = defineScript<[string, number, string]>(redis, 'ivrConvBegin', 1, BEGIN);
  const start = defineScript<[string, number, string, string]>(redis, 'ivrConvStart', 2, START);
  const advance = defineScript<[string, number, string]>(redis, 'ivrConvAdvance', 1, ADVANCE);
  const commit = defineScript<[string, string]>(redis, 'ivrConvCommit', 2, COMMIT);
  return {
    async begin(cid, key, pressedAt = Date.now()) {
      const [kind, seq, state] = await begin([ks.conversation(cid)], [key, Date.now(), ttlSeconds, pressedAt]);
      return { kind: kind as BeginResult['kind'], seq, state };
    },
    async startDecision<D>(cid: string, key: string, pressedAt = Date.now()): Promise<StartResult<D>> {
      const [kind, seq, state, decision] = await start([ks.conversation(cid), ks.decision(key)], [key, Date.now(), ttlSeconds, pressedAt]);
      if (kind === 'decided') return { kind, decision: JSON.parse(decision) as D };
      return { kind: kind as 'new' | 'resume' | 'stale' | 'invalid', seq, previousState: state };
    },
    async advance(cid, seq, from, to) {
      const [kind, s, state] = await advance([ks.conversation(cid)], [seq, from, to, Date.now()]);
      return { kind: kind as AdvanceResult['kind'], seq: s, state };
    },
    async commitDecision<D>(cid: string, key: string, seq: number, decision: D): Promise<CommitResult<D>> {
      const [kind, payload] = await commit([ks.conversation(cid), ks.decision(key)], [seq, Date.now(), JSON.stringify(decision), ttlSeconds]);
      if (kind === 'ok' || kind === 'exists') return { kind, decision: JSON.parse(payload) as D };
      return { kind: kind as 'superseded' | 'invalid', detail: payload };
    },
    async getDecision<D>(key: string) {
      const v = await redis.get(ks.decision(key));
      return v ? (JSON.parse(v) as D) : undefined;
    },
    async get(cid) {
      const h = await redis.hgetall(ks.conversation(cid));
      if (!h['state']) return undefined;
      return { state: h['state'], seq: Number(h['seq']), key: h['key'] ?? '' };
    },
  };
}
