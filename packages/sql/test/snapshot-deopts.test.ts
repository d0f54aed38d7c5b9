import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A snapshot-and-events read after a long one does not deoptimise V8's compiled code again and again
 * (docs/benchmarks.md, "Round 2e: SQLite loads"). The child reads a page of 5,000 rows, then the
 * snapshot alone 300 times, under `node --trace-deopt`; the deoptimisations V8 reports while it reads
 * the snapshot are counted. With the row loop and the code after it in one closure, V8 entered the loop's
 * on-stack-replacement code at every read and left it at once: 50 to 141 deoptimisations in three runs
 * of 300 reads; in their own functions, none. Not a timing: what V8 reports that it did.
 */
const tsx = require.resolve('tsx');
const child = join(__dirname, 'children', 'snapshot-reads.ts');
const tsconfig = join(__dirname, '..', 'tsconfig.json');

test('reads of a snapshot after a long first read run without repeated deoptimisations', () => {
  const run = spawnSync(process.execPath, ['--trace-deopt', '--import', tsx, child, '300'], {
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const output = run.stdout;
  const start = output.indexOf('--- reads from the snapshot: start');
  const end = output.indexOf('--- reads from the snapshot: end');
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  // V8 does report deoptimisations in this run (its start-up has some): the count below is not vacuous.
  expect(output.match(/\[bailout/g)?.length ?? 0).toBeGreaterThan(0);
  const bailouts = output.slice(start, end).match(/\[bailout/g) ?? [];
  expect(bailouts.length).toBeLessThan(5);
}, 60_000);
