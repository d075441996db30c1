import base from './jest.config.js';

/**
 * The fault suite (`npm run test:faults`): each scenario spawns real api and worker processes from the compiled
 * build, injects its fault and compares the end state with the same work run without it. One file at a time —
 * the scenarios load the machine on purpose.
 * @type {import('jest').Config}
 */
export default {
  ...base,
  testMatch: ['<rootDir>/test/faults/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: '<rootDir>/test/faults/support/build.mjs',
  testTimeout: 300_000,
  maxWorkers: 1,
};
