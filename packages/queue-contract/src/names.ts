import { sha256 } from '@ivr/core';

export const QUEUE_NAMES = {
  events: 'ivr-events',
  writes: 'genesys-writes',
  reports: 'decision-reports',
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];
export const ALL_QUEUES: QueueName[] = Object.values(QUEUE_NAMES);

/**
 * A client-chosen string (idempotency key, conversation id, queue id) as the last part of a Redis key name:
 * 22 base64url characters (132 bits) of its SHA-256, so the name is short, has no `:` separator and no `{}`
 * hash tag (Redis Cluster would otherwise slot the key by the client's braces, not QUEUE_PREFIX's tag).
 */
export function nameOf(clientString: string): string {
  return sha256(clientString).slice(0, 22);
}

/**
 * Keys of our own (not BullMQ's) live under `{prefix}:ivr:*` so one prefix namespaces a whole deployment or test.
 * Client strings never appear in a key name as they are (nameOf); pub/sub channels are not keys and keep them.
 */
export function keyspace(prefix: string) {
  return {
    /** Idempotency record; `hash` is the short digest of the idempotency key (idempotency-store.ts). */
    idem: (hash: string) => `${prefix}:ivr:i:${hash}`,
    conversation: (cid: string) => `${prefix}:ivr:conv:${nameOf(cid)}`,
    /** `key` is the event's scopedKey (a client key as sent, a derived one with its space). */
    decision: (key: string) => `${prefix}:ivr:decision:${nameOf(key)}`,
    /** SCAN/KEYS pattern matching every decision record (the key part is hashed, so decision('*') is not one). */
    decisionPattern: `${prefix}:ivr:decision:*`,
    decisionChannel: (key: string) => `${prefix}:ivr:decided:${key}`,
    applyLock: (cid: string) => `${prefix}:ivr:applylock:${nameOf(cid)}`,
    /** Set by a receiver once the synchronous answer of this decision was delivered (WRITE_BACK=unanswered). */
    answered: (decisionId: string) => `${prefix}:ivr:answered:${decisionId}`,
    /** The report-batch job that carries this decision's report (the receiver's in-call decisions: report-sender.ts). */
    reportBatch: (decisionId: string) => `${prefix}:ivr:rbatch:${nameOf(decisionId)}`,
    /**
     * Events held for an in-call decision (@ivr/intake held.ts): a sorted set of their job ids by due time (ms, the
     * caller's deadline), and a hash of their job data by job id. A held event has no BullMQ job unless its receiver
     * does not decide it: then it (or, once due, a worker's sweep) adds the job.
     */
    held: `${prefix}:ivr:held`,
    heldEvents: `${prefix}:ivr:heldev`,
    occupancy: (queueId: string) => `${prefix}:ivr:occ:${nameOf(queueId)}`,
    occupancyLock: (queueId: string) => `${prefix}:ivr:occlock:${nameOf(queueId)}`,
    estimatedWait: (queueId: string) => `${prefix}:ivr:ewt:${nameOf(queueId)}`,
    estimatedWaitLock: (queueId: string) => `${prefix}:ivr:ewtlock:${nameOf(queueId)}`,
    /** The notification channel holder's lease (occupancy-push.ts): one key, so any hash tag in the prefix is safe. */
    occupancyPushLeader: `${prefix}:ivr:occpush:leader`,
    root: `${prefix}:ivr:`,
  };
}
export type Keyspace = ReturnType<typeof keyspace>;
