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
    });
  });
});
