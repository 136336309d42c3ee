export * from './prefix';
export * from './logger';
export * from './sim';
export * from './processes';
export * from './exposition';
export * from './strict-json';
