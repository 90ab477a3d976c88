export * from './environment';
export * from './load-config';
export * from './cluster-nodes';
