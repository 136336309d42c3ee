export * from './redis';
export * from './lua';
