/** `pnpm bench:memory`'s command line: what it accepts, and the options it turns into. */
import { type BackendName, BACKEND_NAMES } from '@es/servers';
import { Command, Option } from 'commander';
import { backendsOption, parseList, parsePositive, parsedOptions } from '../command-line.js';

/**
 * The reads measured, each in a fresh process over a filled store:
 * - `load`: the stream's entity rebuilt by EventSourcedRepository.get (which replays it page by page);
 * - `items`: the stream's items through the recorder's iteratePages and iterateItems;
 * - `log`: the log caught up to its head by NotificationLogReader.readEventPages (decoding each event);
 * - `subscription`: the same catch-up by a Subscription, until it is caught up.
 */
export const READS = ['load', 'items', 'log', 'subscription'] as const;
export type ReadName = (typeof READS)[number];

export interface MemoryOptions {
  readonly backends: readonly BackendName[];
  /** A backend asked for by name must answer; otherwise one that does not is skipped. */
  readonly required: boolean;
  readonly reads: readonly ReadName[];
  /** Events in the stream (and so in the log), ascending: growth must not follow them. */
  readonly sizes: readonly number[];
  /** Cassandra's fill is slow (conditional batches): its sizes are capped at this. */
  readonly cassandraMax: number;
  readonly pageSize: number;
  /**
   * The heap limit (`--max-old-space-size`, MB) of a read, over what the store takes in process (see
   * heapLimitOf): well below what holding the events decoded would take, so that a read that kept them fails.
   */
  readonly heapMb: number;
  readonly quick: boolean;
}

export const FULL = { sizes: [250_000, 1_000_000], cassandraMax: 250_000, pageSize: 1000, heapMb: 64 };
export const QUICK = { sizes: [2_000, 8_000], cassandraMax: 8_000, pageSize: 500, heapMb: 64 };

/** Sizes, comma-separated (`250000,1000000`), returned ascending and without repeats. */
export function parseSizes(value: string): number[] {
  const sizes = value.split(',').map((s) => parsePositive(s));
  return [...new Set(sizes)].sort((a, b) => a - b);
}

function program(): Command {
  return new Command('pnpm bench:memory')
    .description(
      'Peak memory of reading a long stream (EventSourcedRepository.get, iteratePages/iterateItems) and of ' +
        'catching up a long log (NotificationLogReader, Subscription), each in a fresh process over a store ' +
        'filled first, at several sizes: growth that does not follow the size is bounded.',
    )
    .addOption(backendsOption())
    .addOption(
      new Option('-r, --reads <list>', `reads (${READS.join(',')})`)
        .argParser(parseList(READS))
        .default([...READS], 'all'),
    )
    .option('-q, --quick', 'tiny sizes: checks that everything runs (CI), the figures mean little', false)
    .option(
      '--sizes <list>',
      `events per store, comma-separated (default ${FULL.sizes.join(',')})`,
      parseSizes,
    )
    .option('--cassandra-max <n>', `largest Cassandra store (default ${FULL.cassandraMax})`, parsePositive)
    .option('--page-size <n>', `events per page (default ${FULL.pageSize})`, parsePositive)
    .option(
      '--heap-mb <n>',
      `--max-old-space-size of a read, MB, over what an in-memory store takes (default ${FULL.heapMb})`,
      parsePositive,
    );
}

/** The options of a command line; with `exit: false`, bad input throws commander's error instead of exiting. */
export function parseMemoryCommandLine(argv: readonly string[], { exit = true } = {}): MemoryOptions {
  const opts = parsedOptions(program(), argv, exit);
  const quick = opts.quick === true;
  const base = quick ? QUICK : FULL;
  const given = opts.backends as BackendName[] | undefined;
  return {
    backends: given ?? [...BACKEND_NAMES],
    required: given !== undefined,
    reads: opts.reads as ReadName[],
    sizes: (opts.sizes as number[] | undefined) ?? base.sizes,
    cassandraMax: (opts.cassandraMax as number | undefined) ?? base.cassandraMax,
    pageSize: (opts.pageSize as number | undefined) ?? base.pageSize,
    heapMb: (opts.heapMb as number | undefined) ?? base.heapMb,
    quick,
  };
}

/**
 * What the in-memory store's own items take on the heap, per event, rounded up (about 220 bytes measured
 * for the bench's events): the store lives in the read's process, so its heap limit is this much more.
 */
export const MEMORY_STORE_BYTES_PER_EVENT = 256;

/**
 * The `--max-old-space-size` of a read, MB: `heapMb`, plus in memory the store itself. Keeping every
 * decoded event (over 200 bytes each) does not fit in it at 1,000,000 events.
 */
export function heapLimitOf(backend: BackendName, size: number, options: MemoryOptions): number {
  if (backend !== 'memory') return options.heapMb;
  return options.heapMb + Math.ceil((size * MEMORY_STORE_BYTES_PER_EVENT) / (1024 * 1024));
}

/**
 * The sizes a backend runs at. Cassandra's fill is slow (conditional batches): when the largest size is
 * above its cap, all its sizes are scaled down by the same factor, so that their ratio still shows
 * whether growth follows the size.
 */
export function sizesOf(backend: BackendName, options: MemoryOptions): number[] {
  const largest = Math.max(...options.sizes);
  if (backend !== 'cassandra' || largest <= options.cassandraMax) return [...options.sizes];
  const scaled = options.sizes.map((s) => Math.max(1, Math.round((s * options.cassandraMax) / largest)));
  return [...new Set(scaled)];
}
