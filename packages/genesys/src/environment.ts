import platformClient from 'purecloud-platform-client-v2';

/** The Genesys Cloud regions' hosts the SDK knows (`platformClient.PureCloudRegionHosts`, e.g. `mypurecloud.ie`). */
export function genesysEnvironments(): string[] {
  return Object.values(platformClient.PureCloudRegionHosts);
}

/**
 * Returns `environment` when it is one of the SDK's regions, else throws a one-line error listing the valid values:
 * a typo (`mypurecloud.con`) would otherwise surface only as a DNS failure on the first login.
 */
export function checkGenesysEnvironment(environment: string): string {
  const valid = genesysEnvironments();
  if (valid.includes(environment)) return environment;
  throw new Error(`GENESYS_ENVIRONMENT "${environment}" is not a Genesys Cloud region; use one of: ${valid.join(', ')}`);
}
