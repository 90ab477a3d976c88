/**
 * What the operator console (bundled for the browser) uses of this lib: files that import nothing
 * from Node or from the server-side packages the index pulls in (Nest, class-validator, node:crypto).
 */
export * from './mission-type';
export * from './mission-status';
export * from './mission-state';
export * from './mission-events';
export * from './review-basis';
export * from './live-stream-protocol';
export * from './unreadable-mission';
export * from './bulk-requeue';
export * from './dead-letter-entry';
export * from './mission-page';
export * from './review-inbox-item';
export * from './mission-id-pattern';
export * from './queue-stats';
