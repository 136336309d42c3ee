import type { Logger } from '@ivr/core';
import { StoreUnavailableError, type DecisionStore } from './store';

export type InitLogger = Pick<Logger, 'info' | 'warn'>;

export interface BackgroundInitOptions {
  logger: InitLogger;
  /** First retry delay; doubled after each failure up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

export interface InitialisingStore extends DecisionStore {
  /** Resolves once `init()` of the underlying store has succeeded. */
  ready(): Promise<void>;
  isReady(): boolean;
  /** The last init failure's one-line reason, while not ready. */
  lastError(): string | undefined;
}

/**
 * A decision store whose `init()` (index template, index) runs in the background until it succeeds, so a process
 * starts and keeps working while the store is down. Writes wait for it: `writeBatch` makes one init attempt when
 * none has succeeded yet and, if that fails, throws StoreUnavailableError with the reason (the report job fails
 * with it, visibly, and BullMQ retries it). No document is written before the template exists, so Elasticsearch
 * never creates the index with guessed (dynamic) mappings. Reads do not wait.
 */
export function initInBackground(store: DecisionStore, opts: BackgroundInitOptions): InitialisingStore {
  const retryMs = opts.retryMs ?? 1000;
  const maxRetryMs = opts.maxRetryMs ?? 30_000;
  let ready = false;
  let closed = false;
  let error: string | undefined;
  let failures = 0;
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let resolveReady!: () => void;
  const readyPromise = new Promise<void>((r) => (resolveReady = r));

  /** One init attempt; concurrent callers share it. */
  function attempt(): Promise<void> {
    if (ready) return Promise.resolve();
    inFlight ??= store
      .init()
      .then(() => {
        ready = true;
        error = undefined;
        if (timer) clearTimeout(timer);
        opts.logger.info({ store: store.kind, index: store.index, failedAttempts: failures }, 'decision store initialised');
        resolveReady();
      })
      .catch((err: unknown) => {
        failures++;
        error = err instanceof Error ? err.message : String(err);
        throw err;
      })
      .finally(() => (inFlight = undefined));
    return inFlight;
  }

  /** Resolves once the store is initialised (trying now if not); rejects with the reason, retryable, otherwise. */
  async function initialised(): Promise<void> {
    if (ready) return;
    try {
      await attempt();
    } catch {
      throw new StoreUnavailableError(`decision store not initialised yet (index template and index): ${error ?? 'unknown error'}`);
    }
  }

  function loop(): void {
    if (ready || closed) return;
    attempt().catch(() => {
      if (ready || closed) return;
      const delay = Math.min(maxRetryMs, retryMs * 2 ** Math.min(failures - 1, 20));
      opts.logger.warn({ store: store.kind, index: store.index, err: error, failedAttempts: failures, retryInMs: delay }, 'decision store not initialised; retrying');
      timer = setTimeout(loop, delay);
      timer.unref();
    });
  }

  return {
    // Every other method of the port is forwarded as it is (the stores are plain objects of closures).
    ...store,
    async init() {
      loop();
    },
    // Nothing is written before the template and index exist: an Elasticsearch `_bulk` (create or update) against a
    // missing index would create it without the template's mapping.
    async writeBatch(docs) {
      await initialised();
      return store.writeBatch(docs);
    },
    async recordWriteOutcomes(outcomes) {
      await initialised();
      return store.recordWriteOutcomes(outcomes);
    },
    ready: () => readyPromise,
    isReady: () => ready,
    lastError: () => error,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await store.close();
    },
  };
}
