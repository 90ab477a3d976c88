/** What the operator console (bundled for the browser) uses of this lib: the index also pulls in Nest and Redis. */
export * from './agent';
export * from './agent-view';
