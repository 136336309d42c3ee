export * from './types';
export * from './errors';
export { createGenesysClient, observationsQuery, OBSERVATION_METRICS, type GenesysClientOptions, type GenesysLogger } from './client';
export { TokenManager, type TokenManagerOptions } from './token-manager';
