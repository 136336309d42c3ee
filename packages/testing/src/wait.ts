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
