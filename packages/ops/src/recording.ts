import { readFile } from 'node:fs/promises';
import type { RecordedEvent } from '@ivr/intake';

/** Parse an NDJSON recording (RECORD_PATH); a bad line is an error naming the file and line. Blank lines are skipped. */
export function parseRecording(text: string, source = 'recording'): RecordedEvent[] {
  const out: RecordedEvent[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new Error(`${source}:${i + 1}: not JSON (${(e as Error).message}); expected one recorded webhook per line`);
    }
    const r = v as Partial<RecordedEvent>;
    if (typeof r !== 'object' || r === null || typeof r.idempotencyKey !== 'string' || r.body === undefined) {
      throw new Error(`${source}:${i + 1}: not a recorded webhook (needs "idempotencyKey" and "body"; written by the receiver when RECORD_PATH is set)`);
    }
    out.push({ receivedAt: String(r.receivedAt ?? ''), idempotencyKey: r.idempotencyKey, ...(r.keySpace === 'body' ? { keySpace: 'body' as const } : {}), ...(r.prefix ? { prefix: r.prefix } : {}), headers: r.headers ?? {}, body: r.body });
  });
  return out;
}

export async function readRecording(path: string): Promise<RecordedEvent[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `recording ${path} does not exist (set RECORD_PATH on the receiver, or run pnpm demo for reports/demo-recording.ndjson)` : `cannot read recording ${path}: ${(e as Error).message}`);
  }
  return parseRecording(text, path);
}
