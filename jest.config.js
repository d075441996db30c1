/**
 * Jest runs in native ESM mode (NestJS 12 ships ES modules only, and Jest can only require(esm) on Node >= 24.9).
 * ts-jest transpiles each file on its own (isolatedModules); `npm run typecheck` does the type checking.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: {
    '^@plexus/sdk/testing$': '<rootDir>/libs/sdk/src/testing/index.ts',
    '^@plexus/([^/]+)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/{apps,libs,connectors,test}/**/*.{spec,test}.ts'],
  // test/scaffold-output holds connectors scaffolded by a test, which runs their suites itself; test/faults is
  // the fault suite, run on its own by `npm run test:faults` (jest.faults.config.js).
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/scaffold-output/', '/test/faults/'],
  testTimeout: 60000,
  maxWorkers: 2,
};
