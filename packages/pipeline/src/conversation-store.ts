import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { VALID_TRANSITIONS, type FlowState } from '@ivr/core';
import { defineScript } from '@ivr/redis';
import type { Keyspace } from '@ivr/queue-contract';

/**
 * Per-conversation state machine in Redis, one hash per conversation:
 *   state, seq (decision sequence), key (idempotency key of the current decision), updatedAt, pressedAt.
 * Every change is a Lua compare-and-set, so two workers can never both move one conversation.
 * The moves allowed are those of the ONE transition table, `VALID_TRANSITIONS` in @ivr/core: the scripts below are
 * generated from it (`transitionLua`), so a move removed from the table is refused by Redis.
 * A new press (new idempotency key) starts a new decision whatever the state of the previous one: seq+1 from IDLE,
 * then IDLE -> WAITING_DTMF -> CHECKING_QUEUE, each move checked against the table.
 */

export type TransitionTable = Readonly<Record<FlowState, readonly FlowState[]>>;

/**
 * The Lua prelude every state-changing script starts with: the table as a Lua table and `can(from, to)`.
 * State names are constants of the table (checked: capitals and underscores only), never client data.
 */
export function transitionLua(table: TransitionTable): string {
  const rows = Object.entries(table).map(([from, tos]) => {
    for (const name of [from, ...tos]) if (!/^[A-Z_]+$/.test(name)) throw new Error(`state name ${JSON.stringify(name)} is not CAPITALS_AND_UNDERSCORES`);
    return `${from}={${tos.map((to) => `${to}=true`).join(',')}}`;
  });
  return `local T = {${rows.join(', ')}}
local function can(from, to)
  local allowed = from and T[from]
  return type(allowed) == 'table' and allowed[to] == true
end
`;
}

// KEYS[1]=conv KEYS[2]=decision  ARGV: key, now, ttl, pressedAt
// One round trip for the start of a decision: replay a stored decision, else resume this key's decision
// (WAITING_DTMF -> CHECKING_QUEUE), else a new sequence: IDLE -> WAITING_DTMF -> CHECKING_QUEUE.
const START = `
local d = redis.call('GET', KEYS[2])
if d then return {'decided', 0, '', d} end
local cur = redis.call('HMGET', KEYS[1], 'key', 'seq', 'state', 'pressedAt')
local seq = tonumber(cur[2]) or 0
local state = cur[3] or 'IDLE'
if cur[1] == ARGV[1] then
  if state == 'CHECKING_QUEUE' then return {'resume', seq, state, ''} end
  if can(state, 'CHECKING_QUEUE') then
    redis.call('HSET', KEYS[1], 'state', 'CHECKING_QUEUE', 'updatedAt', ARGV[2])
    return {'resume', seq, state, ''}
  end
  return {'invalid', seq, state, ''}
end
if cur[4] and tonumber(ARGV[4]) < tonumber(cur[4]) then return {'stale', seq, state, ''} end
if not (can('IDLE', 'WAITING_DTMF') and can('WAITING_DTMF', 'CHECKING_QUEUE')) then return {'invalid', seq, state, ''} end
seq = seq + 1
redis.call('HSET', KEYS[1], 'key', ARGV[1], 'seq', seq, 'state', 'CHECKING_QUEUE', 'updatedAt', ARGV[2], 'pressedAt', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {'new', seq, state, ''}
`;

// KEYS[1]=conv KEYS[2]=decision  ARGV: seq, now, decisionJson, ttl
// CHECKING_QUEUE -> ROUTING and the decision stored, in one step.
const COMMIT = `
local existing = redis.call('GET', KEYS[2])
if existing then return {'exists', existing} end
local cur = redis.call('HMGET', KEYS[1], 'seq', 'state')
if tonumber(cur[1]) ~= tonumber(ARGV[1]) then return {'superseded', tostring(cur[1])} end
if not can(cur[2], 'ROUTING') then return {'invalid', tostring(cur[2])} end
redis.call('HSET', KEYS[1], 'state', 'ROUTING', 'updatedAt', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
return {'ok', ARGV[3]}
`;

/**
 * A script generated from `table`: the table prelude, then `body`. Its command name carries a hash of the text,
 * so two tables never share a name on one connection (ioredis defines a command once per name).
 */
export function stateScript(table: TransitionTable, name: string, body: string): { name: string; lua: string } {
  const lua = transitionLua(table) + body;
  return { name: `${name}_${createHash('sha1').update(lua).digest('hex').slice(0, 10)}`, lua };
}

/**
 * decided: this key already has a decision (replay it); new: a new sequence, now CHECKING_QUEUE;
 * resume: this key's decision was interrupted and is CHECKING_QUEUE again; stale: a later press began;
 * invalid: this key's conversation is in a state it cannot decide from.
 */
export type StartResult<D> =
  | { kind: 'decided'; decision: D }
  | { kind: 'new' | 'resume' | 'stale' | 'invalid'; seq: number; previousState: string };
export type CommitResult<D> = { kind: 'ok' | 'exists'; decision: D } | { kind: 'superseded' | 'invalid'; detail: string };

/** START's script (the transition prelude + START): also run by the in-call path inside the ingest (inCallStartScript). */
export function startScript(transitions: TransitionTable = VALID_TRANSITIONS): { name: string; lua: string } {
  return stateScript(transitions, 'ivrConvStart', START);
}

/** START's keys and arguments for one event (`key` its scopedKey; `pressedAt` its receivedAt). */
export function startCall(ks: Keyspace, ttlSeconds: number, cid: string, key: string, pressedAt: number, now = Date.now()): { keys: string[]; args: Array<string | number> } {
  return { keys: [ks.conversation(cid), ks.decision(key)], args: [key, now, ttlSeconds, pressedAt] };
}

/** START's reply as a StartResult. */
export function parseStartReply<D>(reply: unknown): StartResult<D> {
  if (!Array.isArray(reply) || reply.length < 4) throw new Error(`the decision start replied ${JSON.stringify(reply)}`);
  const [kind, seq, state, decision] = reply as [string, number, string, string];
  if (kind === 'decided') return { kind, decision: JSON.parse(decision) as D };
  if (kind !== 'new' && kind !== 'resume' && kind !== 'stale' && kind !== 'invalid') throw new Error(`the decision start replied kind ${String(kind)}`);
  return { kind, seq: Number(seq), previousState: state };
}

export interface ConversationStore {
  /** A new sequence (or this key's, resumed) moved to CHECKING_QUEUE in one atomic step, or the stored decision for this key. */
  startDecision<D>(conversationId: string, idempotencyKey: string, pressedAt?: number): Promise<StartResult<D>>;
  /** CHECKING_QUEUE -> ROUTING and store the decision for this key, in one step. */
  commitDecision<D>(conversationId: string, idempotencyKey: string, seq: number, decision: D): Promise<CommitResult<D>>;
  getDecision<D>(idempotencyKey: string): Promise<D | undefined>;
  get(conversationId: string): Promise<{ state: string; seq: number; key: string } | undefined>;
}

/**
 * The store. `transitions` is the table its scripts are generated from: VALID_TRANSITIONS, always, in production
 * (a test passes a changed copy to see the scripts follow the table).
 */
export function createConversationStore(redis: Redis, ks: Keyspace, ttlSeconds: number, transitions: TransitionTable = VALID_TRANSITIONS): ConversationStore {
  const startLua = startScript(transitions);
  const commitScript = stateScript(transitions, 'ivrConvCommit', COMMIT);
  const start = defineScript<unknown>(redis, startLua.name, 2, startLua.lua);
  const commit = defineScript<[string, string]>(redis, commitScript.name, 2, commitScript.lua);
  return {
    async startDecision<D>(cid: string, key: string, pressedAt = Date.now()): Promise<StartResult<D>> {
      const call = startCall(ks, ttlSeconds, cid, key, pressedAt);
      return parseStartReply<D>(await start(call.keys, call.args));
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
