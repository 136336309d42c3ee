import type { Config } from '@ivr/config';
import { createGenesysClient, createRedisBudget, type GenesysClient } from '@ivr/genesys';
import { createRedis } from '@ivr/redis';
import type { Logger } from 'pino';

/** Credentials the embedded simulator accepts (apps/genesys-sim). */
export const SIM_CREDENTIALS = { clientId: 'sim-client', clientSecret: 'sim-secret' } as const;

/**
 * The real SDK, pointed at Genesys Cloud, or at the simulator when no credentials are configured. Every request
 * and login goes through one budget in Redis (GENESYS_RATE_PER_MIN per GENESYS_BUDGET_WINDOW_MS, shared by every
 * process on REDIS_URL + QUEUE_PREFIX), on a connection of its own that `close()` releases.
 */
export function genesysFromConfig(config: Config, logger: Logger): GenesysClient {
  const sim = config.useSimulator;
  const redis = createRedis(config.REDIS_URL, 'client', { connectionName: 'ivr-genesys-budget', commandTimeout: 2000 });
  redis.on('error', (err) => logger.warn({ connection: 'genesys-budget', err: err.message }, 'Redis connection error'));
  const budget = createRedisBudget({
    redis,
    prefix: config.QUEUE_PREFIX,
    limit: config.GENESYS_RATE_PER_MIN,
    windowMs: config.GENESYS_BUDGET_WINDOW_MS,
    reservePct: config.GENESYS_BUDGET_READ_RESERVE_PCT,
  });
  const client = createGenesysClient({
    environment: config.GENESYS_ENVIRONMENT,
    apiBase: config.GENESYS_API_BASE ?? (sim ? `http://127.0.0.1:${config.SIM_PORT}` : undefined),
    clientId: sim ? SIM_CREDENTIALS.clientId : config.GENESYS_CLIENT_ID!,
    clientSecret: sim ? SIM_CREDENTIALS.clientSecret : config.GENESYS_CLIENT_SECRET!,
    timeoutMs: config.GENESYS_TIMEOUT_MS,
    logger: logger.child({ component: 'genesys' }),
    budget,
  });
  return {
    ...client,
    async close() {
      await client.close?.();
      redis.disconnect();
    },
  };
}
