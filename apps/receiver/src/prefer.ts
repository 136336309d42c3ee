/** The `wait` preference of an RFC 7240 `Prefer` header, in ms, capped at `maxMs`; 0 when absent or invalid. */
export function preferWaitMs(header: string | undefined, maxMs = 10_000): number {
  if (!header) return 0;
  const m = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,6}(?:\.\d+)?)"?/i.exec(header);
  if (!m) return 0;
  return Math.min(Math.round(Number(m[1]) * 1000), maxMs);
}

/** The Node response under a Hono context (`c.env.outgoing` with @hono/node-server), if there is one. */
interface NodeResponseLike {
  once(event: 'finish' | 'close', fn: () => void): unknown;
  writableFinished?: boolean;
}

/**
 * Run `fn` once the response has actually been delivered: Node's ServerResponse 'finish' (the whole answer handed
 * to the operating system for the client). A client that went away first never gets 'finish' ('close' only), so
 * nothing runs: with WRITE_BACK=unanswered its decision is then written as attributes (when in doubt, write).
 * Without a Node response (app.request() in tests) nothing runs either. `notDelivered` runs in both cases instead
 * (the client went away, or no Node response). Limit: a client that hangs up in the very
 * instant the answer is handed to the OS (before the server saw the close) counts as answered: 'finish' is the last
 * signal Node gives about delivery.
 */
export function afterDelivery(env: unknown, fn: () => void, notDelivered?: () => void): void {
  const outgoing = (env as { outgoing?: NodeResponseLike } | undefined)?.outgoing;
  if (!outgoing || typeof outgoing.once !== 'function') {
    notDelivered?.();
    return;
  }
  let finished = false;
  outgoing.once('finish', () => {
    finished = true;
    fn();
  });
  // 'close' follows 'finish' on a delivered answer; alone, the client went away first.
  if (notDelivered) outgoing.once('close', () => finished || notDelivered());
}
