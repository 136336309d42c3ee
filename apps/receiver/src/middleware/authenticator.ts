import { createHash, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { standardWebhooksSecret } from '@ivr/core';
import { HttpError } from '@ivr/core';

export { standardWebhooksSecret };

export interface AuthenticatorOptions {
  /**
   * Standard Webhooks secret. `whsec_<base64>` is used as the spec says (the key is the decoded bytes);
   * any other value is a raw secret whose UTF-8 bytes are the HMAC key (we base64-encode it for the
   * library), so a sender configured with the same plain string signs with the same key.
   */
  webhookSecret?: string | undefined;
  /** Shared token for callers that cannot sign (Genesys data actions): header `X-Webhook-Token`. */
  webhookToken?: string | undefined;
  /** Accepted clock skew for `webhook-timestamp`, either way (default 300 s, the spec's 5 minutes). */
  toleranceS?: number;
  now?: () => number;
}

export type Authenticator = (req: { headers: Headers; body: string }) => void;

const SIG_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;
const TOKEN_HEADER = 'x-webhook-token';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Authenticate a webhook before its body is parsed.
 * - WEBHOOK_SECRET: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature` with one or more
 *   space-separated `v1,<base64 HMAC-SHA256>`), timestamp within ±toleranceS.
 * - WEBHOOK_TOKEN: header `X-Webhook-Token`, compared in constant time.
 * - both: either a valid signature or a valid token is enough (a Genesys data action cannot sign).
 * - a signed request may not carry an Idempotency-Key other than its webhook-id: the key must be signed, or a
 *   captured message could be replayed inside the window under a fresh key.
 * - neither: every request is accepted (the server warns at start).
 * Throws HttpError 401 with a code and a reason the sender can act on.
 */
export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const { webhookSecret, webhookToken, toleranceS = 300, now = Date.now } = opts;
  if (!webhookSecret && !webhookToken) return () => undefined;
  const wh = webhookSecret ? new Webhook(standardWebhooksSecret(webhookSecret)) : undefined;
  const tokenDigest = webhookToken ? digest(webhookToken) : undefined;

  const checkToken = (headers: Headers): HttpError | undefined => {
    const got = headers.get(TOKEN_HEADER);
    if (got === null) return new HttpError(401, 'missing_token', 'X-Webhook-Token header is required');
    // Hash both sides so the comparison takes the same time whatever the lengths.
    if (timingSafeEqual(digest(got), tokenDigest!)) return undefined;
    return new HttpError(401, 'invalid_token', 'X-Webhook-Token does not match WEBHOOK_TOKEN');
  };

  // Idempotency-Key takes precedence over webhook-id but is not signed: on a signed request it would let anyone
  // replay a captured message inside the window under a fresh key (a second job). Only the signed id may be the key.
  const signedKeyOnly = (headers: Headers, id: string): HttpError | undefined => {
    const key = headers.get('idempotency-key');
    if (key === null || key === id) return undefined;
    return new HttpError(401, 'unsigned_idempotency_key', 'on a signed request the idempotency key is webhook-id: omit Idempotency-Key or set it equal to webhook-id (it is not covered by the signature)');
  };

  const checkSignature = (headers: Headers, body: string): HttpError | undefined => {
    const missing = SIG_HEADERS.filter((h) => !headers.get(h));
    if (missing.length) {
      return new HttpError(401, 'missing_signature', `Standard Webhooks headers required: missing ${missing.join(', ')}`);
    }
    const id = headers.get('webhook-id')!;
    const tsHeader = headers.get('webhook-timestamp')!.trim();
    if (!/^\d{1,12}$/.test(tsHeader)) {
      return new HttpError(401, 'invalid_timestamp', 'webhook-timestamp must be integer seconds since the Unix epoch');
    }
    const ts = Number(tsHeader);
    const skew = Math.floor(now() / 1000) - ts;
    if (skew > toleranceS) {
      return new HttpError(401, 'stale_timestamp', `webhook-timestamp is ${skew} s old (more than ${toleranceS} s): rejected as a possible replay; check the sender's clock`);
    }
    if (-skew > toleranceS) {
      return new HttpError(401, 'future_timestamp', `webhook-timestamp is ${-skew} s in the future (more than ${toleranceS} s); check the sender's clock`);
    }
    // The library computes the HMAC; we compare ourselves so the clock (`now`) and tolerance are ours and the
    // body is never JSON-parsed here (verify() would parse it, and throw on invalid JSON after a valid signature).
    const expected = Buffer.from(wh!.sign(id, new Date(ts * 1000), body).slice('v1,'.length));
    for (const candidate of headers.get('webhook-signature')!.split(' ')) {
      const comma = candidate.indexOf(',');
      if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
      const sig = Buffer.from(candidate.slice(comma + 1));
      if (sig.length === expected.length && timingSafeEqual(sig, expected)) return signedKeyOnly(headers, id);
    }
    return new HttpError(401, 'invalid_signature', 'no webhook-signature matches (expected v1,<base64 HMAC-SHA256 of "id.timestamp.body"> with WEBHOOK_SECRET)');
  };

  return ({ headers, body }) => {
    const hasSigHeaders = SIG_HEADERS.some((h) => headers.has(h));
    const hasToken = headers.has(TOKEN_HEADER);
    if (wh && tokenDigest) {
      // Either credential is enough; report the failure of the one the sender tried (the signature if both).
      const tokenErr = hasToken ? checkToken(headers) : undefined;
      if (hasToken && !tokenErr) return;
      if (hasSigHeaders) {
        const sigErr = checkSignature(headers, body);
        if (!sigErr) return;
        throw sigErr;
      }
      throw tokenErr ?? new HttpError(401, 'missing_credentials', 'send Standard Webhooks signature headers (webhook-id, webhook-timestamp, webhook-signature) or X-Webhook-Token');
    }
    const err = wh ? checkSignature(headers, body) : checkToken(headers);
    if (err) throw err;
  };
}
