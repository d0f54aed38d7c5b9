import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refusalOf } from './refusal.js';
import {
  type FeedResults,
  feedLatency,
  feedSizes,
  feedTable,
  leftOutWarning,
  parseFeedCommandLine,
  readFeedResults,
  writeCost,
  writeFeedResults,
} from '../src/feed-report.js';

const parse = (...argv: string[]) => parseFeedCommandLine(argv, { exit: false });

const refusal = (...argv: string[]) => refusalOf(parse, ...argv);

describe("bench:feed's command line", () => {
  it('runs the full sizes with the sequencer in process and no results file by default', () => {
    expect(parse()).toEqual({ quick: false, sequencer: 'in-process', sizes: feedSizes(false) });
  });

  it('reads --quick, --sequencer, -o and --report', () => {
    expect(parse('-q', '--sequencer', 'process', '-o', 'docs/bench/feed.json')).toEqual({
      quick: true,
      sequencer: 'process',
      out: 'docs/bench/feed.json',
      sizes: feedSizes(true),
    });
    expect(parse('--out', 'a.json').out).toBe('a.json');
    expect(parse('--report', 'a.json').report).toBe('a.json');
  });

  it('refuses a sequencer placement it does not know', () => {
    const error = refusal('--sequencer', 'elsewhere');
    expect(error.code).toBe('commander.invalidArgument');
    expect(error.message).toContain('in-process, process');
  });

  it('takes sizes as positive whole numbers over the preset, keeping the others', () => {
    const options = parse('--quick', '--latency', '300', '--backlog', '5000');
    expect(options.sizes).toEqual({ ...feedSizes(true), latency: 300, backlog: 5_000 });
    expect(parse('--rounds', '1').sizes.rounds).toBe(1);
    expect(refusal('--single', '0').message).toContain('must be a positive whole number');
    expect(refusal('--batches', '1.5').message).toContain('must be a positive whole number');
    expect(refusal('--no-such-option').code).toBe('commander.unknownOption');
  });
});

describe('writeCost', () => {
  it('keeps every round and takes each figure’s median separately, the ratio of the event rates', () => {
    const cost = writeCost('single-event appends', 1, 500, {
      plain: [
        { eventsPerSecond: 100, p50: 3, p99: 40 },
        { eventsPerSecond: 300, p50: 1, p99: 10 },
        { eventsPerSecond: 200, p50: 2, p99: 90 },
      ],
      feed: [
        { eventsPerSecond: 90, p50: 5, p99: 50 },
        { eventsPerSecond: 150, p50: 4, p99: 60 },
        { eventsPerSecond: 120, p50: 6, p99: 20 },
      ],
    });
    expect(cost.rounds.plain).toHaveLength(3);
    expect(cost.median).toEqual({
      plain: { eventsPerSecond: 200, p50: 2, p99: 40 },
      feed: { eventsPerSecond: 120, p50: 5, p99: 50 },
    });
    expect(cost.ratio).toBeCloseTo(0.6);
  });
});

describe('feedLatency', () => {
  const how = { sequencer: 'process' as const, seenBy: 'a poller', waitedMs: 30_000 };

  it('measures each landed append from its start, and counts the others out of the percentiles', () => {
    const started = new Map([
      ['a', 0],
      ['b', 10],
      ['c', 20],
      ['d', 30],
    ]);
    const landed = new Map([
      ['a', 50],
      ['c', 120],
      ['d', 40],
      ['not-ours', 5],
    ]);
    const latency = feedLatency(started, landed, how);
    expect(latency).toMatchObject({ appends: 4, landed: 3, leftOut: 1, sequencer: 'process' });
    // Sorted 10, 50, 100: p50 is the middle one, p99 the largest.
    expect(latency.p50).toBe(50);
    expect(latency.p99).toBe(100);
  });

  it('has no percentiles when nothing landed, and says so instead of a number', () => {
    const latency = feedLatency(new Map([['a', 0]]), new Map(), how);
    expect(latency).toMatchObject({ landed: 0, leftOut: 1, p50: null, p99: null });
  });
});

const results = (leftOut: number): FeedResults => ({
  kind: 'bench:feed',
  started: '2026-12-02T14:00:00.000Z',
  finished: '2026-12-02T14:01:30.000Z',
  command: ['--sequencer', 'process'],
  options: { quick: false, sequencer: 'process', sizes: feedSizes(false) },
  server: '127.0.0.1:9042',
  source: { commit: '0123456789abcdef', modified: [] },
  machine: { cores: 2, cpu: 'cpu', memoryGiB: 23, node: 'v20', kernel: '6' },
  load: { start: [1.96, 1.49, 0.85], end: [2.5, 1.8, 1] },
  writeCost: [
    writeCost('single-event appends', 1, 500, {
      plain: [{ eventsPerSecond: 161, p50: 1.9, p99: 43.7 }],
      feed: [{ eventsPerSecond: 141, p50: 4.1, p99: 46.7 }],
    }),
  ],
  throughput: { events: 33_500, seconds: 7.5, eventsPerSecond: 4_466.7 },
  latency: {
    sequencer: 'process',
    seenBy: 'a reader polling the log every 5 ms',
    appends: 500,
    landed: 500 - leftOut,
    leftOut,
    waitedMs: 30_000,
    p50: 58.25,
    p99: 131,
  },
});

describe('feedTable', () => {
  it('shows the medians, the ratio, throughput, latency with how many appends it covers, and the load', () => {
    const table = feedTable(results(0));
    expect(table).toContain('| single-event appends, events/s | 161 | 141 | 0.88x |');
    expect(table).toContain('| single-event appends, append p50 / p99 ms | 1.9 / 43.7 | 4.1 / 46.7 | |');
    expect(table).toContain('backlog of 33,500 events in batches of 100), events/s | | 4,467 | |');
    expect(table).toContain(
      '| append-to-feed latency, sequencer in its own process (500 of 500 single-event appends; 0 left out), p50 / p99 ms | | 58.3 / 131.0 | |',
    );
    expect(table).toContain('commit 0123456789)');
    expect(table).toContain('load average (1 / 5 / 15 min): start 2.0 / 1.5 / 0.8; end 2.5 / 1.8 / 1.0');
    expect(table).not.toContain('LEFT OUT');
  });

  it('gives appends left out of the percentiles a line of their own', () => {
    expect(leftOutWarning(results(0).latency)).toBeUndefined();
    const line =
      'LEFT OUT: 3 of 500 appends were not in the feed 30 s after the last append; p50/p99 are of the other 497';
    expect(leftOutWarning(results(3).latency)).toBe(line);
    expect(feedTable(results(3)).split('\n')).toContain(line);
    expect(feedTable(results(3))).toContain('(497 of 500 single-event appends; 3 left out)');
  });

  it('prints a dash for a latency with no appends landed', () => {
    const none = results(500);
    const table = feedTable({ ...none, latency: { ...none.latency, p50: null, p99: null } });
    expect(table).toContain('| | - / - | |');
  });
});

describe('the results file', () => {
  it('reads back what it wrote (into a directory it makes), and refuses a file of another bench', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'es-bench-feed-')), 'docs', 'bench', 'feed.json');
    writeFeedResults(path, results(2));
    expect(readFeedResults(path)).toEqual(results(2));
    writeFileSync(path, '{"started":"x","reports":[]}');
    expect(() => readFeedResults(path)).toThrow('is not a results file of pnpm bench:feed');
  });
});
