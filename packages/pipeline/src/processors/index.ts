export * from './logger';
export * from './decide';
export * from './apply';
export * from './report';
