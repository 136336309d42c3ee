export { loadConfig, ConfigError, type Config } from './config';
export { describeParts } from './describe-parts';
