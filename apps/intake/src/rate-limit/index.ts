export * from './api-key-throttler.guard';
export * from './redis-throttler-storage';
export * from './throttler-options';
export * from './auth-failure-throttle';
export * from './list-scan-limit';
