import { StoreUnavailableError, type DecisionStore } from '@ivr/reporting';
import type { DashboardLogger } from './app';

/**
 * The decision store as the dashboard uses it: `init()` (index template for Elasticsearch) is retried in the
 * background instead of stopping the process, and every read first makes sure init went through, failing with
 * StoreUnavailableError (the reason included) until it has. Pages show "store unavailable" and recover by themselves.
 */
export function guardStore(store: DecisionStore, opts: { logger?: DashboardLogger; retryMs?: number; now?: () => number } = {}): DecisionStore & { ready(): boolean } {
  const now = opts.now ?? Date.now;
  const retryMs = opts.retryMs ?? 5000;
  let ready = false;
  let lastTry = -Infinity;
  let lastError = 'not initialised yet';
  let pending: Promise<void> | undefined;

  const attempt = (): Promise<void> =>
    (pending ??= store
      .init()
      .then(() => {
        if (!ready) opts.logger?.info({ store: store.kind }, 'decision store ready');
        ready = true;
      })
      .catch((e: unknown) => {
        lastError = e instanceof Error ? e.message : String(e);
        opts.logger?.warn({ store: store.kind, reason: lastError }, 'decision store unavailable; the dashboard keeps serving');
      })
      .finally(() => {
        lastTry = now();
        pending = undefined;
      }));

  // Pages never wait for a retry (an unreachable Elasticsearch can take seconds to refuse): a new attempt starts in
  // the background, the request answers "unavailable" at once with the last reason.
  async function ensure(): Promise<void> {
    if (ready) return;
    if (!pending && now() - lastTry >= retryMs) void attempt();
    throw new StoreUnavailableError(`decision store (${store.kind}) not ready: ${lastError}`);
  }

  return {
    kind: store.kind,
    ...(store.index !== undefined ? { index: store.index } : {}),
    ready: () => ready,
    init: () => attempt(),
    writeBatch: async (docs) => (await ensure(), store.writeBatch(docs)),
    heatmap: async (q) => (await ensure(), store.heatmap(q)),
    count: async (q) => (await ensure(), store.count(q)),
    getDecision: async (id) => (await ensure(), store.getDecision(id)),
    recordWriteOutcomes: async (outcomes) => (await ensure(), store.recordWriteOutcomes(outcomes)),
    requests: () => store.requests(),
    close: () => store.close(),
  };
}
