import * as crypto from 'node:crypto';

const KEY_RE = /^[\x21-\x7e]{1,200}$/; // printable ASCII, no spaces

/** JSON with object keys sorted, so two bodies that differ only in key order or spacing hash alike. */
export function canonicalJson(value: unknown): string {
  // Loops and string appends instead of map/join/template per entry: the same text, ~25% less time and garbage
  // per webhook (bench/lever figures in docs/performance.md); the test pins the output to the map/join form.
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) out += `${i ? ',' : ''}${JSON.stringify(keys[i])}:${canonicalJson(obj[keys[i]!])}`;
  return `${out}}`;
}

/**
 * SHA-256 of a UTF-8 string, one shot: `crypto.hash` (Node ≥ 20.12) costs about half of
 * `createHash().update().digest()` for the short strings hashed per webhook (no Hash object; measured 2.5-3.5 µs
 * against 6-8 µs on the bench box). Same bytes either way; older Node falls back to createHash.
 * https://nodejs.org/api/crypto.html#cryptohashalgorithm-data-outputencoding
 */
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: string) => string | Buffer }).hash;

export function sha256(s: string, encoding: 'hex' | 'base64url' = 'base64url'): string {
  return oneShot ? (oneShot('sha256', s, encoding) as string) : crypto.createHash('sha256').update(s).digest(encoding);
}

/** SHA-256 of a UTF-8 string as bytes (see sha256). */
export function sha256Bytes(s: string): Buffer {
  return oneShot ? (oneShot('sha256', s, 'buffer') as Buffer) : crypto.createHash('sha256').update(s).digest();
}

/** SHA-256 (base64url) of the canonical body: the one digest both the fingerprint and a hash key derive from. */
export function bodyDigest(body: unknown): string {
  return sha256(canonicalJson(body));
}

/** A short fingerprint of the canonical body, stored with the key to tell a replay from a conflicting reuse. */
export function bodyFingerprint(body: unknown, digest = bodyDigest(body)): string {
  return digest.slice(0, 22);
}

/**
 * Where an idempotency key comes from: `client` = chosen by the sender (header or body), `body` = derived by the
 * receiver from the body's hash (`sha256-…`). The two are separate name spaces: a client key that happens to look
 * like a derived one is a different event (it can never pre-empt a keyless payload).
 */
export type KeySpace = 'client' | 'body';

export type KeyResult =
  | { ok: true; key: string; from: 'header' | 'webhook-id' | 'body' | 'hash'; space: KeySpace }
  | { ok: false; message: string };

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
    return { ok: true, key: value, from, space: 'client' };
  }
  return { ok: true, key: `sha256-${(digest ?? bodyDigest(body)).slice(0, 32)}`, from: 'hash', space: 'body' };
}

function bodyKey(body: Record<string, unknown>): string | undefined {
  const v = body['idempotencyKey'];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : '\u0000'; // a non-string key fails validation with a clear message
}

/**
 * The one string that identifies an event's key across both spaces, used wherever the key is turned into an
 * id or a Redis name (idempotency record, decision record, decision id, job id). Injective: a client key is
 * 1-200 printable ASCII characters without spaces (resolveIdempotencyKey enforces it), so it is kept as is
 * (existing decisions and tools that look them up by the client's key keep working), and a receiver-derived
 * key is prefixed with `body ` (a space, which no client key can contain). Two distinct (space, key) pairs
 * therefore never give one string, and nothing derived from it can collide across the spaces.
 */
export function scopedKey(key: string, space: KeySpace = 'client'): string {
  return space === 'client' ? key : `body ${key}`;
}

/** The inverse of scopedKey: the key as the sender knows it, and its space. */
export function unscopedKey(scoped: string): { key: string; space: KeySpace } {
  return scoped.startsWith('body ') ? { key: scoped.slice('body '.length), space: 'body' } : { key: scoped, space: 'client' };
}

/** The queue a job id is for; each has its own tag letter so ids of different kinds never meet. */
export type JobKind = 'event' | 'apply' | 'report' | 'outcome' | 'batch';
const JOB_TAG: Record<JobKind, string> = { event: 'E', apply: 'W', report: 'R', outcome: 'O', batch: 'B' };

/**
 * A BullMQ job id derived from an identity (a scoped key, or a decision id for follow-up jobs), never the
 * client's string itself. BullMQ keeps a job at `{prefix}:{queue}:{jobId}` beside its own structures
 * (`wait`, `meta`, `id`, `events`, `de`, ... and `{jobId}:lock`, `:logs`), so a client-chosen job id equal to
 * one of those names made BullMQ skip the add or write a hash over a structure it needs (issue 13).
 * The id is one upper-case tag letter and 39 decimal digits (128 bits of SHA-256 over `kind`, a NUL and the
 * identity): no lower-case letter (every BullMQ and project key name is lower case), no `:` separator, no `{}`
 * hash tag, never an integer (BullMQ refuses integer custom ids), fixed length.
 */
export function jobIdFor(kind: JobKind, identity: string): string {
  const digest = sha256(`${kind}\u0000${identity}`, 'hex').slice(0, 32); // the same bytes as update(kind).update('\0').update(identity)
  return JOB_TAG[kind] + BigInt(`0x${digest}`).toString(10).padStart(39, '0');
}

/** The `ivr-events` job id of a key in its space. */
export function jobIdForKey(key: string, space: KeySpace = 'client'): string {
  return jobIdFor('event', scopedKey(key, space));
}

/** Deterministic decision id: a re-run of the same event yields the same id (and the same store document). */
export function decisionIdFor(key: string): string {
  return `d-${sha256(key, 'hex').slice(0, 24)}`;
}
