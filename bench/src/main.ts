/**
 * `pnpm bench`: every scenario on every backend, for @es, the raw driver and Emmett, each in a process
 * of its own; a Markdown table per backend on stdout, progress on stderr, and the figures as JSON in
 * bench/results/. See `pnpm bench --help`.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { cpus, tmpdir, totalmem, release } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type Implementation, SCENARIOS, type ScenarioName } from './adapter.js';
import { BACKENDS, type BackendName, type Connections, DEFINITIONS } from './backends.js';
import { FULL_SIZES, MAIN_METRIC, QUICK_SIZES, SCALED, type Sizes } from './scenarios.js';
import {
  type BackendReport,
  type ImplementationReport,
  type ScenarioOutcome,
  formatBackend,
} from './table.js';
import type { Job } from './worker.js';

const IMPLEMENTATIONS: readonly Implementation[] = ['library', 'raw', 'emmett'];
const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

function list<T extends string>(allowed: readonly T[]) {
  return (value: string): T[] => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const item of items) {
      if (!allowed.includes(item as T))
        throw new InvalidArgumentError(`"${item}" is not one of ${allowed.join(', ')}`);
    }
    return items as T[];
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const SIZE_OPTIONS: [keyof Sizes, string, string][] = [
  ['single', '--single <n>', 'scenario 1: single-event appends'],
  ['batches', '--batches <n>', 'scenario 2: batches appended'],
  ['batchSize', '--batch-size <n>', 'scenario 2: events per batch'],
  ['writers', '--writers <n>', 'scenarios 3, 4: concurrent writers'],
  ['writerAppends', '--writer-appends <n>', 'scenarios 3, 4: appends per writer'],
  ['contendedStreams', '--contended-streams <n>', 'scenario 4: streams contended on'],
  ['streamLength', '--stream-length <n>', 'scenario 5: events in the loaded stream'],
  ['loads', '--loads <n>', 'scenario 5: loads without a snapshot'],
  ['snapshotLoads', '--snapshot-loads <n>', 'scenario 5: loads from a snapshot'],
  ['logEvents', '--log-events <n>', 'scenario 6: events read from the log'],
  ['pageSize', '--page-size <n>', 'scenario 6: page size'],
];

const program = new Command('bench')
  .description(
    'Benchmarks @es through its public API (EventStore.append with the SequencedItemMapper, EventSourcedRepository.get, ' +
      'NotificationLogReader) against the raw drivers and Emmett 0.42, on every backend.',
  )
  .addOption(
    new Option(
      '-b, --backends <list>',
      `backends, comma-separated (${BACKENDS.join(',')}); named ones must be reachable`,
    ).argParser(list(BACKENDS)),
  )
  .addOption(
    new Option('-s, --scenarios <list>', `scenarios (${SCENARIOS.join(',')})`)
      .argParser(list(SCENARIOS))
      .default([...SCENARIOS], 'all'),
  )
  .addOption(
    new Option('-i, --implementations <list>', `implementations (${IMPLEMENTATIONS.join(',')})`)
      .argParser(list(IMPLEMENTATIONS))
      .default([...IMPLEMENTATIONS], 'all'),
  )
  .option('-q, --quick', 'tiny sizes: checks that everything runs (CI), the figures mean nothing', false)
  .option(
    '--postgres-url <url>',
    'PostgreSQL',
    process.env.ES_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  )
  .option(
    '--mariadb-url <url>',
    'MariaDB',
    process.env.ES_BENCH_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test',
  )
  .option(
    '--cassandra-host <host>',
    'Cassandra contact point',
    process.env.ES_BENCH_CASSANDRA_HOST ?? '127.0.0.1',
  )
  .option(
    '--cassandra-port <port>',
    'Cassandra native port',
    positive,
    Number(process.env.ES_BENCH_CASSANDRA_PORT ?? 9042),
  )
  .option(
    '--cassandra-dc <name>',
    'Cassandra local data centre',
    process.env.ES_BENCH_CASSANDRA_DC ?? 'datacenter1',
  )
  .option('-o, --out <file>', 'the JSON results file (default: bench/results/<date>.json)')
  .option('--report <file>', 'print the tables of an earlier run from its JSON file, and run nothing')
  .option(
    '-r, --rounds <n>',
    'runs of every scenario, the implementations taking turns; the median is reported',
    positive,
    1,
  )
  .option(
    '--cpu-prof',
    'write a V8 CPU profile of each measured pass (not its set-up) to bench/results/profiles/',
    false,
  );
for (const [, flags, description] of SIZE_OPTIONS) program.option(flags, description, positive);

interface Options {
  backends?: BackendName[];
  scenarios: ScenarioName[];
  implementations: Implementation[];
  quick: boolean;
  postgresUrl: string;
  mariadbUrl: string;
  cassandraHost: string;
  cassandraPort: number;
  cassandraDc: string;
  out?: string;
  cpuProf: boolean;
  rounds: number;
  report?: string;
  [size: string]: unknown;
}

function reachable(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: timeoutMs });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/** The commit measured, and the source files that differed from it (figures belong to a version). */
function gitState(): { commit?: string; modified?: string[] } {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
    const modified = git('status', '--porcelain', '--', '../packages', '.').split('\n').filter(Boolean);
    return { commit: git('rev-parse', 'HEAD'), modified };
  } catch {
    return {};
  }
}

function banner(lines: string[]): void {
  const width = Math.max(...lines.map((l) => l.length)) + 4;
  process.stderr.write(['!'.repeat(width), ...lines.map((l) => `! ${l}`), '!'.repeat(width), ''].join('\n'));
}

/** Runs one job in a child process (same Node flags, so tsx keeps working) and waits for its report. */
function runWorker(job: Job): Promise<ImplementationReport> {
  return new Promise((resolve) => {
    let report: ImplementationReport | undefined;
    const child = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], {
      execArgv: process.execArgv,
      env: { ...process.env, ES_BENCH_JOB: JSON.stringify(job) },
      // The worker's stdout (a peer library's console.log) goes to stderr: stdout carries only the tables.
      stdio: ['ignore', 2, 'inherit', 'ipc'],
    });
    child.on('message', (message) => (report = message as ImplementationReport));
    child.on('exit', (code, signal) => {
      resolve(
        report ?? {
          implementation: job.implementation,
          notRun: `worker exited with ${signal ?? `code ${code}`} before reporting`,
          scenarios: {},
        },
      );
    });
  });
}

/**
 * Runs every scenario of every implementation of one backend, each in a fresh worker over fresh tables
 * (so that no figure depends on what ran before it: a heap full of earlier events, a warmer JIT, a
 * bigger table). The implementations take turns scenario by scenario, and with several rounds the median
 * is kept: a machine whose load drifts (other processes, fsync latency) then weighs on all of them alike.
 */
async function runBackend(
  backend: BackendName,
  options: Options,
  sizes: Sizes,
  connections: Connections,
): Promise<ImplementationReport[]> {
  const runs = new Map<Implementation, ImplementationReport[]>(options.implementations.map((i) => [i, []]));
  const notRun = new Map<Implementation, ImplementationReport>();
  // --quick checks that everything runs, not figures: one worker per implementation then saves the
  // start-up and table set-up of one per scenario (on Cassandra, seconds each).
  const groups = options.quick ? [options.scenarios] : options.scenarios.map((s) => [s]);
  for (let round = 0; round < options.rounds; round++) {
    for (const scenarios of groups) {
      for (const implementation of options.implementations) {
        if (notRun.has(implementation)) continue;
        if (options.rounds > 1)
          process.stderr.write(
            `[${backend}/${implementation}] ${scenarios.join(',')}: round ${round + 1} of ${options.rounds}\n`,
          );
        const report = await runWorker({
          backend,
          implementation,
          scenarios,
          sizes,
          connections,
          ...(options.cpuProf ? { profileDir: join(resultsDir, 'profiles') } : {}),
        });
        if (report.notRun !== undefined) notRun.set(implementation, { ...report, scenarios: {} });
        else runs.get(implementation)!.push(report);
      }
    }
  }
  return options.implementations.map(
    (implementation) => notRun.get(implementation) ?? mergeRuns(implementation, runs.get(implementation)!),
  );
}

/** One report from a worker per (round, scenario): per scenario, the failure if any, else the median run. */
function mergeRuns(implementation: Implementation, reports: ImplementationReport[]): ImplementationReport {
  const scenarios: ImplementationReport['scenarios'] = {};
  for (const scenario of SCENARIOS) {
    const outcomes = reports.map((r) => r.scenarios[scenario]).filter((o) => o !== undefined);
    if (outcomes.length === 0) continue;
    const bad = outcomes.find((o) => o.status !== 'ok');
    if (bad) {
      scenarios[scenario] = bad;
      continue;
    }
    const ok = outcomes.map((o) => (o as Extract<ScenarioOutcome, { status: 'ok' }>).result);
    const key = MAIN_METRIC[scenario];
    const sorted = [...ok].sort((a, b) => (a.metrics[key] ?? 0) - (b.metrics[key] ?? 0));
    const median = sorted[Math.floor(sorted.length / 2)]!;
    scenarios[scenario] = { status: 'ok', result: { ...median, runs: ok.map((r) => r.metrics[key] ?? 0) } };
  }
  const first = reports[0];
  return {
    implementation,
    ...(first?.description ? { description: first.description } : {}),
    ...(first?.serverVersion ? { serverVersion: first.serverVersion } : {}),
    scenarios,
  };
}

/** The preset sizes, scaled for the backend (in-memory operations take microseconds), then the options. */
function sizesFor(backend: BackendName, options: Options): Sizes {
  const preset = { ...(options.quick ? QUICK_SIZES : FULL_SIZES) };
  const scale = DEFINITIONS[backend].scale ?? 1;
  for (const key of SCALED) preset[key] = preset[key] * scale;
  for (const [key] of SIZE_OPTIONS) {
    const option = options[key];
    if (typeof option === 'number') preset[key] = option;
  }
  return preset;
}

async function main(): Promise<number> {
  program.parse();
  const options = program.opts<Options>();
  if (options.report !== undefined) {
    const saved = JSON.parse(readFileSync(options.report, 'utf8')) as { reports: BackendReport[] };
    for (const report of saved.reports) process.stdout.write(`${formatBackend(report, options.scenarios)}\n`);
    return 0;
  }
  // Servers must answer when named with --backends, and under CI=true (as the project's tests demand).
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  const explicit = options.backends !== undefined || ci;
  const backends = options.backends ?? [...BACKENDS];
  const sqliteDir = mkdtempSync(join(tmpdir(), 'es-bench-'));
  const connections: Connections = {
    postgresUrl: options.postgresUrl,
    mariadbUrl: options.mariadbUrl,
    cassandraHost: options.cassandraHost,
    cassandraPort: options.cassandraPort,
    cassandraDataCenter: options.cassandraDc,
    sqliteDir,
  };
  const started = new Date();
  process.stderr.write(
    `bench: ${options.quick ? 'QUICK (tiny sizes: a breakage check, not figures)' : 'full'} run (${options.rounds} round${options.rounds > 1 ? 's' : ''}) of ${options.scenarios.join(',')} ` +
      `on ${backends.join(',')} for ${options.implementations.join(',')}\n`,
  );

  const reports: BackendReport[] = [];
  let failed = false;
  try {
    for (const name of backends) {
      const definition = DEFINITIONS[name];
      const sizes = sizesFor(name, options);
      const title = definition.title(connections);
      const server = definition.server?.(connections);
      if (server && !(await reachable(server.host, server.port))) {
        const why = `server unreachable at ${server.host}:${server.port}`;
        if (explicit) {
          process.stderr.write(
            `bench: ${title}: ${why}, and it was asked for ${ci ? '(CI=true)' : 'explicitly (--backends)'}: failing.\n`,
          );
          return 1;
        }
        banner([`${title}: SKIPPED, ${why}.`, 'Start it, or leave it out with --backends.']);
        const report: BackendReport = { backend: name, title, skipped: why, sizes, implementations: [] };
        reports.push(report);
        process.stdout.write(`${formatBackend(report, options.scenarios)}\n`);
        continue;
      }
      const implementations = await runBackend(name, options, sizes, connections);
      for (const report of implementations) {
        // The raw driver and the library must always run; Emmett's failures are its own.
        const broken =
          report.notRun !== undefined &&
          typeof definition.implementations[report.implementation] !== 'string';
        const scenarioFailed = Object.values(report.scenarios).some((o) => o?.status === 'failed');
        if (report.implementation !== 'emmett' && (broken || scenarioFailed)) failed = true;
      }
      const report: BackendReport = {
        backend: name,
        title,
        sizes,
        implementations,
        ...(definition.batchTarget !== undefined ? { batchTarget: definition.batchTarget } : {}),
      };
      reports.push(report);
      process.stdout.write(`${formatBackend(report, options.scenarios)}\n`);
    }
  } finally {
    rmSync(sqliteDir, { recursive: true, force: true });
  }

  const skipped = reports.filter((r) => r.skipped);
  if (skipped.length > 0) banner(skipped.map((r) => `${r.title}: SKIPPED (${r.skipped})`));
  const source = gitState();
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
  };
  const out =
    options.out ??
    join(resultsDir, `${started.toISOString().replace(/[:.]/g, '-')}${options.quick ? '-quick' : ''}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        started: started.toISOString(),
        command: process.argv.slice(2),
        source,
        machine,
        rounds: options.rounds,
        reports,
      },
      null,
      2,
    ) + '\n',
  );
  process.stderr.write(
    `bench: results written to ${out} (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s)\n`,
  );
  if (failed)
    process.stderr.write('bench: FAILED: the library or a raw baseline failed a scenario (see the tables)\n');
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
