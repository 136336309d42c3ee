import type { Config } from './config';

/** One line per part, saying whether it is real or embedded, for start-up logs. Never includes secrets. */
export function describeParts(config: Config): Record<string, string> {
  return {
    redis: redactUrl(config.REDIS_URL),
    genesys: config.useSimulator
      ? `embedded simulator (${config.GENESYS_API_BASE ?? `http://127.0.0.1:${config.SIM_PORT}`})`
      : `Genesys Cloud ${config.GENESYS_API_BASE ? redactUrl(config.GENESYS_API_BASE) : config.GENESYS_ENVIRONMENT}`,
    decisionStore: config.elasticsearchUrl
      ? `Elasticsearch ${redactUrl(config.elasticsearchUrl)} index ${config.ELASTICSEARCH_INDEX}`
      : 'embedded store (Redis)',
    webhookAuth: config.WEBHOOK_SECRET
      ? config.WEBHOOK_TOKEN
        ? 'Standard Webhooks signature or X-Webhook-Token required'
        : 'Standard Webhooks signatures required'
      : config.WEBHOOK_TOKEN
        ? 'X-Webhook-Token required'
        : 'NONE (set WEBHOOK_SECRET or WEBHOOK_TOKEN in production)',
  };
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    // Not a single-host URL (e.g. redis-cluster://user:pass@h1:1,h2:2): mask whatever sits between ':' and '@'.
    return url.replace(/^([a-z+-]+:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
  }
}
