// Appends each jest run's counts to $ES_TEST_SUMMARY (one JSON line), so that `pnpm test` can close with
// one total over every package.
const { appendFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.ES_TEST_SUMMARY;
    if (!file) return;
    const line = {
      package: process.env.npm_package_name ?? process.cwd(),
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    appendFileSync(file, JSON.stringify(line) + '\n');
  }
}

module.exports = SummaryReporter;
