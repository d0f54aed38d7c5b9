// Shared jest settings: CJS mode with @swc/jest, so TypeScript runs without a separate build.
const path = require('node:path');

module.exports = {
  testEnvironment: 'node',
  // One probe of every server per run (tools/servers): test files read its result while jest collects them.
  globalSetup: path.join(__dirname, 'tools/servers/jest-global-setup.mjs'),
  reporters: ['default', path.join(__dirname, 'tools/scripts/jest-summary-reporter.cjs')],
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Resolve sibling workspace packages to their sources, so a test never runs against a stale build.
  moduleNameMapper: {
    // Sources import './x.js' (NodeNext style); under jest they resolve to './x.ts'.
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^@es/core$': '<rootDir>/../../packages/core/src/index.ts',
    '^@es/core/(.*)$': '<rootDir>/../../packages/core/src/$1.ts',
    '^@es/testing$': '<rootDir>/../../packages/testing/src/index.ts',
    '^@es/sql$': '<rootDir>/../../packages/sql/src/index.ts',
    '^@es/cassandra$': '<rootDir>/../../packages/cassandra/src/index.ts',
    '^@es/example$': '<rootDir>/../../packages/example/src/index.ts',
    '^@es/servers$': '<rootDir>/../../tools/servers/src/index.ts',
    '^@es/servers/jest$': '<rootDir>/../../tools/servers/src/jest.ts',
    '^@es/cassandra-server$': '<rootDir>/../../tools/cassandra/src/index.ts',
  },
};
