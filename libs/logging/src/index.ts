export * from './logging.module';
export * from './quiet-nest-logger';
