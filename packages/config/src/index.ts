export { loadConfig, loadConfigOrExit, decisionStoreConfig, ConfigError, type Config } from './config';
export { describeParts, redactUrl } from './describe-parts';
export { envSchema } from './config';
export * from './logger';
export * from './startup';
