/** One Jest run for unit tests (beside the code) and integration/e2e tests (test/). */
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // The fault-injection suite runs the services as processes and takes minutes: `npm run test:faults`.
  // test/cluster needs the Redis Cluster that `npm run test:cluster` starts.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/', '<rootDir>/test/cluster/'],
  // Each file on its own (transpiled, not type-checked: `npm run typecheck` does that once, for all).
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
  // How long a worker may take to exit once its files are done before Jest kills it and warns of a
  // leak ("failed to exit gracefully"). A worker that holds no handle still frees its whole heap on
  // the way out: 3.7 s after a full run on a busy two-core machine, far over Jest's default 500 ms.
  // A handle left open keeps a worker alive for good, so a real leak is still reported.
  workerGracefulExitTimeout: 10000,
};
