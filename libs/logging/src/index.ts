export * from './logging.module';
export * from './quiet-nest-logger';
export * from './failure-streak';
export * from './logged-url';
