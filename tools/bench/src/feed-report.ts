/**
 * `bench:feed`'s command line, its results file and its table: everything of tools/bench/src/feed.ts that
 * needs no server (tested in test/feed-report.test.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command, Option } from 'commander';
import { parsePositive, parsedOptions } from './command-line.js';
import { type Latency, latencyOf } from './following-measure.js';
import { median } from './medians.js';
import type { Machine, SourceState } from './results-file.js';

/** Where the sequencer runs while append-to-feed latency is measured. */
export const SEQUENCER_PLACEMENTS = ['in-process', 'process'] as const;
export type SequencerPlacement = (typeof SEQUENCER_PLACEMENTS)[number];

export interface FeedSizes {
  /** Alternating rounds of the write-cost appends (without, then with the feed); medians are reported. */
  readonly rounds: number;
  /** Single-event appends per round and table. */
  readonly single: number;
  /** 100-event batches per round and table. */
  readonly batches: number;
  /** Events appended (in batches of 100) with no sequencer running, then copied for throughput. */
  readonly backlog: number;
  /** Single-event appends whose append-to-feed latency is measured. */
  readonly latency: number;
}

export const feedSizes = (quick: boolean): FeedSizes =>
  quick
    ? { rounds: 2, single: 100, batches: 10, backlog: 2_000, latency: 100 }
    : { rounds: 3, single: 500, batches: 40, backlog: 20_000, latency: 500 };

export interface FeedOptions {
  readonly quick: boolean;
  readonly sequencer: SequencerPlacement;
  /** The JSON results file to write; none when not given. */
  readonly out?: string;
  /** Print the table of this results file, and run nothing. */
  readonly report?: string;
  /** The quick or full sizes, with those given on the command line. */
  readonly sizes: FeedSizes;
}

const SIZE_OPTIONS: readonly [keyof FeedSizes, string, string][] = [
  ['rounds', '--rounds <n>', 'alternating rounds of the write-cost appends'],
  ['single', '--single <n>', 'single-event appends per round and table'],
  ['batches', '--batches <n>', '100-event batches per round and table'],
  ['backlog', '--backlog <n>', 'events in the backlog the sequencer copies (throughput)'],
  ['latency', '--latency <n>', 'appends measured for append-to-feed latency'],
];

function program(): Command {
  const command = new Command('pnpm bench:feed')
    .description(
      "What the Cassandra feed costs and how fast it is, on the node at ES_CASSANDRA_URL (default 127.0.0.1:9042), in a keyspace of its own (dropped after). See docs/cassandra.md, 'Costs'.",
    )
    .option('-q, --quick', 'tiny sizes: checks that everything runs, the figures mean nothing', false)
    .addOption(
      new Option(
        '--sequencer <where>',
        "where the sequencer runs for the latency: in-process (in the writer's process, woken by its appends) or process (es-cassandra-feed-sequencer as a child process, polling every 100 ms)",
      )
        .choices(SEQUENCER_PLACEMENTS)
        .default('in-process'),
    )
    .option('-o, --out <file>', 'write the results as JSON to this file')
    .option('--report <file>', 'print the table of an earlier run from its JSON file, and run nothing');
  for (const [, flags, description] of SIZE_OPTIONS) command.option(flags, description, parsePositive);
  return command;
}

/**
 * The options of a command line (the arguments after `pnpm bench:feed`). With `exit: false`, bad input
 * and `--help` throw commander's error instead of printing and exiting.
 */
export function parseFeedCommandLine(argv: readonly string[], { exit = true } = {}): FeedOptions {
  const opts = parsedOptions(program(), argv, exit);
  const quick = opts.quick === true;
  const sizes: Record<keyof FeedSizes, number> = { ...feedSizes(quick) };
  for (const [key] of SIZE_OPTIONS) if (typeof opts[key] === 'number') sizes[key] = opts[key];
  return {
    quick,
    sequencer: opts.sequencer as SequencerPlacement,
    ...(typeof opts.out === 'string' ? { out: opts.out } : {}),
    ...(typeof opts.report === 'string' ? { report: opts.report } : {}),
    sizes,
  };
}

/** One pass of appends: events/s over the time spent appending, and each append's latency in ms. */
export interface Timing {
  readonly eventsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
}

export interface WriteCost {
  readonly label: string;
  /** Events per append. */
  readonly batch: number;
  /** Appends per round and table. */
  readonly appends: number;
  /** Every round's figures, in the order run (each round: without the feed, then with it). */
  readonly rounds: { readonly plain: readonly Timing[]; readonly feed: readonly Timing[] };
  /** Each figure's median over the rounds (separately: p50's median need not be the same round's). */
  readonly median: { readonly plain: Timing; readonly feed: Timing };
  /** Events/s with the feed over events/s without. */
  readonly ratio: number;
}

export function writeCost(
  label: string,
  batch: number,
  appends: number,
  rounds: { plain: readonly Timing[]; feed: readonly Timing[] },
): WriteCost {
  const medians = (timings: readonly Timing[]): Timing => ({
    eventsPerSecond: median(timings.map((t) => t.eventsPerSecond)),
    p50: median(timings.map((t) => t.p50)),
    p99: median(timings.map((t) => t.p99)),
  });
  const plain = medians(rounds.plain);
  const feed = medians(rounds.feed);
  return {
    label,
    batch,
    appends,
    rounds,
    median: { plain, feed },
    ratio: feed.eventsPerSecond / plain.eventsPerSecond,
  };
}

export interface Throughput {
  /** Events copied by the sequencer's passes (the backlog and what the write-cost appends left). */
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
}

export interface FeedLatency {
  readonly sequencer: SequencerPlacement;
  /** How the bench saw an item reach the log. */
  readonly seenBy: string;
  readonly appends: number;
  /** Appends whose item was in the log within `waitedMs` of the last append; only these are in p50/p99. */
  readonly landed: number;
  /** Appends whose item was not in the log after `waitedMs`: left out of the percentiles. */
  readonly leftOut: number;
  readonly waitedMs: number;
  /** Null when no append landed. */
  readonly p50: number | null;
  readonly p99: number | null;
}

/**
 * Append-to-feed latency from each append's start (`started`, by sequence id) and the time its item was
 * seen in the log (`landed`); appends never seen are counted, not measured.
 */
export function feedLatency(
  started: ReadonlyMap<string, number>,
  landed: ReadonlyMap<string, number>,
  how: { sequencer: SequencerPlacement; seenBy: string; waitedMs: number },
): FeedLatency {
  const times: number[] = [];
  for (const [id, t0] of started) {
    const t1 = landed.get(id);
    if (t1 !== undefined) times.push(t1 - t0);
  }
  const latency: Latency | undefined =
    times.length > 0 ? latencyOf(Float64Array.from(times).sort()) : undefined;
  return {
    ...how,
    appends: started.size,
    landed: times.length,
    leftOut: started.size - times.length,
    p50: latency?.p50 ?? null,
    p99: latency?.p99 ?? null,
  };
}

export interface FeedResults {
  readonly kind: 'bench:feed';
  readonly started: string;
  readonly finished: string;
  /** The command line's arguments. */
  readonly command: readonly string[];
  readonly options: FeedOptions;
  /** The Cassandra node measured. */
  readonly server: string;
  readonly source: SourceState;
  readonly machine: Machine;
  /** os.loadavg() (1, 5, 15 min) when the run started and when it ended. */
  readonly load: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly writeCost: readonly WriteCost[];
  readonly throughput: Throughput;
  readonly latency: FeedLatency;
}

export function writeFeedResults(path: string, results: FeedResults): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}

export function readFeedResults(path: string): FeedResults {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<FeedResults>;
  if (parsed.kind !== 'bench:feed') throw new Error(`${path} is not a results file of pnpm bench:feed`);
  return parsed as FeedResults;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (n: number | null) => (n === null ? '-' : fmt(n, 1));
const loads = (l: readonly number[]) => l.map((x) => x.toFixed(1)).join(' / ');

const SEQUENCER_WORDS: Record<SequencerPlacement, string> = {
  'in-process': "sequencer in the writer's process",
  process: 'sequencer in its own process',
};

/** The line a run with appends left out of the percentiles must show; undefined when there were none. */
export function leftOutWarning(latency: FeedLatency): string | undefined {
  if (latency.leftOut === 0) return undefined;
  return `LEFT OUT: ${latency.leftOut} of ${latency.appends} appends were not in the feed ${fmt(latency.waitedMs / 1000)} s after the last append; p50/p99 are of the other ${latency.landed}`;
}

/** The run as a Markdown table, a warning line for appends left out, and the load. */
export function feedTable(results: FeedResults): string {
  const { latency, throughput, options } = results;
  const rows = results.writeCost.flatMap((cost) => [
    `| ${cost.label}, events/s | ${fmt(cost.median.plain.eventsPerSecond)} | ${fmt(cost.median.feed.eventsPerSecond)} | ${fmt(cost.ratio, 2)}x |`,
    `| ${cost.label}, append p50 / p99 ms | ${ms(cost.median.plain.p50)} / ${ms(cost.median.plain.p99)} | ${ms(cost.median.feed.p50)} / ${ms(cost.median.feed.p99)} | |`,
  ]);
  const warning = leftOutWarning(latency);
  return [
    `Cassandra feed (${options.quick ? 'QUICK' : 'full'} run; ${results.server}; medians of ${options.sizes.rounds} alternating rounds; commit ${results.source.commit?.slice(0, 10) ?? 'unknown'})`,
    '',
    '| | without the feed | with the feed | ratio |',
    '|---|---|---|---|',
    ...rows,
    `| feed throughput (one sequencer copying a backlog of ${fmt(throughput.events)} events in batches of 100), events/s | | ${fmt(throughput.eventsPerSecond)} | |`,
    `| append-to-feed latency, ${SEQUENCER_WORDS[latency.sequencer]} (${latency.landed} of ${latency.appends} single-event appends; ${latency.leftOut} left out), p50 / p99 ms | | ${ms(latency.p50)} / ${ms(latency.p99)} | |`,
    '',
    `append-to-feed: ${latency.seenBy}`,
    ...(warning !== undefined ? [warning] : []),
    `load average (1 / 5 / 15 min): start ${loads(results.load.start)}; end ${loads(results.load.end)}`,
    '',
  ].join('\n');
}
