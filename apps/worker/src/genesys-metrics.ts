import { classifyGenesysError, type GenesysClient } from '@ivr/genesys';
import type { IvrMetrics } from '@ivr/metrics';

/**
 * The same client, with every API call counted by endpoint and HTTP status and timed
 * (`ivr_genesys_requests_total`, `ivr_genesys_request_duration_seconds`, `ivr_genesys_rate_limited_total`).
 * A call that got no HTTP answer (network error, timeout) counts as status 0.
 */
export function instrumentGenesys(client: GenesysClient, metrics: Pick<IvrMetrics, 'observeGenesys'>): GenesysClient {
  async function timed<T>(endpoint: string, call: () => Promise<T>, statusOf: (v: T) => number): Promise<T> {
    const start = performance.now();
    try {
      const v = await call();
      metrics.observeGenesys(endpoint, statusOf(v), (performance.now() - start) / 1000);
      return v;
    } catch (err) {
      metrics.observeGenesys(endpoint, classifyGenesysError(err).status ?? 0, (performance.now() - start) / 1000);
      throw err;
    }
  }
  return {
    login: () => client.login(),
    queryObservations: (queueIds) => timed('observations', () => client.queryObservations(queueIds), () => 200),
    patchParticipantAttributes: (cid, pid, attrs) => timed('attributes', () => client.patchParticipantAttributes(cid, pid, attrs), (r) => r.status),
    getConversation: (cid) => timed('conversation', () => client.getConversation(cid), () => 200),
    getEstimatedWaitSeconds: (q, m) => timed('estimatedwaittime', () => client.getEstimatedWaitSeconds(q, m), () => 200),
    createNotificationChannel: () => timed('notifications', () => client.createNotificationChannel(), () => 200),
    subscribeNotificationChannel: (id, topics) => timed('notifications', () => client.subscribeNotificationChannel(id, topics), () => 200),
    stats: () => client.stats(),
    close: () => client.close?.() ?? Promise.resolve(),
  };
}
