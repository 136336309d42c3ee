export { createAuthenticator, standardWebhooksSecret, type Authenticator, type AuthenticatorOptions } from './authenticate';
