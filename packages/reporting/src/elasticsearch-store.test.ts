/**
 * What the real-node suite (elasticsearch-store.int.test.ts) cannot provoke on demand: a whole request answered 429
 * or 503. The classification is checked on the client library's own error objects; everything that talks to
 * Elasticsearch is tested against a real node, not a mock.
 */
import { errors } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { storeError } from './elasticsearch-errors';
import { StoreUnavailableError } from './store';

function responseError(statusCode: number, type: string) {
  return new errors.ResponseError({ body: { error: { type, reason: type }, status: statusCode }, statusCode, headers: {}, warnings: null, meta: {} as never });
}

describe('elasticsearch store: whole-request errors', () => {
  it('treats 429, 5xx and connection errors as unavailable (retry), other errors as they are', () => {
    expect(storeError(responseError(429, 'es_rejected_execution_exception'), 'bulk')).toBeInstanceOf(StoreUnavailableError);
    expect(storeError(responseError(503, 'cluster_block_exception'), 'search')).toBeInstanceOf(StoreUnavailableError);
    expect(storeError(new errors.ConnectionError('connect ECONNREFUSED 127.0.0.1:9200'), 'bulk')).toBeInstanceOf(StoreUnavailableError);
    expect(storeError(new errors.TimeoutError('Request timed out'), 'bulk')).toBeInstanceOf(StoreUnavailableError);
    const forbidden = storeError(responseError(403, 'security_exception'), 'create index');
    expect(forbidden).not.toBeInstanceOf(StoreUnavailableError);
    expect(forbidden.message).toContain('security_exception');
    expect(storeError(responseError(503, 'x'), 'bulk').message).toMatch(/^Elasticsearch unavailable \(bulk\): /);
  });
});
