export * from './app';
export * from './server';
export * from './with-timeout';
export * from './prefer';
export * from './middleware/index';
