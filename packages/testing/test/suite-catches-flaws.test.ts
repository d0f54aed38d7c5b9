import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FLAWS, type Flaw } from './flawed/flawed-strategy.js';

// The suite is only worth passing if it fails for broken stores. This runs it (in a child jest) over
// stores that each make one mistake, and checks that the tests aimed at that mistake fail, while the
// same store without the mistake passes everything.

/** For each flaw, tests (by title) that must fail. Others may fail too. */
const MUST_FAIL: Record<Flaw, string[]> = {
  none: [],
  'non-atomic batches': [
    'a batch with a taken timestamp (first, middle or last item) rejects with ConcurrencyError and writes nothing',
  ],
  'no conflict check': [
    'a batch whose first items clash rejects with ConcurrencyError and writes nothing',
    '8 writers racing for the next position: one winner per position',
    '8 writers appending the same 10-item batch: exactly one succeeds',
    'a change made to a stale copy conflicts (ConcurrencyError) and is not stored',
  ],
  'trims data': ['append, getItem and getItems round-trip every field verbatim'],
  'positions as strings': ['returns instances of SequencedItem with numeric positions'],
  'timestamps rounded to milliseconds': [
    'fractional positions round-trip exactly',
    'ranges: gte an exact fractional position includes it',
  ],
  'descending limit takes the oldest': [
    'getItems: descending with limit: the newest N',
    'iterateItems pages through it descending (pageSize 1000)',
  ],
  'duplicate sequence ids': ['listSequenceIds includes every appended sequence, once'],
  'interleaved notification ids': ['two concurrent 1,000-item batches get id ranges that do not interleave'],
  'ids visible out of order': [
    'a follower polling during concurrent appends sees every committed item once, in order',
  ],
  'max id is the count': ['maxNotificationId is the id of the last notification'],
  'rejected batches are logged': [
    'a batch whose first items clash rejects with ConcurrencyError and writes nothing',
    '8 writers appending the same 10-item batch: exactly one succeeds',
  ],
  'gaps accepted': [
    'an append that leaves a gap rejects with ConcurrencyError and writes nothing (contiguous: true)',
  ],
  'sequence ids folded to lower case': [
    'ids are case-sensitive: Order-1 and order-1 are different sequences',
  ],
  'sequence ids trimmed': ['trailing and leading spaces are significant'],
  'topics ignored': [
    'selectNotifications(start, limit, { topics }) returns only those topics, limit counting matches',
  ],
};

interface Outcome {
  passed: number;
  failed: string[];
}

interface JestJson {
  testResults: Array<{
    message: string;
    assertionResults: Array<{ ancestorTitles: string[]; title: string; status: string }>;
  }>;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs the suite over stores with these flaws; with `only`, just the tests of those titles. */
async function runSuite(flaws: readonly Flaw[], only?: readonly string[]): Promise<Map<string, Outcome>> {
  const output = join(mkdtempSync(join(tmpdir(), 'es-testing-flaws-')), 'results.json');
  const packageDir = join(__dirname, '..');
  const args = [
    join(packageDir, 'node_modules/jest/bin/jest.js'),
    '--config',
    join(packageDir, 'jest.config.cjs'),
    '--testMatch',
    '<rootDir>/test/flawed/*.suite.ts',
    '--json',
    `--outputFile=${output}`,
    ...(only ? ['--testNamePattern', `(${only.map(escape).join('|')})$`] : []),
  ];
  // The child run's failures are expected: keep them out of `pnpm test`'s totals.
  const { ES_TEST_SUMMARY: _summary, ...parentEnv } = process.env;
  const env = { ...parentEnv, ES_TESTING_FLAWS: flaws.join(',') };
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: packageDir, env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
  if (!existsSync(output)) throw new Error(`the child jest wrote no results (${args.join(' ')})`);
  const results = JSON.parse(readFileSync(output, 'utf8')) as JestJson;
  const outcomes = new Map<string, Outcome>();
  for (const file of results.testResults) {
    if (file.assertionResults.length === 0) throw new Error(`the flawed suites did not run: ${file.message}`);
    for (const test of file.assertionResults) {
      const flaw = /^flaw=(.*): /.exec(test.ancestorTitles[0] ?? '')?.[1] ?? '?';
      const outcome = outcomes.get(flaw) ?? { passed: 0, failed: [] };
      if (test.status === 'passed') outcome.passed += 1;
      else outcome.failed.push(test.title);
      outcomes.set(flaw, outcome);
    }
  }
  return outcomes;
}

let outcomes = new Map<string, Outcome>();

beforeAll(async () => {
  // The unflawed store runs everything; the flawed ones only the tests that must catch them.
  const flawed = FLAWS.filter((flaw) => flaw !== 'none');
  const parts = await Promise.all([
    runSuite(['none']),
    runSuite(flawed, [...new Set(flawed.flatMap((f) => MUST_FAIL[f]))]),
  ]);
  outcomes = new Map(parts.flatMap((part) => [...part]));
}, 300_000);

test('the suite passes a store without flaws', () => {
  const outcome = outcomes.get('none');
  expect(outcome?.failed).toEqual([]);
  expect(outcome?.passed).toBeGreaterThan(100);
});

test.each(FLAWS.filter((flaw) => flaw !== 'none'))('the suite fails a store whose flaw is: %s', (flaw) => {
  const failed = outcomes.get(flaw)?.failed;
  expect(failed).toBeDefined();
  expect(MUST_FAIL[flaw].filter((title) => !failed!.includes(title))).toEqual([]);
});
