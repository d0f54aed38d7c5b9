/**
 * Runs the scenarios of one implementation on one backend, in a process of its own (so that one
 * implementation's heap, JIT state and connections never weigh on another's), and sends back its report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import type { BenchAdapter, Implementation, ScenarioName } from './adapter.js';
import { type BackendName, type Connections, DEFINITIONS } from './backends.js';
import { type Measure, type Progress, ScenarioRunner, type Sizes } from './scenarios.js';
import { type ImplementationReport, type ScenarioOutcome, fmt } from './table.js';

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

/** A progress line on stderr: rewritten in place on a terminal, one line per phase otherwise. */
export function progressLine(prefix: string): Progress & { say(text: string): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let lastWhat = '';
  return {
    step(what, done, total) {
      const now = performance.now();
      if (tty) {
        if (now - last < 100 && done !== total) return;
        last = now;
        process.stderr.write(`\r\x1b[K${prefix} ${what} ${done}/${total}`);
      } else if (what !== lastWhat) {
        lastWhat = what;
        process.stderr.write(`${prefix} ${what} (${total})\n`);
      }
    },
    say(text) {
      process.stderr.write(`${tty ? '\r\x1b[K' : ''}${prefix} ${text}\n`);
    },
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

// As a child process: read the job from the environment, send the report to the parent, exit.
if (process.send && process.env.ES_BENCH_JOB) {
  const job = JSON.parse(process.env.ES_BENCH_JOB) as Job;
  runJob(job).then(
    (report) => process.send!(report, () => process.exit(0)),
    (error: unknown) => {
      process.stderr.write(`${errorText(error)}\n`);
      process.exit(1);
    },
  );
}
