export * from './store';
export * from './matrix';
export * from './wait-view';
export * from './embedded-store';
export * from './elasticsearch-store';
export * from './elasticsearch-mapping';
export * from './elasticsearch-aggs';
export * from './elasticsearch-errors';
export * from './create-store';
export * from './heatmap-html';
export * from './heatmap-file';
// Test-only: the contract suite (imports vitest) is at '@ivr/reporting/contract', decision fixtures at '@ivr/reporting/fixtures'.
export * from './store-init';
export * from './elasticsearch-admin';
