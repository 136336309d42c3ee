/**
 * Hostile-input fuzz of POST /webhook/genesys-dtmf: 10,000 seeded requests through `app.request()` on
 * `createApp` with the real ingest (Redis + BullMQ). Every answer must be the one a model of the contract
 * predicts (the model uses the pure core functions: parseWebhookBody, jsonDepth, resolveIdempotencyKey,
 * bodyFingerprint), never a 5xx, every error a JSON `{error:{code,message}}`, and only accepted events
 * become jobs. Replay a failure with FUZZ_SEED=<seed printed in the summary>.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyFingerprint, jsonDepth, parseWebhookBody, resolveIdempotencyKey } from '@ivr/core';
import { testRedis } from '@ivr/testing';
import { createIdempotencyStore, ingestEvent } from '@ivr/intake';
import { createQueues, ivrEventJobSchema, keyspace, type IvrQueues } from '@ivr/queue-contract';
import { createApp, type ReceiverLogger } from './app';
import { createAuthenticator, standardWebhooksSecret } from './middleware/authenticator';

const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const LIMIT = 64 * 1024;
const MAX_DEPTH = 32; // the receiver's nesting limit (app.ts)
const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const TOKEN = `tok-${randomBytes(12).toString('hex')}`;
/** numRuns per property; they add up to 10,000 requests. */
const RUNS = { payloads: 3500, rawBodies: 2500, headers: 2000, auth: 1500, sizes: 500 };

const ERROR_CODES: Record<number, string[]> = {
  400: ['invalid_json', 'too_deep', 'invalid_payload', 'invalid_idempotency_key'],
  401: ['missing_signature', 'invalid_timestamp', 'stale_timestamp', 'future_timestamp', 'invalid_signature', 'unsigned_idempotency_key', 'missing_token', 'invalid_token', 'missing_credentials'],
  413: ['payload_too_large'],
  415: ['unsupported_media_type'],
  422: ['idempotency_conflict'],
};

// ---------------------------------------------------------------------------------------------- rendering
/** Pre-rendered JSON text, so bodies can carry own `__proto__` keys (an object literal would set the prototype). */
class Raw {
  constructor(readonly text: string) {}
}
const render = (v: unknown): string => (v instanceof Raw ? v.text : (JSON.stringify(v) ?? 'null'));
const obj = (entries: Array<[string, unknown]>) =>
  new Raw(`{${entries.filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${render(v)}`).join(',')}}`);

// ---------------------------------------------------------------------------------------------- arbitraries
const idOk = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,30}$/);
const dtmfOk = fc.stringMatching(/^[0-9*#A-Da-d]{1,6}$/);
const keyOk = fc.oneof(fc.constantFrom('dup-1', 'dup-2', 'dup:3'), fc.stringMatching(/^[\x21-\x7e]{1,60}$/));
const nasty = fc.oneof(
  fc.constantFrom<unknown>(
    null, true, false, 0, -1, 1e308, 1.5, '', ' ', '\u0000', 'a\u0000b', '😀', '𝕏'.repeat(10), 'é', '\u202e', '\ud800', '<script>',
    '../../etc/passwd', 'a'.repeat(129), 'a'.repeat(128), '__proto__', 'constructor', 'prototype', '1'.repeat(33), 'E', '0x1', '١', '-a', '.a',
  ),
  fc.integer(),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);
const field = (ok: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: ok }, { weight: 1, arbitrary: nasty });
const POLLUTERS = [
  new Raw('{"polluted":"yes"}'),
  new Raw('{"conversationId":"from-proto","dtmf":"1"}'),
  new Raw('{"prototype":{"polluted":"yes"},"__proto__":{"polluted":"yes"}}'),
  null,
  'x',
  new Raw('[{"polluted":"yes"}]'),
];
const pollution = fc.array(fc.tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.constantFrom(...POLLUTERS)), { maxLength: 2 });
const withPollution = (o: Record<string, unknown>, extra: Array<[string, unknown]>, at: number) => {
  const entries = Object.entries(o);
  entries.splice(at % (entries.length + 1), 0, ...extra);
  return obj(entries);
};

const dataAction = fc.oneof(
  { weight: 3, arbitrary: fc.record({ conversationId: field(idOk), participantId: field(idOk), dtmf: field(dtmfOk), queueId: field(idOk), flowInstanceId: field(idOk), idempotencyKey: field(keyOk) }, { requiredKeys: ['conversationId', 'dtmf'] }) },
  { weight: 1, arbitrary: fc.record({ conversationId: field(idOk), participantId: field(idOk), dtmf: field(dtmfOk), idempotencyKey: field(keyOk) }, { requiredKeys: [] }) },
);
const participant = fc
  .tuple(
    fc.record({ id: field(idOk), input: fc.oneof({ weight: 4, arbitrary: fc.record({ dtmf: field(dtmfOk) }, { requiredKeys: [] }) }, { weight: 1, arbitrary: nasty }) }, { requiredKeys: [] }),
    pollution,
    fc.nat(),
  )
  .map(([p, pol, at]) => withPollution(p, pol, at));
const tutorial = fc.record(
  {
    flowInstanceId: field(idOk),
    participants: fc.oneof(
      { weight: 6, arbitrary: fc.array(participant, { maxLength: 4 }) },
      { weight: 1, arbitrary: nasty },
      { weight: 1, arbitrary: fc.array(participant, { minLength: 49, maxLength: 52 }) },
    ),
    idempotencyKey: field(keyOk),
  },
  { requiredKeys: ['flowInstanceId'] },
);
/** A JSON object body: data-action or tutorial shaped, wrong types mixed in, pollution keys anywhere. */
const payloadText = fc
  .tuple(fc.oneof(dataAction, tutorial) as fc.Arbitrary<Record<string, unknown>>, pollution, fc.nat())
  .map(([p, pol, at]) => withPollution(p, pol, at).text);

const validEventText = fc
  .tuple(idOk, dtmfOk, fc.option(idOk, { nil: undefined }))
  .map(([c, d, p]) => render(obj([['conversationId', c], ['dtmf', d], ['participantId', p]])));

const nested = (depth: number, open: string, close: string) => open.repeat(depth) + '1' + close.repeat(depth);
const rawBody = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.constantFrom(
    '', ' ', 'null', 'true', '0', '""', '[]', '{}', '[{}]', '{"conversationId":null}', '\ufeff{"conversationId":"c","dtmf":"1"}',
    '{"conversationId":"c","dtmf":"1"}garbage', '{"conversationId":"c","conversationId":5,"dtmf":"1"}', '{"conversationId":"c\\u0000","dtmf":"1"}',
    '{"conversationId":"c","dtmf":"1\\u0000"}', '{"__proto__":{"conversationId":"c","dtmf":"1"}}', '{"constructor":{"prototype":{"polluted":1}}}',
    '{"conversationId":"c","dtmf":"1","__proto__":{"polluted":"yes"}}', 'NaN', '{"a":Infinity}', "{'conversationId':'c'}", '{"conversationId":"c","dtmf":1}',
  ),
  // deep nesting, inside a valid event (depth around the limit) and bare (far beyond it)
  fc.tuple(fc.integer({ min: MAX_DEPTH - 6, max: MAX_DEPTH + 6 }), fc.constantFrom(['[', ']'], ['{"a":', '}'])).map(([d, [o, c]]) => `{"conversationId":"deep-${d}","dtmf":"1","x":${nested(d - 1, o!, c!)}}`),
  fc.tuple(fc.integer({ min: 1, max: 20000 }), fc.constantFrom(['[', ']'], ['{"a":', '}'], ['[', ''])).map(([d, [o, c]]) => nested(d, o!, c!)),
  // truncated and mutated valid bodies
  fc.tuple(validEventText, fc.nat()).map(([t, n]) => t.slice(0, n % t.length)),
  fc.tuple(validEventText, fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 2 })).map(([t, n, s]) => t.slice(0, n % t.length) + s + t.slice((n % t.length) + 1)),
);
const rawBytes = fc.uint8Array({ maxLength: 300 });

/** Header values a fetch Headers object accepts (Latin-1, no NUL/CR/LF). */
const headerValue = (max = 60) => fc.string({ unit: fc.integer({ min: 0x01, max: 0xff }).filter((c) => c !== 10 && c !== 13).map((c) => String.fromCharCode(c)), maxLength: max });
const keyHeader = fc.option(
  fc.oneof(
    fc.constantFrom('hk-1', 'hk-2', '', ' ', 'a b', 'x'.repeat(201), 'x'.repeat(200), 'é', 'tab\there', '\u00ff', '12345', 'a:b:c', '../x'),
    fc.stringMatching(/^[\x21-\x7e]{1,200}$/),
    headerValue(),
  ),
  { nil: undefined },
);
/** Content types with whether the contract accepts them as JSON (a hard-coded table, not the app's regex). */
const CONTENT_TYPES: Array<[string | undefined, boolean]> = [
  ['application/json', true],
  ['application/json; charset=utf-8', true],
  ['APPLICATION/JSON', true],
  ['application/json;charset=UTF-8', true],
  ['application/cloudevents+json', true],
  ['application/vnd.api+json; charset=utf-8', true],
  [undefined, false], // no Content-Type at all
  ['', false],
  ['text/plain', false],
  ['text/json', false],
  ['application/jsonp', false],
  ['application/xml', false],
  ['application/x-www-form-urlencoded', false],
  ['multipart/form-data; boundary=xyz', false],
  ['json', false],
  ['application/', false],
];

// ---------------------------------------------------------------------------------------------- the run
interface Req {
  body: string | Uint8Array;
  headers: Record<string, string>;
  /** false when the Content-Type is not JSON; the table decides, not the app's regex */
  jsonContentType: boolean;
  /** false when the request does not authenticate against the app it is sent to */
  authenticated?: boolean;
}

describe('fuzz: hostile input never crashes the receiver nor stores an invalid event (real Redis)', () => {
  let t: ReturnType<typeof testRedis>;
  let queues: IvrQueues;
  let open: ReturnType<typeof createApp>;
  let secured: ReturnType<typeof createApp>;
  const byStatus = new Map<number, number>();
  const stored = new Map<string, string>(); // idempotency key → fingerprint of the event stored under it
  let accepted = 0;
  let requests = 0;
  const unhandled: unknown[] = [];
  const errorLogs: object[] = [];
  const onUnhandled = (e: unknown) => void unhandled.push(e);
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const started = Date.now();

  beforeAll(() => {
    t = testRedis('fuzz');
    queues = createQueues(t.redis, t.prefix, { applyAttempts: 5, applyBackoffMs: 1000 });
    const idempotency = createIdempotencyStore(t.redis, keyspace(t.prefix), 3600);
    const logger: ReceiverLogger = { info: () => {}, warn: () => {}, error: (o) => void errorLogs.push(o) };
    const deps = {
      ingest: (job: Parameters<typeof ingestEvent>[1], fp: string) => ingestEvent({ idempotency, events: queues.events }, job, fp),
      ready: async () => true,
      waitForDecision: async () => undefined, // exercises Prefer parsing without waiting
      logger,
      bodyLimitBytes: LIMIT,
    };
    open = createApp(deps);
    secured = createApp({ ...deps, authenticate: createAuthenticator({ webhookSecret: SECRET, webhookToken: TOKEN }) });
    process.on('uncaughtException', onUnhandled);
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUnhandled);
    process.off('unhandledRejection', onUnhandled);
    const counts = [...byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(' ');
    console.log(`fuzz seed=${SEED} requests=${requests} by status ${counts} jobs=${accepted} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await queues.close();
    await t.cleanup();
  });

  /** What the contract says the answer must be, from the request alone. */
  function expected(req: Req): { status: number; key?: string; fp?: string } {
    const bytes = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
    if (bytes.length > LIMIT) return { status: 413 };
    if (!req.jsonContentType) return { status: 415 };
    if (req.authenticated === false) return { status: 401 };
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return { status: 400 };
    }
    if (jsonDepth(body, MAX_DEPTH) > MAX_DEPTH) return { status: 400 };
    const parsed = parseWebhookBody(body);
    if (parsed.kind === 'invalid') return { status: 400 };
    if (parsed.kind === 'no_dtmf') return { status: 200 };
    const h = new Headers(req.headers); // the same whitespace normalisation the app sees
    const key = resolveIdempotencyKey({ idempotencyKey: h.get('idempotency-key') ?? undefined, webhookId: h.get('webhook-id') ?? undefined }, body);
    if (!key.ok) return { status: 400 };
    const fp = bodyFingerprint(body);
    const prior = stored.get(key.key);
    return { status: prior === undefined ? 202 : prior === fp ? 200 : 422, key: key.key, fp };
  }

  async function send(app: ReturnType<typeof createApp>, req: Req) {
    const want = expected(req);
    requests++;
    const res = await app.request('/webhook/genesys-dtmf', { method: 'POST', headers: req.headers, body: req.body });
    const text = await res.text();
    byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
    if (res.status === 202) accepted++;
    expect(res.status, `5xx for ${JSON.stringify(req).slice(0, 300)}: ${text.slice(0, 300)}`).toBeLessThan(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const answer = JSON.parse(text) as { error?: { code: unknown; message: unknown }; status?: string };
    if (res.status >= 400) {
      expect(answer.error?.code, text).toBeOneOf(ERROR_CODES[res.status] ?? []);
      expect(typeof answer.error?.message === 'string' && answer.error.message.length > 0, text).toBe(true);
    } else {
      expect(answer.status).toBeOneOf(['accepted', 'duplicate', 'skipped']);
    }
    expect(res.status, `for ${JSON.stringify({ ...req, body: String(req.body).slice(0, 300) })}: ${text.slice(0, 300)}`).toBe(want.status);
    if (want.status === 202) stored.set(want.key!, want.fp!);
  }

  const json = { 'content-type': 'application/json' };
  const opts = (n: number) => ({ seed: SEED + n, numRuns: n, endOnFailure: true });

  it(`JSON payloads: wrong types for every field, pollution keys, unicode/NUL (${RUNS.payloads} requests)`, async () => {
    await fc.assert(fc.asyncProperty(payloadText, (body) => send(open, { body, headers: json, jsonContentType: true })), opts(RUNS.payloads));
  }, 120_000);

  it(`raw bodies: invalid JSON, empty, deep nesting, truncated/mutated, random bytes (${RUNS.rawBodies} requests)`, async () => {
    const body = fc.oneof({ weight: 4, arbitrary: rawBody as fc.Arbitrary<string | Uint8Array> }, { weight: 1, arbitrary: rawBytes });
    await fc.assert(fc.asyncProperty(body, (b) => send(open, { body: b, headers: json, jsonContentType: true })), opts(RUNS.rawBodies));
  }, 120_000);

  it(`headers: content types, Idempotency-Key / webhook-id / Prefer values (${RUNS.headers} requests)`, async () => {
    const arb = fc.record({
      body: fc.oneof({ weight: 3, arbitrary: validEventText }, { weight: 1, arbitrary: payloadText }),
      ct: fc.constantFrom(...CONTENT_TYPES),
      idem: keyHeader,
      webhookId: keyHeader,
      prefer: fc.option(fc.oneof(fc.constantFrom('wait=1', 'wait=abc', 'wait=-1', 'wait=1e309', 'wait=99999999999', 'respond-async, wait=0.5', 'wait="2"'), headerValue(30)), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(arb, ({ body, ct: [ct, ok], idem, webhookId, prefer }) => {
        const headers: Record<string, string> = {};
        if (ct !== undefined) headers['content-type'] = ct;
        if (idem !== undefined) headers['idempotency-key'] = idem;
        if (webhookId !== undefined) headers['webhook-id'] = webhookId;
        if (prefer !== undefined) headers['prefer'] = prefer;
        // a string body would get a default text/plain Content-Type: send bytes when there is none
        return send(open, { body: ct === undefined ? Buffer.from(body) : body, headers, jsonContentType: ok });
      }),
      opts(RUNS.headers),
    );
  }, 120_000);

  it(`authentication headers on a signed + token app: only a valid signature or token gets through (${RUNS.auth} requests)`, async () => {
    const wh = new Webhook(standardWebhooksSecret(SECRET));
    const nowS = () => Math.floor(Date.now() / 1000);
    const arb = fc.record({
      body: fc.oneof({ weight: 3, arbitrary: validEventText }, { weight: 1, arbitrary: payloadText }),
      id: fc.option(fc.oneof(fc.constantFrom('msg_1', 'msg_2'), keyOk, headerValue()), { nil: undefined }),
      ts: fc.option(fc.oneof(fc.constantFrom('now', 'stale', 'future'), headerValue(15)), { nil: undefined }),
      sig: fc.option(fc.oneof(fc.constant('valid'), fc.constant('valid+junk'), headerValue(), fc.base64String({ maxLength: 60 }).map((s) => `v1,${s}`)), { nil: undefined }),
      token: fc.option(fc.oneof(fc.constant(TOKEN), fc.constant(`${TOKEN} `), fc.constant(TOKEN.toUpperCase()), headerValue()), { nil: undefined }),
      idem: fc.option(fc.constantFrom('same-as-id', 'msg_1', 'fresh-key'), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(arb, ({ body, id, ts, sig, token, idem }) => {
        const headers: Record<string, string> = { ...json };
        const h = new Headers();
        if (id !== undefined) h.set('webhook-id', id);
        const seconds = ts === 'now' ? nowS() : ts === 'stale' ? nowS() - 400 : ts === 'future' ? nowS() + 400 : undefined;
        if (ts !== undefined) h.set('webhook-timestamp', seconds === undefined ? ts : String(seconds));
        const signable = h.get('webhook-id') && seconds !== undefined;
        if (sig !== undefined) {
          const real = signable ? wh.sign(h.get('webhook-id')!, new Date(seconds * 1000), body) : 'v1,AAAA';
          h.set('webhook-signature', sig === 'valid' ? real : sig === 'valid+junk' ? `v1,junk ${real}` : sig);
        }
        if (token !== undefined) h.set('x-webhook-token', token);
        if (idem !== undefined) h.set('idempotency-key', idem === 'same-as-id' ? (h.get('webhook-id') ?? 'no-id') : idem);
        h.forEach((v, k) => (headers[k] = v));
        // a signature authenticates only when the key is the signed webhook-id (no other Idempotency-Key)
        const keySigned = !h.has('idempotency-key') || h.get('idempotency-key') === h.get('webhook-id');
        const sigOk = Boolean(signable && ts === 'now' && (sig === 'valid' || sig === 'valid+junk') && keySigned);
        const tokenOk = h.get('x-webhook-token') === TOKEN; // after Headers trims the trailing space
        return send(secured, { body, headers, jsonContentType: true, authenticated: sigOk || tokenOk });
      }),
      opts(RUNS.auth),
    );
  }, 120_000);

  it(`sizes: up to and over the body limit, multi-byte padding (${RUNS.sizes} requests)`, async () => {
    const arb = fc.record({
      target: fc.oneof(fc.integer({ min: LIMIT - 64, max: LIMIT + 64 }), fc.integer({ min: 1, max: 4 * LIMIT })),
      pad: fc.constantFrom('x', 'é', '€', '😀', '\u0000'),
      n: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(arb, ({ target, pad, n }) => {
        const head = `{"conversationId":"size-${n}","dtmf":"1","pad":"`;
        const unit = Buffer.byteLength(JSON.stringify(pad).slice(1, -1));
        const body = `${head}${JSON.stringify(pad).slice(1, -1).repeat(Math.max(0, Math.floor((target - head.length - 2) / unit)))}"}`;
        return send(open, { body, headers: json, jsonContentType: true });
      }),
      opts(RUNS.sizes),
    );
  }, 120_000);

  it('after the run: no crash, no 5xx, Object.prototype clean, exactly one valid job per 202', async () => {
    expect(requests).toBe(Object.values(RUNS).reduce((a, b) => a + b, 0));
    expect(unhandled).toEqual([]);
    expect(errorLogs).toEqual([]);
    expect([...byStatus.keys()].filter((s) => s >= 500)).toEqual([]);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoBefore);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // every class of answer was exercised, so the run proves something about each
    for (const s of [200, 202, 400, 401, 413, 415, 422]) expect(byStatus.get(s) ?? 0, `no ${s} answers`).toBeGreaterThan(0);

    expect(await queues.events.count()).toBe(accepted);
    const jobs = await queues.events.getJobs(['waiting', 'delayed', 'prioritized'], 0, -1);
    expect(jobs).toHaveLength(accepted);
    for (const job of jobs) {
      const data = ivrEventJobSchema.parse(job.data);
      expect(data.conversationId).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/);
      // No participant id is made up: absent when the webhook named none (the apply worker resolves the caller).
      if (data.participantId !== undefined) expect(data.participantId).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/);
      expect(data.dtmf).toMatch(/^[0-9*#A-D]{1,32}$/);
      expect(data.idempotencyKey).toMatch(/^[\x21-\x7e]{1,200}$/);
    }
  }, 60_000);
});
