export * from './types';
export * from './errors';
export { createGenesysClient, observationsQuery, OBSERVATION_METRICS, type GenesysClientOptions, type GenesysLogger } from './client';
export { TokenManager, type TokenManagerOptions } from './token-manager';
export { createRedisBudget, budgetKeys, budgetUsage, type BudgetUsage, priorityOf, ENDPOINT_PRIORITY, type GenesysBudget, type BudgetGrant, type BudgetPriority, type BudgetStats, type RedisBudgetOptions } from './budget';
export { createCustomerResolver, customerParticipantId, ParticipantUnresolvableError, CUSTOMER_PURPOSE, CUSTOMER_CACHE_TTL_MS, type CustomerResolver, type CustomerResolverOptions } from './customer-participant';
export { checkGenesysEnvironment, genesysEnvironments } from './environment';
