/**
 * `pnpm bench`: every scenario on every backend, for @es, the raw driver and Emmett, each in a process
 * of its own; a Markdown table per backend on stdout, progress on stderr, and the figures as JSON in
 * tools/bench/results/. See `pnpm bench --help` and docs/benchmarks.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BACKEND_NAMES, SERVER_NAMES, isCi, serverUrl } from '@es/servers';
import type { Connections } from './backends.js';
import { parseCommandLine } from './command-line.js';
import { runBackends } from './orchestration.js';
import {
  formatLoad,
  formatRunHeader,
  loadAverage,
  machine,
  readResults,
  resultsPath,
  sourceState,
  writeResults,
} from './results-file.js';
import { formatBackend } from './table.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));
// Paths on the command line are read from where the command was typed (pnpm runs us in tools/bench).
const fromCaller = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const options = parseCommandLine(argv);
  if (options.report !== undefined) {
    const results = readResults(fromCaller(options.report));
    process.stdout.write(`${formatRunHeader(results)}\n`);
    for (const report of results.reports)
      process.stdout.write(`${formatBackend(report, options.scenarios)}\n`);
    return 0;
  }
  const backends = options.backends ?? [...BACKEND_NAMES];
  const sqliteDir = mkdtempSync(join(tmpdir(), 'es-bench-'));
  const connections: Connections = {
    urls: Object.fromEntries(SERVER_NAMES.map((name) => [name, serverUrl(name)])) as Connections['urls'],
    sqliteDir,
  };
  const started = new Date();
  const loadAtStart = loadAverage();
  process.stderr.write(
    `bench: ${options.quick ? 'QUICK (tiny sizes: a breakage check, not figures)' : 'full'} run (${options.rounds} round${options.rounds > 1 ? 's' : ''}) of ${options.scenarios.join(',')} ` +
      `on ${backends.join(',')} for ${options.implementations.join(',')}\n`,
  );
  let outcome;
  try {
    outcome = await runBackends(
      {
        backends,
        // Servers must answer when named with --backends, and under CI=true (as the project's tests demand).
        required: options.backends !== undefined || isCi(),
        scenarios: options.scenarios,
        implementations: options.implementations,
        rounds: options.rounds,
        quick: options.quick,
        sizes: options.sizes,
        ...(options.cpuProf ? { profileDir: join(resultsDir, 'profiles') } : {}),
      },
      connections,
      (report) => process.stdout.write(`${formatBackend(report, options.scenarios)}\n`),
    );
  } finally {
    rmSync(sqliteDir, { recursive: true, force: true });
  }
  const skipped = outcome.reports.filter((report) => report.skipped);
  if (skipped.length > 0)
    process.stderr.write(`bench: SKIPPED ${skipped.map((r) => `${r.backend} (${r.skipped})`).join('; ')}\n`);
  const loadAtEnd = loadAverage();
  const out =
    options.out !== undefined ? fromCaller(options.out) : resultsPath(resultsDir, started, options.quick);
  writeResults(out, {
    started: started.toISOString(),
    command: argv,
    source: sourceState(root),
    machine: machine({ start: loadAtStart, end: loadAtEnd }),
    rounds: options.rounds,
    reports: outcome.reports,
  });
  process.stderr.write(
    `bench: results written to ${out} (${((Date.now() - started.getTime()) / 1000).toFixed(0)} s; ` +
      `load average ${formatLoad(loadAtStart)} at the start, ${formatLoad(loadAtEnd)} at the end)\n`,
  );
  if (outcome.failed)
    process.stderr.write(
      'bench: FAILED: the library or a raw baseline failed a scenario, or a server was missing\n',
    );
  return outcome.failed ? 1 : 0;
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
