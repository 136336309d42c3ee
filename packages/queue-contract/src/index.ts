export * from './names';
export * from './jobs';
export * from './queues';
export * from './write-back';
export * from './attempt-log';
export * from './decision-answer';
export * from './held';
