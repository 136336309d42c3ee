/**
 * Poll until `check` returns a truthy value or `timeoutMs` passes; resolves with the value, or throws naming `what`
 * and the last value seen. A `check` that throws ends the wait with its error (e.g. a process that exited: see
 * `assertRunning`). The one condition-polling helper of tests, chaos and bench: never a sleep instead.
 */
export async function waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs = 10000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(last)})`);
}

/** What `p` rejects with (for asserting on an expected failure); throws when it resolves instead. */
export async function rejectionOf<T = unknown>(p: Promise<unknown>): Promise<T> {
  try {
    await p;
  } catch (err) {
    return err as T;
  }
  throw new Error('expected a rejection');
}

/**
 * The same Redis client whose first `get` answers null, as if it had run just before a peer stored the value: for
 * the interleaving "read (miss), peer stores and unlocks, lock (free)" that a real race produces only sometimes.
 * Every other command, and every later `get`, goes to the real client.
 */
export function readsBeforePeer<T extends object>(redis: T): T {
  let first = true;
  return new Proxy(redis, {
    get(target, prop) {
      if (prop === 'get' && first) {
        return async () => {
          first = false;
          return null;
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
