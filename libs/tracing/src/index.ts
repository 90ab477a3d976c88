export * from './trace-carrier';
export * from './create-sampler';
export * from './process-tracing';
export * from './trace-context';
export * from './service-tracer';
