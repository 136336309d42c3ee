import type { Logger } from 'pino';
import { exitOnStartupFailure, type Config } from '@ivr/config';
import type { GenesysClient } from '@ivr/genesys';
import { createRedis, waitForRedis } from '@ivr/redis';
import { genesysFromConfig } from './genesys';

/** The Genesys client from config, or one line and exit 1 (e.g. GENESYS_ENVIRONMENT is not one of the SDK's regions: the valid values). */
export function genesysOrExit(config: Config, logger: Logger): GenesysClient {
  try {
    return genesysFromConfig(config, logger);
  } catch (e) {
    logger.fatal({ err: (e as Error).message }, 'Genesys configuration invalid; not starting');
    process.exit(1);
  }
}

/**
 * Redis reachable, or one line and exit 1. Checked before the login: the login goes through the Genesys budget, which
 * lives in Redis, so an unreachable Redis is the reason to report, not the login it makes fail.
 */
export async function redisOrExit(config: Config): Promise<void> {
  const probe = createRedis(config.REDIS_URL, 'client', { connectionName: 'ivr-worker-start' });
  probe.on('error', () => undefined); // the timeout below says it once, in one line
  await waitForRedis(probe).catch((err: unknown) => exitOnStartupFailure(err, { app: 'worker' }));
  probe.disconnect();
}

/** Log in to Genesys (bad credentials stop the worker with Genesys' reason), or exit 1. */
export async function loginOrExit(genesys: GenesysClient, logger: Logger): Promise<void> {
  try {
    await genesys.login();
  } catch (e) {
    logger.fatal({ err: (e as Error).message }, 'Genesys login failed; not starting');
    process.exit(1);
  }
}
