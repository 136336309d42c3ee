import { createLogger, describeParts, loadConfig, ConfigError } from '@ivr/config';
import { onShutdown } from '@ivr/queues';
import { genesysFromConfig } from './genesys';
import { startWorkers } from './workers';

const config = (() => {
  try {
    return loadConfig(process.env);
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : e);
    process.exit(78);
  }
})();
const logger = createLogger('worker', config.LOG_LEVEL);
logger.info({ parts: describeParts(config) }, 'worker starting');
const genesys = genesysFromConfig(config, logger);
try {
  await genesys.login();
} catch (e) {
  logger.fatal({ err: (e as Error).message }, 'Genesys login failed; not starting');
  process.exit(1);
}
const running = await startWorkers(config, logger, genesys);
onShutdown(logger, 'worker', () => running.close());
