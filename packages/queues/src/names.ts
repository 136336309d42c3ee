export const QUEUE_NAMES = {
  events: 'ivr-events',
  writes: 'genesys-writes',
  reports: 'decision-reports',
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];
export const ALL_QUEUES: QueueName[] = Object.values(QUEUE_NAMES);

/** Keys of our own (not BullMQ's) live under `{prefix}:ivr:*` so one prefix namespaces a whole deployment or test. */
export function keyspace(prefix: string) {
  return {
    /** Idempotency record; `hash` is the short digest of the idempotency key (idempotency-store.ts). */
    idem: (hash: string) => `${prefix}:ivr:i:${hash}`,
    conversation: (cid: string) => `${prefix}:ivr:conv:${cid}`,
    decision: (key: string) => `${prefix}:ivr:decision:${key}`,
    decisionChannel: (key: string) => `${prefix}:ivr:decided:${key}`,
    applyLock: (cid: string) => `${prefix}:ivr:applylock:${cid}`,
    /** Set by a receiver once the synchronous answer of this decision was delivered (WRITE_BACK=unanswered). */
    answered: (decisionId: string) => `${prefix}:ivr:answered:${decisionId}`,
    occupancy: (queueId: string) => `${prefix}:ivr:occ:${queueId}`,
    occupancyLock: (queueId: string) => `${prefix}:ivr:occlock:${queueId}`,
    root: `${prefix}:ivr:`,
  };
}
export type Keyspace = ReturnType<typeof keyspace>;
