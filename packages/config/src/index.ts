export { loadConfig, loadConfigOrExit, decisionStoreConfig, ConfigError, type Config } from './config';
export { describeParts, redactUrl } from './describe-parts';
export { envSchema, MIN_SECRET_BYTES, MIN_ADMIN_TOKEN_DISTINCT } from './config';
export * from './logger';
export * from './startup';
export { loadConfigSubset, orExit } from './config';
export { loadTestEnv, type TestEnv } from './test-env';
export { loadRoutingPolicy } from './policy';
