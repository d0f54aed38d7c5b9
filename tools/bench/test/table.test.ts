import { SCENARIOS } from '../src/adapter.js';
import type { BackendReport, ImplementationReport } from '../src/report.js';
import { FULL_SIZES } from '../src/scenarios/sizes.js';
import { fmt, formatBackend } from '../src/table.js';
import { ran } from './fixtures.js';

const library = ran('library', {
  single: { singleEventsPerSecond: 1234.4, singleP50Ms: 0.0031, singleP99Ms: 2 },
  batch: { batchEventsPerSecond: 250_000 },
  contention: { contentionEventsPerSecond: 70, contentionConflicts: 12 },
  load: { loadsPerSecond: 45.46 },
});
const raw = ran('raw', {
  single: { singleEventsPerSecond: 1000, singleP50Ms: 0.0062, singleP99Ms: 1 },
  batch: { batchEventsPerSecond: 100_000 },
  contention: { contentionEventsPerSecond: 100, contentionConflicts: 10 },
  load: { loadsPerSecond: 50 },
});

function report(implementations: ImplementationReport[], extra: Partial<BackendReport> = {}): BackendReport {
  return {
    backend: 'postgres',
    title: 'PostgreSQL (postgres://db/test)',
    sizes: FULL_SIZES,
    implementations,
    ...extra,
  };
}

const rowOf = (table: string, start: string) =>
  table.split('\n').find((line) => line.startsWith(`| ${start}`));
const cellsOf = (row: string | undefined) =>
  row!
    .split('|')
    .slice(1, -1)
    .map((cell) => cell.trim());

describe('the table of a backend', () => {
  const emmett: ImplementationReport = {
    implementation: 'emmett',
    notRun: 'no event store here',
    scenarios: {},
  };
  const table = formatBackend(report([library, raw, emmett]), SCENARIOS);

  it('has a heading with the server version, then one row per figure, every row as wide as the header', () => {
    const withVersion = formatBackend(report([{ ...raw, serverVersion: 'PostgreSQL 15.20' }]), SCENARIOS);
    expect(withVersion.split('\n')[0]).toBe('### PostgreSQL (postgres://db/test) (PostgreSQL 15.20)');
    const rows = table.split('\n').filter((line) => line.startsWith('|'));
    expect(cellsOf(rows[0])).toEqual([
      'scenario',
      '@es',
      'raw driver',
      'Emmett',
      '@es / raw',
      '@es / Emmett',
    ]);
    expect(rows[1]).toBe('|---|--:|--:|--:|--:|--:|');
    expect(rows).toHaveLength(2 + 10);
    for (const row of rows) expect(cellsOf(row)).toHaveLength(6);
  });

  it('labels each row with its unit and the sizes it ran with', () => {
    expect(rowOf(table, '1.')).toContain('1. single-event appends, new streams, 1 writer (events/s)');
    expect(rowOf(table, '2.')).toContain('2. 100-event batch appends, new streams (events/s)');
    expect(rowOf(table, '3.')).toContain('3. 8 writers, own streams, expected version (events/s)');
    expect(rowOf(table, '5.')).toContain('5. load the entity of a 10,000-event stream (loads/s)');
    expect(rowOf(table, '6.')).toContain('6. notification log from the start, pages of 1,000 (events/s)');
    expect(rowOf(table, '   latency p50')).toContain('latency p50 (ms)');
  });

  it('prints each figure with its digits: events/s whole with separators, loads/s to 0.1, latencies to 0.001 ms', () => {
    expect(cellsOf(rowOf(table, '1.'))[1]).toBe('1,234');
    expect(cellsOf(rowOf(table, '2.'))[1]).toBe('250,000');
    expect(cellsOf(rowOf(table, '5.'))[1]).toBe('45.5');
    expect(cellsOf(rowOf(table, '   latency p50'))[1]).toBe('0.003');
    expect(fmt(1234567.891, 2)).toBe('1,234,567.89');
  });

  it('marks each throughput ratio against its target (0.8x raw, 1.5x Emmett), and latencies without a mark', () => {
    expect(cellsOf(rowOf(table, '1.'))[4]).toBe('1.23x ✓');
    expect(cellsOf(rowOf(table, '4.'))[4]).toBe('0.70x ✗');
    expect(cellsOf(rowOf(table, '   latency p50'))[4]).toBe('2.00x');
    expect(cellsOf(rowOf(table, '   latency p99'))[4]).toBe('0.50x');
    // Conflicts are not a speed: no ratio.
    expect(cellsOf(rowOf(table, '   conflicts'))[4]).toBe('');
    const vsEmmett = formatBackend(
      report([
        library,
        ran('emmett', { batch: { batchEventsPerSecond: 200_000 }, load: { loadsPerSecond: 30 } }),
      ]),
      ['batch', 'load'],
    );
    expect(cellsOf(rowOf(vsEmmett, '2.'))[5]).toBe('1.25x ✗');
    expect(cellsOf(rowOf(vsEmmett, '5.'))[5]).toBe('1.52x ✓');
    // A ratio exactly at its target meets it.
    const atTarget = formatBackend(
      report([
        ran('library', { load: { loadsPerSecond: 40 } }),
        ran('raw', { load: { loadsPerSecond: 50 } }),
      ]),
      ['load'],
    );
    expect(cellsOf(rowOf(atTarget, '5.')).slice(1)).toEqual(['40.0', '50.0', '-', '0.80x ✓', '']);
  });

  it('says why a figure is missing, in a numbered note given once per reason', () => {
    // Emmett did not run at all: every row points at the same note.
    const notes = table.split('\n').filter((line) => line.startsWith('- ['));
    expect(notes).toContain('- [1] Emmett: no event store here');
    expect(cellsOf(rowOf(table, '1.'))[3]).toBe('n/a [1]');
    expect(cellsOf(rowOf(table, '2.'))[3]).toBe('n/a [1]');
    // The library's log scenario did not run in this report at all: a dash, no note.
    expect(cellsOf(rowOf(table, '6.'))[1]).toBe('-');
    expect(cellsOf(rowOf(table, '6.'))[4]).toBe('');

    const partial: ImplementationReport = {
      implementation: 'emmett',
      scenarios: {
        writers: { status: 'failed', error: 'Error: SQLITE_BUSY' },
        log: { status: 'unsupported', reason: 'no global read API' },
        load: {
          status: 'ok',
          result: {
            scenario: 'load',
            metrics: { loadsPerSecond: 10 },
            missing: { snapshotLoadsPerSecond: 'no snapshots' },
            seconds: 1,
          },
        },
      },
    };
    const withGaps = formatBackend(report([library, raw, partial]), SCENARIOS);
    expect(cellsOf(rowOf(withGaps, '3.'))[3]).toBe('FAILED [1]');
    expect(cellsOf(rowOf(withGaps, '   the same, from a snapshot'))[3]).toBe('n/a [2]');
    expect(cellsOf(rowOf(withGaps, '6.'))[3]).toBe('n/a [3]');
    expect(withGaps).toContain('- [1] Emmett, writers: Error: SQLITE_BUSY');
    expect(withGaps).toContain('- [2] Emmett: no snapshots');
    expect(withGaps).toContain('- [3] Emmett: no global read API');
  });

  it('leaves out an implementation that was not asked for, and the rows of scenarios not run', () => {
    const only = formatBackend(report([library]), ['batch']);
    const rows = only.split('\n').filter((line) => line.startsWith('| 2.'));
    expect(rows).toHaveLength(1);
    expect(cellsOf(rows[0])).toEqual([
      '2. 100-event batch appends, new streams (events/s)',
      '250,000',
      '-',
      '-',
      '',
      '',
    ]);
    expect(only).not.toContain('| 1.');
  });

  it('describes what each implementation measured and what was checked after each run', () => {
    expect(table).toContain('- @es: library as measured');
    expect(table).toContain('- raw driver: raw as measured');
    const checked: ImplementationReport = {
      implementation: 'library',
      scenarios: {
        writers: {
          status: 'ok',
          result: {
            scenario: 'writers',
            metrics: {},
            check: 'every stream complete and in order',
            seconds: 1,
          },
        },
      },
    };
    expect(formatBackend(report([checked]), SCENARIOS)).toContain(
      '- checked after each run: writers: every stream complete and in order',
    );
  });

  it('says whether the absolute batch target was met', () => {
    expect(formatBackend(report([library], { batchTarget: 200_000 }), SCENARIOS)).toContain(
      'Target: @es 100-event batches at 200,000+ events/s: 250,000 events/s MET.',
    );
    expect(formatBackend(report([library], { batchTarget: 1_000_000 }), SCENARIOS)).toContain(
      'Target: @es 100-event batches at 1,000,000+ events/s: 250,000 events/s MISSED.',
    );
  });

  it('shows a skipped backend as its heading and why, with no table', () => {
    const skipped = formatBackend(
      report([], { skipped: 'PostgreSQL at postgres://db/test: not ready (refused)' }),
      SCENARIOS,
    );
    expect(skipped).toBe(
      '### PostgreSQL (postgres://db/test)\n\n**SKIPPED: PostgreSQL at postgres://db/test: not ready (refused)**\n',
    );
  });
});
