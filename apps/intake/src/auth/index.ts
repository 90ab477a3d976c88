export * from './api-key';
export * from './api-client';
export * from './api-path';
export * from './api-key-store';
export * from './api-key.guard';
export * from './local-operator-key';
export * from './requires-role.decorator';
export * from './resolve-api-keys';
