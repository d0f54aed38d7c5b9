/** `pnpm bench`'s command line: what it accepts, and the options it turns into. */
import { type BackendName, BACKEND_NAMES, parseBackendList } from '@es/servers';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type Implementation, SCENARIOS, type ScenarioName } from './adapter.js';
import type { Sizes } from './scenarios/sizes.js';

export const IMPLEMENTATIONS: readonly Implementation[] = ['library', 'raw', 'emmett'];

export interface BenchOptions {
  /** Undefined: every backend, a missing server skipped (unless CI=true). */
  readonly backends?: BackendName[];
  readonly scenarios: ScenarioName[];
  readonly implementations: Implementation[];
  readonly quick: boolean;
  readonly rounds: number;
  readonly cpuProf: boolean;
  /** The results file to write (default: one named after the start, in tools/bench/results/). */
  readonly out?: string;
  /** Print the tables of this results file, and run nothing. */
  readonly report?: string;
  /** Sizes given on the command line. */
  readonly sizes: Partial<Sizes>;
}

/** A comma-separated list of some of `allowed` (`batch, load`), in the order given. */
export function parseList<T extends string>(allowed: readonly T[]) {
  return (value: string): T[] => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const item of items) {
      if (!allowed.includes(item as T))
        throw new InvalidArgumentError(`"${item}" is not one of ${allowed.join(', ')}`);
    }
    if (items.length === 0) throw new InvalidArgumentError(`name at least one of ${allowed.join(', ')}`);
    return items as T[];
  };
}

/** `-b, --backends <list>`: backends by the names of tools/servers' table (bench and bench:memory). */
export function backendsOption(): Option {
  return new Option(
    '-b, --backends <list>',
    `backends, comma-separated (${BACKEND_NAMES.join(',')}); named ones must be reachable`,
  ).argParser(parseBackends);
}

/** Backends by the names of tools/servers' table, in its order. */
function parseBackends(value: string): BackendName[] {
  try {
    const names = parseBackendList(value);
    if (names.length === 0) throw new Error(`name at least one of ${BACKEND_NAMES.join(', ')}`);
    return names;
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** A count: a positive whole number (`1000`, `1e4` and `10_000` are not the same thing to everyone). */
export function parsePositive(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

const SIZE_OPTIONS: readonly [keyof Sizes, string, string][] = [
  ['single', '--single <n>', 'scenario 1: single-event appends'],
  ['batches', '--batches <n>', 'scenario 2: batches appended'],
  ['batchSize', '--batch-size <n>', 'scenario 2: events per batch'],
  ['writers', '--writers <n>', 'scenarios 3, 4: concurrent writers'],
  ['writerAppends', '--writer-appends <n>', 'scenarios 3, 4: appends per writer'],
  ['contendedStreams', '--contended-streams <n>', 'scenario 4: streams contended on'],
  ['streamLength', '--stream-length <n>', 'scenario 5: events in the loaded stream'],
  ['loads', '--loads <n>', 'scenario 5: loads without a snapshot'],
  ['snapshotLoads', '--snapshot-loads <n>', 'scenario 5: loads from a snapshot'],
  ['snapshotWarmup', '--snapshot-warmup <n>', 'scenario 5: loads from a snapshot before those measured'],
  ['logEvents', '--log-events <n>', 'scenario 6: events read from the log'],
  ['pageSize', '--page-size <n>', 'scenario 6: page size'],
];

function program(): Command {
  const command = new Command('pnpm bench')
    .description(
      'Benchmarks @es through its public API (EventStore.append with the SequencedItemMapper, EventSourcedRepository.get, ' +
        'NotificationLogReader) against the raw drivers and Emmett 0.42, on every backend. Servers are where ' +
        'ES_POSTGRES_URL, ES_MYSQL_URL and ES_CASSANDRA_URL say (docs/servers.md).',
    )
    .addOption(backendsOption())
    .addOption(
      new Option('-s, --scenarios <list>', `scenarios (${SCENARIOS.join(',')})`)
        .argParser(parseList(SCENARIOS))
        .default([...SCENARIOS], 'all'),
    )
    .addOption(
      new Option('-i, --implementations <list>', `implementations (${IMPLEMENTATIONS.join(',')})`)
        .argParser(parseList(IMPLEMENTATIONS))
        .default([...IMPLEMENTATIONS], 'all'),
    )
    .option('-q, --quick', 'tiny sizes: checks that everything runs (CI), the figures mean nothing', false)
    .option('-o, --out <file>', 'the JSON results file (default: tools/bench/results/<date>.json)')
    .option('--report <file>', 'print the tables of an earlier run from its JSON file, and run nothing')
    .option(
      '-r, --rounds <n>',
      'runs of every scenario, the implementations taking turns; the median is reported',
      parsePositive,
      1,
    )
    .option(
      '--cpu-prof',
      'write a V8 CPU profile of each measured pass (not its set-up) to tools/bench/results/profiles/',
      false,
    );
  for (const [, flags, description] of SIZE_OPTIONS) command.option(flags, description, parsePositive);
  return command;
}

/**
 * The options `command` reads from `argv` (the arguments after the script's name). With `exit: false`, bad
 * input and `--help` throw commander's error (with its exit code) instead of printing and exiting.
 */
export function parsedOptions(
  command: Command,
  argv: readonly string[],
  exit: boolean,
): Record<string, unknown> {
  if (!exit) command.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  command.parse(argv, { from: 'user' });
  return command.opts<Record<string, unknown>>();
}

/**
 * The options of a command line (the arguments after `pnpm bench`). With `exit: false`, bad input and
 * `--help` throw commander's error (with its exit code) instead of printing and exiting.
 */
export function parseCommandLine(argv: readonly string[], { exit = true } = {}): BenchOptions {
  const opts = parsedOptions(program(), argv, exit);
  const sizes: Partial<Sizes> = {};
  for (const [key] of SIZE_OPTIONS) {
    if (typeof opts[key] === 'number') sizes[key] = opts[key];
  }
  return {
    ...(opts.backends !== undefined ? { backends: opts.backends as BackendName[] } : {}),
    scenarios: opts.scenarios as ScenarioName[],
    implementations: opts.implementations as Implementation[],
    quick: opts.quick === true,
    rounds: opts.rounds as number,
    cpuProf: opts.cpuProf === true,
    ...(typeof opts.out === 'string' ? { out: opts.out } : {}),
    ...(typeof opts.report === 'string' ? { report: opts.report } : {}),
    sizes,
  };
}
