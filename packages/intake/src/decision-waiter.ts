import type { Redis } from 'ioredis';
import type { Keyspace } from '@ivr/queue-contract';

export interface DecisionWaiter<A> {
  /** Resolve with the decision for `key` once it is made, or undefined after `timeoutMs`. */
  wait(key: string, timeoutMs: number): Promise<A | undefined>;
  close(): Promise<void>;
}

/**
 * Lets an HTTP request hold its answer until the decide worker has decided (`Prefer: wait=N`).
 * One pattern subscription per process (made on first use) fans decisions out to local waiters; the
 * stored decision is read after registering, so a decision made before the wait began is not missed.
 */
export function createDecisionWaiter<A>(opts: {
  subscriber: Redis;
  ks: Keyspace;
  /** Read a decision already made (the stored record), mapped to the answer. */
  lookup: (key: string) => Promise<A | undefined>;
}): DecisionWaiter<A> {
  const waiters = new Map<string, Set<(a: A) => void>>();
  const prefix = opts.ks.decisionChannel('');
  let subscribed: Promise<unknown> | undefined;

  opts.subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
    const set = waiters.get(channel.slice(prefix.length));
    if (!set) return;
    const answer = JSON.parse(message) as A;
    for (const fn of set) fn(answer);
  });

  return {
    async wait(key, timeoutMs) {
      subscribed ??= opts.subscriber.psubscribe(`${prefix}*`);
      await subscribed;
      let done!: (a: A | undefined) => void;
      const result = new Promise<A | undefined>((r) => (done = r));
      const set = waiters.get(key) ?? new Set();
      waiters.set(key, set);
      set.add(done);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      opts.lookup(key).then((a) => a !== undefined && done(a), () => undefined);
      try {
        return await result;
      } finally {
        clearTimeout(timer);
        set.delete(done);
        if (!set.size) waiters.delete(key);
      }
    },
    async close() {
      if (subscribed) await opts.subscriber.punsubscribe().catch(() => undefined);
    },
  };
}
