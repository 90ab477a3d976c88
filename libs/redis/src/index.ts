export * from './redis-connection';
export * from './redis-reachability';
export * from './key-scan';
export * from './lua-script';
export * from './redis-clock';
export * from './embedded-redis';
export { redisServerAddress } from './previous-redis-server';
export * from './free-port';
export * from './redis-startup';
