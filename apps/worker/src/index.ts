export * from './workers';
export * from './genesys';
export * from './metrics-server';
export * from './genesys-metrics';
export * from './roles/occupancy-push';
