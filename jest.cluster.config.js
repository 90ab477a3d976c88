/**
 * `npm run test:cluster`: the end-to-end suite and the cluster harness checks against a private
 * 3-master Redis Cluster (scripts/redis-cluster.ts) that lives as long as the run.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/e2e/**/*.spec.ts', '<rootDir>/test/cluster/**/*.spec.ts'],
  // Three end-to-end specs are about one Redis server, not a cluster: the bench smoke measures it
  // (MEMORY USAGE, the server's CPU), and the lost-reply and executor blip specs put a TCP proxy
  // in front of it (a Cluster client would reach the nodes it learns of, not the proxy).
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/test/e2e/bench-smoke.e2e.spec.ts',
    '<rootDir>/test/e2e/lost-reply.e2e.spec.ts',
    '<rootDir>/test/e2e/executor-shutdown-blip.e2e.spec.ts',
  ],
  globalSetup: '<rootDir>/test/setup/cluster-global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/cluster-global-teardown.ts',
};
