export * from './metrics';
export * from './metrics-server';
export * from './http-metrics';
export * from './server-timing';
