import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config';
import { redactUrl } from './describe-parts';
import { createLogger } from './logger';

const SECRETS = {
  GENESYS_CLIENT_SECRET: 'gcs-5ecret-Genesys-0001',
  WEBHOOK_SECRET: 'whsec_c2VjcmV0LXdlYmhvb2stMDAwMg==',
  WEBHOOK_TOKEN: 'wht-5ecret-token-0003',
  ADMIN_TOKEN: 'adm-5ecret-token-0004',
  ELASTICSEARCH_API_KEY: 'es-5ecret-apikey-0005',
  ELASTICSEARCH_PASSWORD: 'es-5ecret-password-0006',
};
const REDIS_PASSWORD = 'redis-5ecret-pw-0007';
const BEARER = 'bearer-5ecret-0008';
const SIGNATURE = 'v1,5ecretSignatureBase64AAAA0009=';
const ALL = [...Object.values(SECRETS), REDIS_PASSWORD, BEARER, SIGNATURE];

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, logger: createLogger('redaction-test', 'trace', { destination }) };
}

describe('logger redaction', () => {
  const config = loadConfig({
    ...SECRETS,
    GENESYS_CLIENT_ID: 'client-id-visible',
    ELASTICSEARCH_URL: 'https://es.example.com:9200',
    ELASTICSEARCH_USERNAME: 'elastic',
    REDIS_URL: `redis://default:${REDIS_PASSWORD}@redis.example.com:6379/0`,
  });

  it('never writes a secret: config, request headers, a Redis URL with a password', () => {
    const { lines, logger } = capture();
    logger.info({ config: { ...config, REDIS_URL: redactUrl(config.REDIS_URL) } }, 'config loaded');
    logger.info(
      {
        headers: {
          authorization: `Bearer ${BEARER}`,
          'x-webhook-token': SECRETS.WEBHOOK_TOKEN,
          'webhook-signature': SIGNATURE,
          'webhook-id': 'msg_visible',
        },
      },
      'request',
    );
    logger.warn({ redis: redactUrl(config.REDIS_URL) }, 'Redis connection error');
    // the same headers nested one level down (e.g. {req: {headers}}), and capitalised as some clients send them
    logger.info({ req: { headers: { Authorization: `Bearer ${BEARER}`, 'X-Webhook-Token': SECRETS.WEBHOOK_TOKEN, 'Webhook-Signature': SIGNATURE } } }, 'nested');
    logger.error({ err: 'login failed', clientSecret: SECRETS.GENESYS_CLIENT_SECRET, apiKey: SECRETS.ELASTICSEARCH_API_KEY, password: SECRETS.ELASTICSEARCH_PASSWORD }, 'flat');
    // someone forgets redactUrl: the URL keeps its host, loses its password
    logger.info({ config, redisUrl: config.REDIS_URL }, 'raw config');
    logger.info({ WEBHOOK_TOKEN: SECRETS.WEBHOOK_TOKEN, env: { ADMIN_TOKEN: SECRETS.ADMIN_TOKEN } }, 'env-shaped');

    const out = lines.join('');
    expect(lines).toHaveLength(7);
    expect(lines.every((l) => typeof JSON.parse(l) === 'object')).toBe(true);
    for (const secret of ALL) expect(out, `secret ${secret} leaked`).not.toContain(secret);
    // the redacted lines still carry the non-secret fields
    expect(out).toContain('client-id-visible');
    expect(out).toContain('msg_visible');
    expect(out).toContain('redis.example.com');
    expect(out).toContain('[redacted]');
    const raw = JSON.parse(lines[5]!) as { config: Record<string, unknown>; redisUrl: string };
    expect(raw.redisUrl).toBe('redis://default:***@redis.example.com:6379/0');
    expect(raw.config['REDIS_URL']).toBe('redis://default:***@redis.example.com:6379/0');
    expect(raw.config['TARGET_QUEUE_ID']).toBe('demo-queue');
  });

  it('redactUrl hides the password and keeps the rest', () => {
    const red = redactUrl(config.REDIS_URL);
    expect(red).not.toContain(REDIS_PASSWORD);
    expect(red).toBe('redis://default:***@redis.example.com:6379/0');
  });
});

describe('Redis Cluster URLs', () => {
  it('accepts redis-cluster:// seed lists, masks their password, and requires a hash-tagged QUEUE_PREFIX', () => {
    const url = 'redis-cluster://default:s3cret-cluster@10.0.0.1:7000,10.0.0.2:7000';
    expect(redactUrl(url)).toBe('redis-cluster://default:***@10.0.0.1:7000,10.0.0.2:7000');
    expect(loadConfig({ REDIS_URL: url, QUEUE_PREFIX: '{ivr}' }).REDIS_URL).toBe(url);
    expect(() => loadConfig({ REDIS_URL: url, QUEUE_PREFIX: 'ivr' })).toThrow(/hash tag/);
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL/);
  });
});
