import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { silentLogger, testRedis } from '@ivr/testing';
import { createIdempotencyStore, ingestEvent } from '@ivr/intake';
import { createQueues, keyspace, type IvrQueues } from '@ivr/queue-contract';
import { Writable } from 'node:stream';
import { createLogger, loadConfig } from '@ivr/config';
import { createApp } from './app';
import { startReceiver } from './server';
import { createAuthenticator, standardWebhooksSecret, type AuthenticatorOptions } from './middleware/authenticator';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const TOKEN = `tok-${randomBytes(16).toString('hex')}`;
const event = (n: number) => JSON.stringify({ conversationId: `conv-${n}`, participantId: 'p-1', dtmf: '1' });

/** Standard Webhooks headers for `body`, signed by the library (not by hand). */
function signed(body: string, opts: { secret?: string; id?: string; at?: Date } = {}) {
  const id = opts.id ?? `msg_${randomBytes(8).toString('hex')}`;
  const at = opts.at ?? new Date();
  const sig = new Webhook(standardWebhooksSecret(opts.secret ?? SECRET)).sign(id, at, body);
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': sig };
}

interface ErrorAnswer {
  error: { code: string; message: string };
}

describe('webhook authentication (real Redis + BullMQ)', () => {
  let t: ReturnType<typeof testRedis>;
  let queues: IvrQueues;
  const make = (auth: AuthenticatorOptions) => {
    const idempotency = createIdempotencyStore(t.redis, keyspace(t.prefix), 60);
    return createApp({
      authenticate: createAuthenticator(auth),
      ingest: (job, fp) => ingestEvent({ idempotency, events: queues.events }, job, fp),
      ready: async () => (await t.redis.ping()) === 'PONG',
      logger: silentLogger,
    });
  };
  const post = (app: ReturnType<typeof createApp>, body: string, headers: Record<string, string>) =>
    app.request('/webhook/genesys-dtmf', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const expect401 = async (res: Response, code: string) => {
    expect(res.status).toBe(401);
    const answer = (await res.json()) as ErrorAnswer;
    expect(answer.error.code).toBe(code);
    expect(answer.error.message.length).toBeGreaterThan(10);
    return answer.error.message;
  };

  beforeEach(() => {
    t = testRedis('auth');
    queues = createQueues(t.redis, t.prefix, { applyAttempts: 5, applyBackoffMs: 1000 });
  });
  afterEach(async () => {
    await queues.close();
    await t.cleanup();
  });

  describe('Standard Webhooks signatures (WEBHOOK_SECRET)', () => {
    it('valid signature: 202, one job; webhook-id is the idempotency key', async () => {
      const app = make({ webhookSecret: SECRET });
      const body = event(1);
      const headers = signed(body, { id: 'msg_valid_1' });
      const res = await post(app, body, headers);
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ status: 'accepted', idempotencyKey: 'msg_valid_1' });
      expect(await queues.events.count()).toBe(1);
    });

    it('a raw (non-whsec_) secret: its UTF-8 bytes are the key', async () => {
      const raw = 'plain shared secret é';
      const app = make({ webhookSecret: raw });
      const body = event(2);
      const key = `whsec_${Buffer.from(raw, 'utf8').toString('base64')}`;
      expect((await post(app, body, signed(body, { secret: key }))).status).toBe(202);
      expect((await post(app, event(3), signed(event(3), { secret: 'plain shared secret e' }))).status).toBe(401);
    });

    it('rejects a malformed whsec_ secret at construction with a readable reason', () => {
      expect(() => createAuthenticator({ webhookSecret: 'whsec_not base64!' })).toThrow(/not valid base64/);
    });

    it('every failure is a 401 with its own reason, and no job is enqueued', async () => {
      const app = make({ webhookSecret: SECRET });
      const body = event(4);
      const now = Date.now();

      const tampered = signed(body);
      await expect401(await post(app, body.replace('"1"', '"2"'), tampered), 'invalid_signature');

      const other = `whsec_${randomBytes(24).toString('base64')}`;
      await expect401(await post(app, body, signed(body, { secret: other })), 'invalid_signature');

      const missing = await expect401(await post(app, body, {}), 'missing_signature');
      expect(missing).toContain('webhook-signature');
      const { ['webhook-signature']: _omit, ...noSig } = signed(body);
      expect(await expect401(await post(app, body, noSig), 'missing_signature')).toMatch(/missing webhook-signature$/);

      const old = await expect401(await post(app, body, signed(body, { at: new Date(now - 6 * 60_000) })), 'stale_timestamp');
      expect(old).toMatch(/3[56]\d s old/);
      await expect401(await post(app, body, signed(body, { at: new Date(now + 6 * 60_000) })), 'future_timestamp');

      await expect401(await post(app, body, { ...signed(body), 'webhook-timestamp': 'yesterday' }), 'invalid_timestamp');
      // the signature of another id (the id is signed too)
      await expect401(await post(app, body, { ...signed(body, { id: 'msg_a' }), 'webhook-id': 'msg_b' }), 'invalid_signature');

      expect(await queues.events.count()).toBe(0);
    });

    it('within the window (4 min old, 4 min ahead): accepted', async () => {
      const app = make({ webhookSecret: SECRET });
      const now = Date.now();
      expect((await post(app, event(5), signed(event(5), { at: new Date(now - 4 * 60_000) }))).status).toBe(202);
      expect((await post(app, event(6), signed(event(6), { at: new Date(now + 4 * 60_000) }))).status).toBe(202);
      expect(await queues.events.count()).toBe(2);
    });

    it('uses the injected clock and tolerance', async () => {
      const body = event(7);
      const at = new Date('2030-01-01T00:00:00Z');
      const headers = signed(body, { at });
      const atPlus = (s: number) => () => at.getTime() + s * 1000;
      await expect401(await post(make({ webhookSecret: SECRET, now: atPlus(61), toleranceS: 60 }), body, headers), 'stale_timestamp');
      expect((await post(make({ webhookSecret: SECRET, now: atPlus(59), toleranceS: 60 }), body, headers)).status).toBe(202);
    });

    it('several space-separated signatures (key rotation): one valid is enough', async () => {
      const app = make({ webhookSecret: SECRET });
      const body = event(8);
      const good = signed(body);
      const bad = signed(body, { id: good['webhook-id'], secret: `whsec_${randomBytes(24).toString('base64')}` });
      const res = await post(app, body, { ...good, 'webhook-signature': `v2,abc ${bad['webhook-signature']} ${good['webhook-signature']}` });
      expect(res.status).toBe(202);
      await expect401(await post(app, event(9), { ...signed(event(9)), 'webhook-signature': `${bad['webhook-signature']} v1,` }), 'invalid_signature');
      expect(await queues.events.count()).toBe(1);
    });

    it('replay of a signed message: 200 duplicate; under a fresh Idempotency-Key (unsigned): 401, never a second job', async () => {
      const app = make({ webhookSecret: SECRET });
      const body = event(40);
      const headers = signed(body, { id: 'msg_replayed' });
      expect((await post(app, body, headers)).status).toBe(202);
      const replay = await post(app, body, headers);
      expect(replay.status).toBe(200);
      expect(await replay.json()).toMatchObject({ status: 'duplicate', idempotencyKey: 'msg_replayed' });
      await expect401(await post(app, body, { ...headers, 'idempotency-key': 'fresh-key-1' }), 'unsigned_idempotency_key');
      // equal to webhook-id is allowed (a sender that sets both)
      expect((await post(app, body, { ...headers, 'idempotency-key': 'msg_replayed' })).status).toBe(200);
      expect(await queues.events.count()).toBe(1);
    });

    it('401 comes before JSON parsing: an unsigned invalid body is 401, a signed one is 400', async () => {
      const app = make({ webhookSecret: SECRET });
      await expect401(await post(app, '{not json', {}), 'missing_signature');
      const res = await post(app, '{not json', signed('{not json'));
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorAnswer).error.code).toBe('invalid_json');
    });
  });

  describe('shared token (WEBHOOK_TOKEN, Genesys data actions)', () => {
    it('valid token 202; wrong, longer, empty or missing token 401; no job for any 401', async () => {
      const app = make({ webhookToken: TOKEN });
      expect((await post(app, event(10), { 'x-webhook-token': TOKEN })).status).toBe(202);
      await expect401(await post(app, event(11), { 'x-webhook-token': `${TOKEN.slice(0, -1)}x` }), 'invalid_token');
      await expect401(await post(app, event(12), { 'x-webhook-token': `${TOKEN}${TOKEN}` }), 'invalid_token');
      await expect401(await post(app, event(13), { 'x-webhook-token': '' }), 'invalid_token');
      await expect401(await post(app, event(14), {}), 'missing_token');
      // a signature is no use in token-only mode
      await expect401(await post(app, event(15), signed(event(15))), 'missing_token');
      expect(await queues.events.count()).toBe(1);
    });
  });

  describe('both configured: a valid signature or a valid token', () => {
    it('accepts either, rejects neither, reports the credential that was tried', async () => {
      const app = make({ webhookSecret: SECRET, webhookToken: TOKEN });
      expect((await post(app, event(20), signed(event(20)))).status).toBe(202);
      expect((await post(app, event(21), { 'x-webhook-token': TOKEN, 'idempotency-key': 'token-key-21' })).status).toBe(202);
      // valid token with a bad signature: the token is enough
      expect((await post(app, event(22), { 'x-webhook-token': TOKEN, ...signed(event(99)) })).status).toBe(202);
      await expect401(await post(app, event(23), {}), 'missing_credentials');
      await expect401(await post(app, event(24), { 'x-webhook-token': 'nope' }), 'invalid_token');
      await expect401(await post(app, event(25), signed(event(99))), 'invalid_signature');
      await expect401(await post(app, event(26), { 'x-webhook-token': 'nope', ...signed(event(99)) }), 'invalid_signature');
      expect(await queues.events.count()).toBe(3);
    });
  });

  it('neither configured: every well-formed event is accepted', async () => {
    const app = make({});
    expect((await post(app, event(30), {})).status).toBe(202);
    expect(await queues.events.count()).toBe(1);
  });

  it('startReceiver: warns when neither secret is set; enforces WEBHOOK_TOKEN from config over HTTP', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) });
    const logger = createLogger('receiver-test', 'info', { destination });
    const env = { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', QUEUE_PREFIX: t.prefix, RECEIVER_PORT: '0', RECEIVER_HOST: '127.0.0.1' };
    const WARNING = 'WEBHOOK_SECRET and WEBHOOK_TOKEN unset: webhooks are not authenticated';

    const openRx = await startReceiver(loadConfig(env), logger);
    await openRx.close();
    expect(lines.filter((l) => l.includes(WARNING))).toHaveLength(1);

    lines.length = 0;
    const rx = await startReceiver(loadConfig({ ...env, WEBHOOK_TOKEN: TOKEN }), logger);
    try {
      expect(lines.some((l) => l.includes(WARNING))).toBe(false);
      const send = (headers: Record<string, string>) =>
        fetch(`${rx.url}/webhook/genesys-dtmf`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: event(50) });
      const denied = await send({});
      expect(denied.status).toBe(401);
      expect(((await denied.json()) as ErrorAnswer).error.code).toBe('missing_token');
      expect((await send({ 'x-webhook-token': TOKEN })).status).toBe(202);
      expect(await rx.queues.events.count()).toBe(1);
    } finally {
      await rx.close();
    }
    expect(lines.join('')).not.toContain(TOKEN);
  });
});
