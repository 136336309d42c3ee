import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bodyFingerprint, canonicalJson, decisionIdFor, jobIdFor, jobIdForKey, resolveIdempotencyKey, scopedKey, sha256, sha256Bytes, unscopedKey } from './idempotency';

describe('idempotency keys', () => {
  const body = { conversationId: 'c', dtmf: '1', idempotencyKey: 'from-body' };

  it('takes the first present of Idempotency-Key, webhook-id, body.idempotencyKey', () => {
    expect(resolveIdempotencyKey({ idempotencyKey: 'h', webhookId: 'w' }, body)).toEqual({ ok: true, key: 'h', from: 'header', space: 'client' });
    expect(resolveIdempotencyKey({ webhookId: 'w' }, body)).toEqual({ ok: true, key: 'w', from: 'webhook-id', space: 'client' });
    expect(resolveIdempotencyKey({}, body)).toEqual({ ok: true, key: 'from-body', from: 'body', space: 'client' });
  });

  it('falls back to a hash of the canonical body, equal for reordered keys and different for other bodies', () => {
    const a = resolveIdempotencyKey({}, { b: 1, a: { y: 2, x: 1 } });
    const b = resolveIdempotencyKey({}, { a: { x: 1, y: 2 }, b: 1 });
    const c = resolveIdempotencyKey({}, { a: { x: 1, y: 3 }, b: 1 });
    expect(a.ok && a.from).toBe('hash');
    expect(a.ok && a.space).toBe('body');
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('rejects unusable keys with a reason', () => {
    const r = resolveIdempotencyKey({ idempotencyKey: 'has space' }, {});
    expect(r.ok).toBe(false);
    expect(resolveIdempotencyKey({}, { idempotencyKey: 5 }).ok).toBe(false);
  });

  it('canonical JSON sorts keys at every level and keeps arrays in order', () => {
    expect(canonicalJson({ b: [2, 1], a: { d: 1, c: null } })).toBe('{"a":{"c":null,"d":1},"b":[2,1]}');
    expect(bodyFingerprint({ a: 1, b: 2 })).toBe(bodyFingerprint({ b: 2, a: 1 }));
  });

  it('job ids are BullMQ-safe and stable; decision ids are deterministic per key', () => {
    // Never the client's string itself (packages/queue-contract/src/job-ids.property.test.ts proves the rest).
    expect(jobIdForKey('abc-1')).toMatch(/^E\d{39}$/);
    expect(jobIdForKey('meta')).not.toBe('meta');
    expect(jobIdForKey('a:b')).toBe(jobIdForKey('a:b'));
    expect(jobIdForKey('x', 'client')).not.toBe(jobIdForKey('x', 'body'));
    expect(scopedKey('k')).toBe('k'); // client keys keep their decisions' ids
    expect(scopedKey('k', 'body')).not.toBe('k');
    expect(decisionIdFor('x')).toBe(decisionIdFor('x'));
    expect(decisionIdFor('x')).not.toBe(decisionIdFor('y'));
  });

  it('unscopedKey gives back the key and space scopedKey was given', () => {
    for (const [key, space] of [['call-42-press-1', 'client'], ['sha256-abc', 'body'], ['sha256-abc', 'client']] as const) {
      expect(unscopedKey(scopedKey(key, space))).toEqual({ key, space });
    }
  });
});

describe('hashes and canonical form stay byte-identical (stored records, job ids and decision ids derive from them)', () => {
  const strings = ['', 'a', 'sha256-abc', 'body conv-1', 'ünïcødé ✓ 😀', 'x'.repeat(300), '\u0000nul'];

  it('sha256 and sha256Bytes equal createHash for ASCII, non-ASCII and long input', () => {
    for (const s of strings) {
      expect(sha256(s)).toBe(createHash('sha256').update(s).digest('base64url'));
      expect(sha256(s, 'hex')).toBe(createHash('sha256').update(s).digest('hex'));
      expect(sha256Bytes(s).equals(createHash('sha256').update(s).digest())).toBe(true);
    }
  });

  it('jobIdFor hashes kind, NUL, identity as before (update chain)', () => {
    for (const s of strings) {
      const digest = createHash('sha256').update('event').update('\u0000').update(s).digest('hex').slice(0, 32);
      expect(jobIdFor('event', s)).toBe(`E${BigInt(`0x${digest}`).toString(10).padStart(39, '0')}`);
    }
  });
});

describe('canonicalJson', () => {
  /** The previous definition (map/join): every fingerprint stored so far was made with it. */
  const reference = (value: unknown): string => {
    if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
    if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${reference((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  };

  it('gives the same text as the previous definition for webhook-like, nested, empty and odd values', () => {
    const cases: unknown[] = [
      { conversationId: 'c-1', participantId: 'p', dtmf: '2' },
      { b: 1, a: { y: [1, 2, { z: null, y: 'x' }], x: true }, '10': 'n', '9': -0, e: [], o: {} },
      { 'ü"\\\n': 'é😀', u: undefined, n: NaN, big: 1e21 },
      [],
      [[], {}, [null]],
      'string',
      42,
      null,
      undefined,
    ];
    for (const c of cases) expect(canonicalJson(c)).toBe(reference(c));
    expect(canonicalJson({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });
});
