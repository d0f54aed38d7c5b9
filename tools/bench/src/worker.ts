/**
 * The worker: runs the scenarios of one implementation on one backend, in a process of its own (so that
 * one implementation's heap, JIT state and connections never weigh on another's), and sends back its
 * report. orchestration.ts starts it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import type { BackendName } from '@es/servers';
import type { BenchAdapter, Implementation, ScenarioName } from './adapter.js';
import { type Connections, DEFINITIONS } from './backends.js';
import { progressLine } from './progress.js';
import type { ImplementationReport, ScenarioOutcome } from './report.js';
import { type Measure, ScenarioRunner } from './scenarios/runner.js';
import type { Sizes } from './scenarios/sizes.js';
import { fmt } from './table.js';

export interface Job {
  backend: BackendName;
  implementation: Implementation;
  scenarios: ScenarioName[];
  sizes: Sizes;
  connections: Connections;
  /** Write a V8 CPU profile of each measured pass here. */
  profileDir?: string;
}

/**
 * Profiles each measured pass alone (the inspector's sampling profiler, started and stopped around it),
 * to `<dir>/<backend>-<implementation>-<pass>.cpuprofile`.
 */
function profiler(job: Job): Measure | undefined {
  const dir = job.profileDir;
  if (dir === undefined) return undefined;
  return async (label, pass) => {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    try {
      return await pass();
    } finally {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, `${job.backend}-${job.implementation}-${label}.cpuprofile`),
        JSON.stringify(profile),
      );
      session.disconnect();
    }
  };
}

const errorText = (error: unknown): string =>
  error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);

export async function runJob(job: Job): Promise<ImplementationReport> {
  const { implementation } = job;
  const factory = DEFINITIONS[job.backend].implementations[implementation];
  if (typeof factory === 'string') return { implementation, notRun: factory, scenarios: {} };
  const progress = progressLine(`[${job.backend}/${implementation}]`);

  let adapter: BenchAdapter;
  try {
    adapter = await factory(job.connections);
  } catch (error) {
    return { implementation, notRun: `cannot load: ${errorText(error)}`, scenarios: {} };
  }
  try {
    await adapter.open();
  } catch (error) {
    return {
      implementation,
      description: adapter.description,
      notRun: `cannot open: ${errorText(error)}`,
      scenarios: {},
    };
  }
  const serverVersion = await adapter.serverVersion().catch(() => undefined);
  const runner = new ScenarioRunner(adapter, job.sizes, progress, profiler(job));
  const scenarios: Partial<Record<ScenarioName, ScenarioOutcome>> = {};
  for (const scenario of job.scenarios) {
    const reason = adapter.unsupported[scenario];
    if (reason !== undefined) {
      scenarios[scenario] = { status: 'unsupported', reason };
      continue;
    }
    try {
      const result = await runner.run(scenario);
      scenarios[scenario] = { status: 'ok', result };
      const figures = Object.entries(result.metrics).map(([k, v]) => `${k}=${fmt(v, v < 100 ? 2 : 0)}`);
      progress.say(`${scenario}: ${figures.join(' ')} (${result.seconds.toFixed(1)} s)`);
    } catch (error) {
      scenarios[scenario] = { status: 'failed', error: errorText(error) };
      progress.say(`${scenario}: FAILED ${errorText(error)}`);
    }
  }
  await adapter.close().catch((error: unknown) => progress.say(`close failed: ${errorText(error)}`));
  return {
    implementation,
    description: adapter.description,
    ...(serverVersion ? { serverVersion } : {}),
    scenarios,
  };
}

/** The variable through which a worker receives its job. */
export const JOB_VARIABLE = 'ES_BENCH_JOB';

// As a child process: read the job from the environment, send the report to the parent, exit.
if (process.send && process.env[JOB_VARIABLE]) {
  const job = JSON.parse(process.env[JOB_VARIABLE]) as Job;
  runJob(job).then(
    (report) => process.send!(report, () => process.exit(0)),
    (error: unknown) => {
      process.stderr.write(`${errorText(error)}\n`);
      process.exit(1);
    },
  );
}
