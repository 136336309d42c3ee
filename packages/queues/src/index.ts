export * from './names';
export * from './jobs';
export * from './redis';
export * from './queues';
export * from './idempotency-store';
export * from './conversation-store';
export * from './ingest';
