import type { Config } from '@ivr/config';
import { createGenesysClient, type GenesysClient } from '@ivr/genesys';
import type { Logger } from 'pino';

/** Credentials the embedded simulator accepts (apps/genesys-sim). */
export const SIM_CREDENTIALS = { clientId: 'sim-client', clientSecret: 'sim-secret' } as const;

/** The real SDK, pointed at Genesys Cloud, or at the simulator when no credentials are configured. */
export function genesysFromConfig(config: Config, logger: Logger): GenesysClient {
  const sim = config.useSimulator;
  return createGenesysClient({
    environment: config.GENESYS_ENVIRONMENT,
    apiBase: config.GENESYS_API_BASE ?? (sim ? `http://127.0.0.1:${config.SIM_PORT}` : undefined),
    clientId: sim ? SIM_CREDENTIALS.clientId : config.GENESYS_CLIENT_ID!,
    clientSecret: sim ? SIM_CREDENTIALS.clientSecret : config.GENESYS_CLIENT_SECRET!,
    timeoutMs: config.GENESYS_TIMEOUT_MS,
    logger: logger.child({ component: 'genesys' }),
  });
}
