import { Client } from '@elastic/elasticsearch';
import type { DecisionStoreConfig } from './create-store';
import { DEFAULT_INDEX } from './elasticsearch-store';

/**
 * Delete these decisions (by `_id` = decisionId) from the configured index, and nothing else: `pnpm demo` removes its
 * own previous run's documents so that its "500 stored" is this run's. One `_bulk` of delete ops (delete-by-query
 * lives in the reindex module, which not every distribution has). Returns how many existed.
 */
export async function deleteElasticsearchDecisions(config: DecisionStoreConfig, decisionIds: readonly string[]): Promise<number> {
  if (!config.elasticsearchUrl || decisionIds.length === 0) return 0;
  const client = new Client({
    node: config.elasticsearchUrl,
    maxRetries: 0,
    ...(config.elasticsearchApiKey
      ? { auth: { apiKey: config.elasticsearchApiKey } }
      : config.elasticsearchUsername
        ? { auth: { username: config.elasticsearchUsername, password: config.elasticsearchPassword ?? '' } }
        : {}),
  });
  const index = config.elasticsearchIndex ?? DEFAULT_INDEX;
  try {
    if (!(await client.indices.exists({ index }))) return 0;
    const res = await client.bulk({ index, refresh: 'wait_for', operations: decisionIds.map((id) => ({ delete: { _id: id } })) });
    return res.items.filter((i) => i.delete?.result === 'deleted').length;
  } finally {
    await client.close();
  }
}
