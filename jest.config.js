// Jest: TypeScript through SWC. Unit and workflow tests need no lab; integration tests share one test lab (globalSetup).
const transform = require('./test/jest-transform');

/** @type {import('jest').Config} */
module.exports = {
  verbose: true,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  testTimeout: 240000,
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform, testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    // Workflows on a local Temporal dev server with mocked activities: no lab, seconds per file.
    // Replay tests need only the bundle, so they run here too: the determinism guard holds without a lab.
    { displayName: 'workflows', testEnvironment: 'node', transform, testMatch: ['<rootDir>/test/workflows/**/*.test.ts', '<rootDir>/test/replay/**/*.test.ts'], globalSetup: '<rootDir>/test/workflows/global-setup.ts' },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
  ],
};
