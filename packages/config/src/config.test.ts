import { describe, expect, it } from 'vitest';
import { ConfigError, decisionStoreConfig, loadConfig } from './config';

describe('loadConfig', () => {
  it('defaults to the embedded parts: simulator, embedded store, Redis on localhost', () => {
    const c = loadConfig({});
    expect(c.useSimulator).toBe(true);
    expect(c.elasticsearchUrl).toBeUndefined();
    expect(c.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(c.OCCUPANCY_THRESHOLD).toBe(5);
    expect(c.WORKER_ROLES).toEqual(['decide', 'apply', 'report']);
  });

  it('names every bad variable at once', () => {
    try {
      loadConfig({ OCCUPANCY_THRESHOLD: 'many', WORKER_ROLES: 'decide,cook', RECEIVER_PORT: '99999' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as Error).message;
      for (const name of ['OCCUPANCY_THRESHOLD', 'WORKER_ROLES', 'RECEIVER_PORT']) expect(msg).toContain(name);
    }
  });

  it('OCCUPANCY_SOURCE: notifications, polling or unset (empty = unset); the max age covers the cache and the ping', () => {
    expect(loadConfig({}).OCCUPANCY_SOURCE).toBeUndefined();
    expect(loadConfig({ OCCUPANCY_SOURCE: '' }).OCCUPANCY_SOURCE).toBeUndefined();
    expect(loadConfig({ OCCUPANCY_SOURCE: 'polling' }).OCCUPANCY_SOURCE).toBe('polling');
    expect(() => loadConfig({ OCCUPANCY_SOURCE: 'push' })).toThrow(/OCCUPANCY_SOURCE/);
    expect(() => loadConfig({ OCCUPANCY_MAX_AGE_MS: '500', OCCUPANCY_CACHE_MS: '1000' })).toThrow(/OCCUPANCY_MAX_AGE_MS \(500\) must be at least OCCUPANCY_CACHE_MS/);
    expect(() => loadConfig({ OCCUPANCY_MAX_AGE_MS: '3000', OCCUPANCY_PUSH_PING_MS: '3000' })).toThrow(/more than OCCUPANCY_PUSH_PING_MS/);
  });

  it('Genesys credentials come as a pair', () => {
    expect(() => loadConfig({ GENESYS_CLIENT_ID: 'x' })).toThrow(/set together/);
    expect(loadConfig({ GENESYS_CLIENT_ID: 'x', GENESYS_CLIENT_SECRET: 'y' }).useSimulator).toBe(false);
  });

  it('every app gets the same decision store settings, ELASTICSEARCH_HOST as a fallback URL', () => {
    const c = loadConfig({ ELASTICSEARCH_HOST: 'http://es:9200', ELASTICSEARCH_API_KEY: 'k', ELASTICSEARCH_INDEX: 'custom' });
    expect(decisionStoreConfig(c)).toEqual({
      elasticsearchUrl: 'http://es:9200',
      elasticsearchApiKey: 'k',
      elasticsearchUsername: undefined,
      elasticsearchPassword: undefined,
      elasticsearchIndex: 'custom',
      retentionDays: 30,
    });
  });
});

describe('config edges (issue 13 item 7)', () => {
  const problem = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    return undefined;
  };

  it('integers are parsed strictly: 0x10, 1e3, " 5", 5.0, -1 and 5abc are errors; unset and empty mean the default', () => {
    for (const bad of ['0x10', '1e3', ' 5', '5 ', '5.0', '-1', '5abc', '+5']) {
      expect(problem({ OCCUPANCY_THRESHOLD: bad }), bad).toMatch(/OCCUPANCY_THRESHOLD: must be a whole number in decimal digits/);
    }
    expect(loadConfig({ OCCUPANCY_THRESHOLD: '16' }).OCCUPANCY_THRESHOLD).toBe(16);
    expect(loadConfig({ OCCUPANCY_THRESHOLD: '' }).OCCUPANCY_THRESHOLD).toBe(5);
    expect(problem({ RECEIVER_PORT: '70000' })).toMatch(/RECEIVER_PORT: must be between 0 and 65535/);
    expect(problem({ LOCK_DURATION_MS: '0x3e8' })).toMatch(/LOCK_DURATION_MS/);
  });

  it('a blank (whitespace) WEBHOOK_SECRET is an error, not "authentication off"; empty means unset', () => {
    expect(problem({ WEBHOOK_SECRET: ' ' })).toMatch(/WEBHOOK_SECRET: is set but blank/);
    expect(problem({ WEBHOOK_TOKEN: '\t' })).toMatch(/WEBHOOK_TOKEN: is set but blank/);
    expect(loadConfig({ WEBHOOK_SECRET: '' }).WEBHOOK_SECRET).toBeUndefined();
  });

  it('secrets and tokens have a minimum length; whsec_ alone is a one-line error; values are never echoed', () => {
    const five = problem({ WEBHOOK_SECRET: 'abcde' });
    expect(five).toMatch(/WEBHOOK_SECRET: must be at least 16 bytes/);
    expect(five).not.toContain('abcde');
    expect(problem({ WEBHOOK_SECRET: 'whsec_' })).toMatch(/^Invalid configuration: WEBHOOK_SECRET: is "whsec_" with nothing after it/);
    expect(problem({ WEBHOOK_SECRET: 'whsec_' })).not.toContain('\n');
    expect(problem({ WEBHOOK_SECRET: `whsec_${Buffer.from('short').toString('base64')}` })).toMatch(/decodes to 5 bytes/);
    expect(loadConfig({ WEBHOOK_SECRET: `whsec_${Buffer.alloc(24, 7).toString('base64')}` }).WEBHOOK_SECRET).toMatch(/^whsec_/);
    expect(problem({ WEBHOOK_TOKEN: 'short-token' })).toMatch(/WEBHOOK_TOKEN: must be at least 16 bytes/);
    expect(loadConfig({ WEBHOOK_TOKEN: 'a-token-long-enough' }).WEBHOOK_TOKEN).toBe('a-token-long-enough');
  });

  it('ADMIN_TOKEN has a minimum strength: 16 characters, 8 different ones', () => {
    expect(problem({ ADMIN_TOKEN: 'a' })).toMatch(/ADMIN_TOKEN: must be at least 16 characters/);
    expect(problem({ ADMIN_TOKEN: 'abababababababababab' })).toMatch(/ADMIN_TOKEN: must use at least 8 different characters/);
    expect(loadConfig({ ADMIN_TOKEN: 'test-admin-token-5f2c' }).ADMIN_TOKEN).toBe('test-admin-token-5f2c');
  });

  it('several problems stay on one line, each naming its variable', () => {
    const msg = problem({ OCCUPANCY_THRESHOLD: '1e3', WEBHOOK_SECRET: ' ' })!;
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toMatch(/OCCUPANCY_THRESHOLD.*; WEBHOOK_SECRET/);
  });
});
