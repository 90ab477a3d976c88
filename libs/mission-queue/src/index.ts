export * from './queue-order';
export * from './queue-stats';
export * from './ready-queue';
