import { describe, expect, it } from 'vitest';
import { bodyDigest } from './idempotency';
import { readWebhook } from './read-webhook';

const dataAction = { conversationId: 'conv-1', participantId: 'part-1', dtmf: '2' };

describe('readWebhook', () => {
  it('a data-action body: the event, the digest and a derived key when no header names one', () => {
    const r = readWebhook(JSON.stringify(dataAction), {});
    expect(r.kind).toBe('event');
    if (r.kind !== 'event') return;
    expect(r.event).toMatchObject({ conversationId: 'conv-1', participantId: 'part-1', dtmf: '2', source: 'data-action' });
    expect(r.digest).toBe(bodyDigest(dataAction));
    expect(r.key).toEqual({ ok: true, key: `sha256-${r.digest.slice(0, 32)}`, from: 'hash', space: 'body' });
  });

  it('the Idempotency-Key header comes before webhook-id', () => {
    const r = readWebhook(JSON.stringify(dataAction), { idempotencyKey: 'k-1', webhookId: 'msg-1' });
    expect(r.kind === 'event' && r.key).toMatchObject({ key: 'k-1', from: 'header', space: 'client' });
  });

  it('refuses bad JSON, too deep a body, an invalid payload and a bad key, each with its code', () => {
    expect(readWebhook('{"a":', {})).toMatchObject({ kind: 'invalid', code: 'invalid_json', message: expect.stringMatching(/^body is not valid JSON: /) });
    const deep = '['.repeat(33) + ']'.repeat(33);
    expect(readWebhook(deep, {})).toEqual({ kind: 'invalid', code: 'too_deep', message: 'JSON nested deeper than 32 levels' });
    expect(readWebhook('['.repeat(32) + ']'.repeat(32), {})).toMatchObject({ code: 'invalid_payload' }); // 32 levels is allowed
    expect(readWebhook('[]', {})).toEqual({ kind: 'invalid', code: 'invalid_payload', message: 'body must be a JSON object' });
    expect(readWebhook(JSON.stringify(dataAction), { idempotencyKey: 'has space' })).toMatchObject({ kind: 'invalid', code: 'invalid_idempotency_key' });
  });

  it('a valid payload without DTMF is no_dtmf', () => {
    expect(readWebhook(JSON.stringify({ flowInstanceId: 'f-1', participants: [] }), {})).toEqual({ kind: 'no_dtmf' });
  });
});
