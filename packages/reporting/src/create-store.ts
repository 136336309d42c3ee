import type { Redis } from 'ioredis';
import { createElasticsearchStore } from './elasticsearch-store';
import { createEmbeddedStore } from './embedded-store';
import type { DecisionStore } from './store';

export interface DecisionStoreConfig {
  elasticsearchUrl?: string;
  elasticsearchApiKey?: string;
  elasticsearchUsername?: string;
  elasticsearchPassword?: string;
  elasticsearchIndex?: string;
  /** Embedded store only: days of decisions kept (STORE_RETENTION_DAYS). */
  retentionDays?: number;
}

/** Elasticsearch when a URL is configured, else the embedded (Redis) store under `${prefix}:ivr:store:*`. */
export function createDecisionStore(config: DecisionStoreConfig, redis: Redis, prefix: string): DecisionStore {
  if (config.elasticsearchUrl) {
    return createElasticsearchStore({
      node: config.elasticsearchUrl,
      ...(config.elasticsearchApiKey ? { apiKey: config.elasticsearchApiKey } : {}),
      ...(config.elasticsearchUsername ? { username: config.elasticsearchUsername } : {}),
      ...(config.elasticsearchPassword ? { password: config.elasticsearchPassword } : {}),
      ...(config.elasticsearchIndex ? { index: config.elasticsearchIndex } : {}),
    });
  }
  return createEmbeddedStore(redis, prefix, config.retentionDays !== undefined ? { retentionDays: config.retentionDays } : {});
}
