/**
 * `npm run test:cluster`: the end-to-end suite and the cluster harness checks against a private
 * 3-master Redis Cluster (scripts/redis-cluster.ts) that lives as long as the run.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/e2e/**/*.spec.ts', '<rootDir>/test/cluster/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/setup/cluster-global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/cluster-global-teardown.ts',
};
