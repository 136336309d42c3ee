import { Webhook } from 'standardwebhooks';

/**
 * The HMAC key behind a WEBHOOK_SECRET, as a `whsec_` string the `standardwebhooks` library accepts:
 * `whsec_<base64>` is used as the spec says (the key is the decoded bytes); any other value is a raw secret whose
 * UTF-8 bytes are the key, so a sender configured with the same plain string signs with the same key.
 */
export function standardWebhooksSecret(secret: string): string {
  if (secret.startsWith('whsec_')) {
    const b64 = secret.slice('whsec_'.length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw new Error('WEBHOOK_SECRET starts with whsec_ but the rest is not valid base64 (use whsec_<base64> or a plain secret without the prefix)');
    }
    return secret;
  }
  return `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;
}

/** Standard Webhooks headers for `body`, signed at `at` with the `standardwebhooks` library. */
export function signStandardWebhook(secret: string, id: string, body: string, at: Date): Record<string, string> {
  const signature = new Webhook(standardWebhooksSecret(secret)).sign(id, at, body);
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
}
