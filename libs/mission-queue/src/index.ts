export * from './queue-order';
export * from './ready-queue';
