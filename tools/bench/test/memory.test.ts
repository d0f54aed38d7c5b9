import { CommanderError } from 'commander';
import {
  BOUNDED_SLACK_BYTES,
  type CaseOutcome,
  type CaseResult,
  PeakSampler,
  memoryMarkdown,
  verdicts,
  withinBound,
} from '../src/memory/figures.js';
import {
  FULL,
  QUICK,
  READS,
  heapLimitOf,
  parseMemoryCommandLine,
  parseSizes,
  sizesOf,
} from '../src/memory/options.js';
import { streamOf } from '../src/memory/stores.js';

const parse = (...argv: string[]) => parseMemoryCommandLine(argv, { exit: false });
const MB = 1024 * 1024;

describe('the bench:memory command line', () => {
  it('reads every backend, optional, at 250k and 1M events by default', () => {
    const options = parse();
    expect(options).toMatchObject({ required: false, reads: [...READS], sizes: FULL.sizes, heapMb: 64 });
    expect(options.backends).toEqual(['memory', 'sqlite', 'postgres', 'mysql', 'cassandra']);
  });

  it('--quick takes tiny sizes; named backends are required, in the table order', () => {
    const options = parse('--quick', '-b', 'postgres,memory', '-r', 'log');
    expect(options).toMatchObject({ quick: true, sizes: QUICK.sizes, required: true, reads: ['log'] });
    expect(options.backends).toEqual(['memory', 'postgres']);
  });

  it('takes sizes ascending and once each, and refuses what is not a count', () => {
    expect(parseSizes('1000000, 250000,250000')).toEqual([250_000, 1_000_000]);
    expect(parse('--sizes', '10,5').sizes).toEqual([5, 10]);
    for (const bad of [
      ['--sizes', '1e6'],
      ['--sizes', '0'],
      ['-r', 'scan'],
      ['-b', 'mariadb'],
    ]) {
      expect(() => parse(...bad)).toThrow(CommanderError);
    }
  });

  it("scales Cassandra's sizes down together, keeping their ratio", () => {
    const options = parse('--sizes', '250000,1000000', '--cassandra-max', '200000');
    expect(sizesOf('cassandra', options)).toEqual([50_000, 200_000]);
    expect(sizesOf('postgres', options)).toEqual([250_000, 1_000_000]);
    expect(sizesOf('cassandra', parse('--sizes', '100,200'))).toEqual([100, 200]);
  });

  it('gives an in-memory read the heap its store takes on top of --heap-mb, which holding every event exceeds', () => {
    const options = parse('--heap-mb', '64');
    expect(heapLimitOf('postgres', 1_000_000, options)).toBe(64);
    expect(heapLimitOf('memory', 1_000_000, options)).toBe(64 + 245);
  });

  it('names a stream per size that every process finds', () => {
    expect(streamOf(1_000_000)).toBe('00000000-0000-4000-8000-000001000000');
  });
});

describe('the memory figures', () => {
  it('a sampler keeps the highest RSS and heap seen, each on its own', () => {
    const readings = [
      { rss: 10, heapUsed: 5 },
      { rss: 30, heapUsed: 2 },
      { rss: 20, heapUsed: 9 },
    ];
    const sampler = new PeakSampler(() => readings.shift()!);
    for (let i = 0; i < 3; i++) sampler.sample();
    expect(sampler.peak).toEqual({ rss: 30, heapUsed: 9 });
  });

  const result = (size: number, growthMb: number, retainedMb = 0): CaseResult => ({
    backend: 'postgres',
    read: 'log',
    size,
    events: size,
    baseline: { rss: 100 * MB, heapUsed: 10 * MB },
    peak: { rss: (100 + growthMb) * MB, heapUsed: 20 * MB },
    retainedHeap: retainedMb * MB,
    maxRss: 200 * MB,
    heapLimitMb: 64,
    seconds: 1,
  });

  it('growth that does not follow the size is bounded; growth of a decoded event per event is not', () => {
    expect(verdicts([result(250_000, 40), result(1_000_000, 45)])).toMatchObject([{ bounded: true }]);
    // 200 bytes more for each of 750,000 more events: what keeping decoded events looks like.
    const kept = verdicts([result(250_000, 40, 50), result(1_000_000, 40, 50 + 143)]);
    expect(kept).toMatchObject([{ bounded: false }]);
    expect((kept[0] as { retainedPerEvent: number }).retainedPerEvent).toBeCloseTo(200, 0);
  });

  it('concludes nothing from a few MB (at quick sizes a GC is all one sees), and a failure is not bounded', () => {
    expect(withinBound(BOUNDED_SLACK_BYTES, 10)).toBe(true);
    expect(withinBound(BOUNDED_SLACK_BYTES + 1, 10)).toBe(false);
    expect(memoryMarkdown([result(2_000, 1), result(8_000, 5)])).toContain(
      'the sizes are too small to tell per event',
    );
    const failed: CaseOutcome = {
      backend: 'postgres',
      read: 'log',
      size: 1_000_000,
      error: 'heap out of memory',
    };
    expect(verdicts([result(250_000, 40), failed])).toEqual([failed]);
  });

  it('prints a row per case and a verdict per read measured at two sizes', () => {
    const text = memoryMarkdown([result(250_000, 40), result(1_000_000, 45)]);
    expect(text).toContain(
      '| postgres | log | 1,000,000 | 100.0 | 145.0 | 45.0 | 10.0 | 10.0 | 0.0 | 64 | 1.0 |',
    );
    expect(text).toContain('- postgres log: bounded');
  });
});
