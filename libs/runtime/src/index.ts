export * from './tokens';
export * from './core.module';
export * from './consumer-health';
export * from './health.controller';
export * from './service-app';
export * from './repo-file';
export * from './metrics';
export * from './key-layout-of';
