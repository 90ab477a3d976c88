/** What the operator console (bundled for the browser) uses of this lib: the index also pulls in Redis and its Lua scripts. */
export * from './queue-stats';
