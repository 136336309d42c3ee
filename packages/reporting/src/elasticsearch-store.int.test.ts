import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { describe } from 'vitest';
import { describeDecisionStoreContract } from './contract';
import { createElasticsearchStore } from './elasticsearch-store';

const url = process.env.ELASTICSEARCH_URL;
const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
let n = 0;

describe.skipIf(!url)('elasticsearch store against a real cluster', () => {
  describeDecisionStoreContract('elasticsearch', async () => {
    const index = `test-genesys_flow_decisions-${runId}-${n++}`;
    const admin = new Client({
      node: url!,
      ...(process.env.ELASTICSEARCH_API_KEY ? { auth: { apiKey: process.env.ELASTICSEARCH_API_KEY } } : {}),
    });
    const store = createElasticsearchStore({ node: url!, index, client: admin, refresh: 'wait_for' });
    return {
      store,
      async read(id: string) {
        const res = await admin.get<Record<string, unknown>>({ index, id }, { ignore: [404] });
        return res.found ? res._source : undefined;
      },
      async cleanup() {
        await admin.indices.delete({ index, ignore_unavailable: true });
        await admin.indices.deleteIndexTemplate({ name: index }).catch(() => undefined);
        await admin.close();
      },
    };
  });
});
