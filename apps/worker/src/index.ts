export * from './workers';
export * from './genesys';
export * from './policy';
