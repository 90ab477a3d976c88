export * from './ready-queue';
