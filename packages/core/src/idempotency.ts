import { createHash } from 'node:crypto';

const KEY_RE = /^[\x21-\x7e]{1,200}$/; // printable ASCII, no spaces

/** JSON with object keys sorted, so two bodies that differ only in key order or spacing hash alike. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function sha256(s: string, encoding: 'hex' | 'base64url' = 'base64url'): string {
  return createHash('sha256').update(s).digest(encoding);
}

/** SHA-256 (base64url) of the canonical body: the one digest both the fingerprint and a hash key derive from. */
export function bodyDigest(body: unknown): string {
  return sha256(canonicalJson(body));
}

/** A short fingerprint of the canonical body, stored with the key to tell a replay from a conflicting reuse. */
export function bodyFingerprint(body: unknown, digest = bodyDigest(body)): string {
  return digest.slice(0, 22);
}

export type KeyResult = { ok: true; key: string; from: 'header' | 'webhook-id' | 'body' | 'hash' } | { ok: false; message: string };

/** First present of: Idempotency-Key header, webhook-id header, body.idempotencyKey, else a hash of the canonical body. */
export function resolveIdempotencyKey(
  headers: { idempotencyKey?: string | undefined; webhookId?: string | undefined },
  body: unknown,
  digest?: string,
): KeyResult {
  const candidates: Array<[string | undefined, 'header' | 'webhook-id' | 'body']> = [
    [headers.idempotencyKey, 'header'],
    [headers.webhookId, 'webhook-id'],
    [typeof body === 'object' && body !== null && !Array.isArray(body) ? bodyKey(body as Record<string, unknown>) : undefined, 'body'],
  ];
  for (const [value, from] of candidates) {
    if (value === undefined) continue;
    if (!KEY_RE.test(value)) {
      return { ok: false, message: `idempotency key (${from}) must be 1-200 printable ASCII characters without spaces` };
    }
    return { ok: true, key: value, from };
  }
  return { ok: true, key: `sha256-${(digest ?? bodyDigest(body)).slice(0, 32)}`, from: 'hash' };
}

function bodyKey(body: Record<string, unknown>): string | undefined {
  const v = body['idempotencyKey'];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : '\u0000'; // a non-string key fails validation with a clear message
}

/** BullMQ job ids cannot contain ':' nor be integers; map any key to a safe, stable job id. */
export function jobIdForKey(key: string): string {
  return /^[A-Za-z0-9._~-]{1,100}$/.test(key) && !/^\d+$/.test(key) ? key : `k-${sha256(key, 'hex').slice(0, 40)}`;
}

/** Deterministic decision id: a re-run of the same event yields the same id (and the same store document). */
export function decisionIdFor(key: string): string {
  return `d-${sha256(key, 'hex').slice(0, 24)}`;
}
