import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { IvrEventJob } from '@ivr/queue-contract';

/** Headers kept in a recording: what says where an event came from. Credentials and signatures are never kept. */
export const RECORDED_HEADERS = ['content-type', 'idempotency-key', 'webhook-id', 'webhook-timestamp', 'user-agent', 'inin-correlation-id', 'x-request-id'] as const;

/** One line of a recording (NDJSON): what `pnpm ivr replay` sends again. */
export interface RecordedEvent {
  /** When the receiver accepted it (ISO 8601). */
  receivedAt: string;
  idempotencyKey: string;
  /** `body` when the receiver derived the key from the body (scopedKey); absent for a sender's key. */
  keySpace?: 'body';
  /** QUEUE_PREFIX of the receiver that recorded it: where `--what-if` finds the decision. */
  prefix?: string;
  headers: Record<string, string>;
  /** The webhook body as JSON (re-serialised on one line). */
  body: unknown;
}

export interface Recorder {
  /** Queue one accepted webhook for writing; never blocks the request. */
  record(raw: string, job: Pick<IvrEventJob, 'idempotencyKey' | 'receivedAt' | 'keySpace'>, headers?: Headers): void;
  /** Write everything queued so far. */
  flush(): Promise<void>;
  /** Flush and close the file. */
  close(): Promise<void>;
  stats(): { recorded: number; written: number; errors: number };
}

export interface RecorderOptions {
  /** QUEUE_PREFIX written on each line. */
  prefix?: string;
  /** Longest time a line waits in memory before it is written, ms. */
  flushMs?: number;
  /** Write as soon as this many bytes wait. */
  maxBufferBytes?: number;
  logger?: { error(obj: object, msg?: string): void };
}

/** The request headers worth keeping with an event (RECORDED_HEADERS; never credentials): recordings, the call journey. */
export function keptHeaders(headers: Headers | undefined): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const h of RECORDED_HEADERS) {
    const v = headers?.get(h);
    if (v !== null && v !== undefined) kept[h] = v;
  }
  return kept;
}

export function recordedLine(raw: string, job: Pick<IvrEventJob, 'idempotencyKey' | 'receivedAt' | 'keySpace'>, headers: Headers | undefined, prefix?: string): string {
  const kept = keptHeaders(headers);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    body = raw; // the receiver only accepts JSON, so this is not expected; keep the text rather than lose the event
  }
  const line: RecordedEvent = { receivedAt: new Date(job.receivedAt).toISOString(), idempotencyKey: job.idempotencyKey, ...(job.keySpace === 'body' ? { keySpace: 'body' as const } : {}), ...(prefix ? { prefix } : {}), headers: kept, body };
  return `${JSON.stringify(line)}\n`;
}

/**
 * Appends accepted webhooks to an NDJSON file (RECORD_PATH). Lines are buffered and written in one
 * `write` per flush (every `flushMs`, or sooner when `maxBufferBytes` wait), in order, on a file opened
 * for append, so several receiver processes can share one file without interleaving inside a line.
 */
export function createRecorder(path: string, opts: RecorderOptions = {}): Recorder {
  const flushMs = opts.flushMs ?? 200;
  const maxBuffer = opts.maxBufferBytes ?? 256 * 1024;
  let buffer: string[] = [];
  let bufferedBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  let file: Promise<FileHandle> | undefined;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  const stats = { recorded: 0, written: 0, errors: 0 };

  const handle = () =>
    (file ??= mkdir(dirname(path), { recursive: true }).then(() => open(path, 'a')));

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffer.length) {
      const lines = buffer;
      buffer = [];
      bufferedBytes = 0;
      chain = chain.then(async () => {
        try {
          await (await handle()).appendFile(lines.join(''));
          stats.written += lines.length;
        } catch (e) {
          stats.errors += lines.length;
          opts.logger?.error({ path, lines: lines.length, err: (e as Error).message }, 'recording not written (check RECORD_PATH is writable)');
        }
      });
    }
    return chain;
  }

  return {
    record(raw, job, headers) {
      if (closed) return;
      const line = recordedLine(raw, job, headers, opts.prefix);
      buffer.push(line);
      bufferedBytes += line.length;
      stats.recorded++;
      if (bufferedBytes >= maxBuffer) void flush();
      else timer ??= setTimeout(() => void flush(), flushMs);
    },
    flush,
    async close() {
      closed = true;
      await flush();
      if (file) await (await file.catch(() => undefined))?.close();
    },
    stats: () => ({ ...stats }),
  };
}
