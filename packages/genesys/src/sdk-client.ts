import platformClient from 'purecloud-platform-client-v2';

export type SdkApiClient = platformClient.ApiClientClass;

export interface SdkClientOptions {
  environment: string;
  apiBase?: string;
  timeoutMs: number;
}

/**
 * A private SDK ApiClient (not the `platformClient.ApiClient` singleton): the SDK exposes the class as
 * `ApiClientClass`, and every `new ApiClientClass()` gets its own Configuration, auth data and axios instance.
 * That lets one process (and tests) hold several independent clients.
 */
export function createSdkClient(opts: SdkClientOptions): SdkApiClient {
  const client = new platformClient.ApiClientClass();
  // Stop the SDK from watching ~/.genesyscloudjavascript/config (it could reset the gateway under us).
  client.config.live_reload_config = false;
  if (opts.apiBase) client.setGateway(gatewayOf(opts.apiBase));
  else client.setEnvironment(opts.environment);
  client.setReturnExtendedResponses(true);
  // v262 has no ApiClient.setTimeout: the timeout lives on the HTTP client.
  client.getHttpClient().setTimeout(opts.timeoutMs);
  // The SDK formats a log entry (deep copies of headers and body) for every call before it checks whether
  // logging is on (~2% of a worker's CPU in the bench profile). We log calls ourselves: make it a no-op.
  const sdkLogger = (client.config as { logger?: { log?: unknown } }).logger;
  if (sdkLogger && typeof sdkLogger.log === 'function') sdkLogger.log = () => undefined;
  return client;
}

function gatewayOf(apiBase: string): { host: string; protocol: string; port?: number; path_params_login?: string; path_params_api?: string } {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    throw new Error(`GENESYS_API_BASE must be a URL like http://127.0.0.1:4010, got "${apiBase}"`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  return {
    host: url.hostname,
    protocol: url.protocol.replace(/:$/, ''),
    ...(url.port ? { port: Number(url.port) } : {}),
    ...(path ? { path_params_login: path, path_params_api: path } : {}),
  };
}

/** Where the SDK sends the client-credentials login (for error messages). */
export function loginUrl(client: SdkApiClient): string {
  return `${client.config.getConfUrl('login', `https://login.${client.config.environment}`)}/oauth/token`;
}
