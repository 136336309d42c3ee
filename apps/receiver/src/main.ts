import { createLogger, loadConfig, ConfigError } from '@ivr/config';
import { startReceiver } from './server';
import { onShutdown } from '@ivr/queues';

const config = (() => {
  try {
    return loadConfig(process.env);
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : e);
    process.exit(78);
  }
})();
const logger = createLogger('receiver', config.LOG_LEVEL);
const receiver = await startReceiver(config, logger);
onShutdown(logger, 'receiver', () => receiver.close());
