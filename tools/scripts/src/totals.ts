/** The lines `pnpm test` closes with, from the one-JSON-line-per-jest-run file the summary reporter appends to. */
export interface PackageCounts {
  readonly package: string;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

/**
 * One line per package, then the totals line `N passed, N failed, N skipped` (the plain closing line CI reads).
 * `runFailed`: turbo's exit status said a run failed; a package whose jest could not even start reports no
 * counts, so the run still counts one failure.
 */
export function summarise(jsonLines: string, runFailed: boolean): { lines: string[]; ok: boolean } {
  const rows = jsonLines
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as PackageCounts);
  const totals = { passed: 0, failed: 0, skipped: 0 };
  for (const row of rows) {
    totals.passed += row.passed;
    totals.failed += row.failed;
    totals.skipped += row.skipped;
  }
  const failed = totals.failed || (runFailed ? 1 : 0);
  return {
    lines: [
      ...rows.map(
        (row) =>
          `  ${row.package.padEnd(28)} ${row.passed} passed, ${row.failed} failed, ${row.skipped} skipped`,
      ),
      `${totals.passed} passed, ${failed} failed, ${totals.skipped} skipped`,
    ],
    ok: failed === 0,
  };
}
