const preset = require('../../jest.preset.cjs');

// The CLI imports each backend's example package; under jest they resolve to their sources too.
module.exports = {
  ...preset,
  moduleNameMapper: { '^@es/example-(.*)$': '<rootDir>/../$1/src/index.ts', ...preset.moduleNameMapper },
};
