export * from './processors/index';
export * from './conversation-store';
export * from './occupancy-cache';
export * from './occupancy-push';
export * from './estimated-wait-cache';
