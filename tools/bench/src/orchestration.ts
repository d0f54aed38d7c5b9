/**
 * The order of a run: per backend, its server probed first, then every (round, scenario, implementation)
 * in a fresh worker process, and the rounds merged into medians (medians.ts).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type BackendName, describeProbe, howToStart, probe } from '@es/servers';
import type { Implementation, ScenarioName } from './adapter.js';
import { type Connections, DEFINITIONS, backendTitle } from './backends.js';
import { mergeRuns, turnOrder } from './medians.js';
import type { BackendReport, ImplementationReport } from './report.js';
import { type Sizes, sizesFor } from './scenarios/sizes.js';
import { JOB_VARIABLE, type Job } from './worker.js';

export interface RunOptions {
  readonly backends: readonly BackendName[];
  /** A backend whose server is not ready fails the run (named with --backends, or CI=true), else is skipped. */
  readonly required: boolean;
  readonly scenarios: readonly ScenarioName[];
  readonly implementations: readonly Implementation[];
  readonly rounds: number;
  /** Tiny sizes, and one worker per implementation instead of one per scenario. */
  readonly quick: boolean;
  /** Sizes given on the command line, taken as they are. */
  readonly sizes: Partial<Sizes>;
  /** Write a V8 CPU profile of each measured pass here. */
  readonly profileDir?: string;
}

export interface RunOutcome {
  readonly reports: BackendReport[];
  /** The library or a raw baseline failed a scenario, or a required server was not ready. */
  readonly failed: boolean;
}

/** Runs every backend in turn; `onReport` receives each backend's report as soon as it is complete. */
export async function runBackends(
  options: RunOptions,
  connections: Connections,
  onReport: (report: BackendReport) => void,
): Promise<RunOutcome> {
  const reports: BackendReport[] = [];
  let failed = false;
  for (const name of options.backends) {
    const definition = DEFINITIONS[name];
    const sizes = sizesFor(options.quick, definition.scale ?? 1, options.sizes);
    const title = backendTitle(name, connections);
    if (definition.server) {
      const result = await probe(definition.server, { url: connections.urls[definition.server] });
      if (!result.ok) {
        const why = `${describeProbe(result)}; to start one: ${howToStart(definition.server)}`;
        if (options.required) {
          process.stderr.write(`bench: ${why}. It was asked for, so the run fails.\n`);
          return { reports, failed: true };
        }
        process.stderr.write(`bench: SKIPPED ${name}: ${why}.\n`);
        const report: BackendReport = {
          backend: name,
          title,
          skipped: describeProbe(result),
          sizes,
          implementations: [],
        };
        reports.push(report);
        onReport(report);
        continue;
      }
    }
    const implementations = await runBackend(name, options, sizes, connections);
    for (const report of implementations) {
      // The raw driver and the library must always run; Emmett's failures are its own.
      const broken =
        report.notRun !== undefined && typeof definition.implementations[report.implementation] !== 'string';
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
    onReport(report);
  }
  return { reports, failed };
}

/**
 * Runs every scenario of every implementation of one backend, each in a fresh worker over fresh tables
 * (so that no figure depends on what ran before it: a heap full of earlier events, a warmer JIT, a
 * bigger table). The implementations take turns scenario by scenario, in an order rotated each round
 * (turnOrder), and with several rounds the median is kept: a machine whose load drifts (other processes, fsync latency) then weighs on all of them alike.
 */
async function runBackend(
  backend: BackendName,
  options: RunOptions,
  sizes: Sizes,
  connections: Connections,
): Promise<ImplementationReport[]> {
  const runs = new Map<Implementation, ImplementationReport[]>(options.implementations.map((i) => [i, []]));
  const notRun = new Map<Implementation, ImplementationReport>();
  // --quick checks that everything runs, not figures: one worker per implementation then saves the
  // start-up and table set-up of one per scenario (on Cassandra, seconds each).
  const groups = options.quick ? [[...options.scenarios]] : options.scenarios.map((s) => [s]);
  for (let round = 0; round < options.rounds; round++) {
    for (const scenarios of groups) {
      for (const implementation of turnOrder(options.implementations, round)) {
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
          ...(options.profileDir ? { profileDir: options.profileDir } : {}),
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

/** Runs one job in a child process (same Node flags, so tsx keeps working) and waits for its report. */
function runWorker(job: Job): Promise<ImplementationReport> {
  return new Promise((resolve) => {
    let report: ImplementationReport | undefined;
    const child = fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), [], {
      execArgv: process.execArgv,
      env: { ...process.env, [JOB_VARIABLE]: JSON.stringify(job) },
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
