export * from './types';
export * from './state-machine';
export * from './webhook';
export * from './idempotency';
export * from './routing-policy';
export * from './occupancy';
export * from './webhook-signature';
