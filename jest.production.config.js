// npm run test:production: failover and restart tests on the production-profile lab (PostgreSQL, the Temporal
// server and Web UI server, worker processes). Slow to set up the first time (the server is built), so kept apart.
const transform = require('./test/jest-transform');

/** @type {import('jest').Config} */
module.exports = {
  verbose: true,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  testTimeout: 300000,
  projects: [
    {
      displayName: 'production',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/production/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/production/env.js'],
      globalSetup: '<rootDir>/test/production/global-setup.ts',
      globalTeardown: '<rootDir>/test/production/global-teardown.ts',
    },
  ],
};
