export * from './processors/index';
export * from './conversation-store';
export * from './occupancy-cache';
export * from './occupancy-push';
export { observationTopic } from './pushed-figures';
export * from './estimated-wait-cache';
export * from './in-call';
export * from './report-sender';
export * from './held-sweep';
