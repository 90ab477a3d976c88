export * from './environment';
export * from './load-config';
export * from './cluster-nodes';
export * from './review-policy-file';
export * from './secret-file';
export * from './retention-days';
export * from './price-table';
export * from './http-url';
