export * from './trace-carrier';
export * from './process-tracing';
export * from './trace-context';
export * from './service-tracer';
export * from './kept-trace-context';
export * from './request-route';
