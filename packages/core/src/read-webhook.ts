import type { DtmfEvent } from './types';
import { bodyDigest, resolveIdempotencyKey, type KeyResult } from './idempotency';
import { jsonDepth, parseWebhookBody } from './webhook';

/** Deepest JSON nesting a webhook body may have: deeper is refused before the payload is looked at. */
export const MAX_WEBHOOK_DEPTH = 32;

export type ResolvedKey = Extract<KeyResult, { ok: true }>;

export type ReadWebhookResult =
  /** A key press to decide: the normalised event, the parsed body, its canonical digest and the idempotency key. */
  | { kind: 'event'; event: DtmfEvent; body: unknown; digest: string; key: ResolvedKey }
  /** A valid payload without DTMF (the tutorial answers 200 skipped). */
  | { kind: 'no_dtmf' }
  /** Not acceptable, with the code and the one-line reason for the 400. */
  | { kind: 'invalid'; code: 'invalid_json' | 'too_deep' | 'invalid_payload' | 'invalid_idempotency_key'; message: string };

/**
 * A webhook's raw body text and key headers, read into what the receiver stores: JSON, nesting at most `maxDepth`,
 * one of the two accepted payloads (`parseWebhookBody`), and its idempotency key (`resolveIdempotencyKey`; the body's
 * canonical digest is computed once, for the fingerprint and a derived key alike).
 */
export function readWebhook(
  raw: string,
  headers: { idempotencyKey?: string | undefined; webhookId?: string | undefined },
  maxDepth = MAX_WEBHOOK_DEPTH,
): ReadWebhookResult {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    return { kind: 'invalid', code: 'invalid_json', message: `body is not valid JSON: ${(e as Error).message.slice(0, 200)}` };
  }
  if (jsonDepth(body, maxDepth) > maxDepth) return { kind: 'invalid', code: 'too_deep', message: `JSON nested deeper than ${maxDepth} levels` };
  const parsed = parseWebhookBody(body);
  if (parsed.kind === 'invalid') return { kind: 'invalid', code: 'invalid_payload', message: parsed.message };
  if (parsed.kind === 'no_dtmf') return { kind: 'no_dtmf' };
  const digest = bodyDigest(body);
  const key = resolveIdempotencyKey(headers, body, digest);
  if (!key.ok) return { kind: 'invalid', code: 'invalid_idempotency_key', message: key.message };
  return { kind: 'event', event: parsed.event, body, digest, key };
}
