export * from './mission-effects';
export * from './mission-pipeline';
export * from './dead-letter-log';
export * from './retry-backoff';
export * from './restore-effects';
export * from './time-to-success-metric';
