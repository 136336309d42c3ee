export * from './ingest';
export * from './idempotency-store';
export * from './decision-waiter';
export * from './recorder';
