export * from './mission-client';
