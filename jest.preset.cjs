// Shared jest settings: CJS mode with @swc/jest, so TypeScript runs without a separate build.
const path = require('node:path');
const { paths } = require('./tsconfig.base.json').compilerOptions;

module.exports = {
  testEnvironment: 'node',
  // A test's time limit catches hangs, not slowness: on a shared 2-core machine a test that takes 300 ms
  // alone can take ten times that, and jest's default of 5 s then fails a correct test.
  testTimeout: 30_000,
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
  moduleNameMapper: {
    // Sources import './x.js' (NodeNext style); under jest they resolve to './x.ts'.
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Workspace packages resolve to their sources, so a test never runs against a stale build (or needs
    // one): the same table tsc and tsx read, tsconfig.base.json's `paths` (read with require(), so that
    // file stays plain JSON, without comments).
    ...Object.fromEntries(
      Object.entries(paths).map(([name, [source]]) => [`^${name}$`, path.join(__dirname, source)]),
    ),
  },
};
