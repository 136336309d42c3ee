export * from './prefix';
export * from './logger';
