export * from './recording';
export * from './replay';
export * from './what-if';
export * from './failed';
export * from './lookup';
export * from './pause';
export * from './backlog';
