export * from './app';
export * from './server';
export * from './errors';
export * from './prefer';
export * from './middleware/index';
