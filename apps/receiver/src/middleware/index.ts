export { createAuthenticator, standardWebhooksSecret, type Authenticator, type AuthenticatorOptions } from './authenticator';
export { requireJson } from './require-json';
export { authenticate } from './authenticate';
export { parseWebhook } from './parse-webhook';
export { ingest, ingestAnswer, type IngestStepDeps } from './ingest';
export { preferWait, type PreferWaitDeps } from './prefer-wait';
export { received } from './received';
export type { ReceiverEnv, WebhookVars, Observe } from './webhook-env';
