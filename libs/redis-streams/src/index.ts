export * from './stream-message';
export * from './stream-events';
export * from './permanent-error';
export * from './redis-streams.context';
export * from './redis-streams.server';
export * from './redis-streams.client';
export * from './pass-through-rpc.filter';
export * from './stream-consumer.decorator';
