export * from './recorder';
export * from './recording';
export * from './replay';
export * from './what-if';
export * from './failed';
