export * from './build';
export * from './ports';
export * from './service-processes';
export * from './private-redis';
export * from './workload';
export * from './outcome';
export * from './scenario';
export * from './invariants';
