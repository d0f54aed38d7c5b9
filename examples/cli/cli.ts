import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { hasNotificationLog } from '@es/core';
import { checkSeedScenario, describeStore, runSeedScenario } from '@es/example';
import {
  BACKENDS,
  BACKEND_NAMES,
  type BackendName,
  describeProbe,
  howToStart,
  SERVER_NAMES,
  isBackendName,
  probe,
} from '@es/servers';
import { Command, CommanderError, Option } from 'commander';
import { openExample } from './backends.js';
import { formatAfter, formatEarlierRuns, formatLastNotification, formatReport } from './print.js';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  cwd: process.cwd(),
};

/**
 * `pnpm example [--backend NAME] [--data-dir DIR]`: runs the seed's scenario on one backend and prints
 * what happened. Resolves to the exit code: 0 when the backend behaved as the seed says, 1 otherwise.
 * Failures are reported in one line, never as a stack trace.
 */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const program = new Command('pnpm example')
    .description("Runs the seed's scenario (create, change foo, discard) and prints what each step stored.")
    .addOption(
      new Option('-b, --backend <name>', 'where the events are stored (env ES_BACKEND)')
        .choices(BACKEND_NAMES)
        .default(io.env.ES_BACKEND ?? 'sqlite'),
    )
    .addOption(
      new Option('--data-dir <dir>', 'where the SQLite file lives (env ES_DATA_DIR)').default(
        defaultDataDir(io),
      ),
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  let options: { backend: BackendName; dataDir: string };
  try {
    program.parse(argv, { from: 'user' });
    options = program.opts();
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    throw error;
  }
  if (!isBackendName(options.backend)) {
    io.err(
      `Unknown backend "${options.backend}" (from ES_BACKEND): choose one of ${BACKEND_NAMES.join(', ')}.`,
    );
    return 1;
  }

  const { label } = BACKENDS[options.backend];
  try {
    const { app, where, persists } = await openExample(options.backend, {
      dataDir: resolve(io.cwd, options.dataDir),
      env: io.env,
    });
    try {
      io.out(`The seed's scenario on ${label}`);
      io.out(`Data: ${where}`);
      const before = await describeStore(app);
      if (persists) io.out(formatEarlierRuns(before));
      const strategy = app.eventStore.activeRecordStrategy;
      if (persists && before.notificationLogSize && hasNotificationLog(strategy)) {
        const [last] = await strategy.selectNotifications(before.notificationLogSize, 1);
        if (last) io.out(formatLastNotification(last));
      }
      io.out('');
      const report = await runSeedScenario(app);
      for (const line of formatReport(report)) io.out(line);
      const after = await describeStore(app);
      io.out('');
      io.out(
        persists
          ? `${formatAfter(after)} Run it again: the data stays.`
          : 'Nothing is kept: the next run starts empty.',
      );
      const problems = checkSeedScenario(report);
      if (problems.length > 0) {
        io.err(`The backend did not behave as the seed says: ${problems.join('; ')}`);
        return 1;
      }
      const others = BACKEND_NAMES.filter((b) => b !== options.backend).join('|');
      io.out(`Other backends: pnpm example --backend ${others}`);
      return 0;
    } finally {
      await app.close();
    }
  } catch (error) {
    io.err(await explain(error, options.backend, io.env));
    return 1;
  }
}

/**
 * A failure as one readable line. When the backend has a server, the probe decides whether it was
 * reachable (the same probe the tests use): if not, the line says where it looked and how to start one.
 */
async function explain(error: unknown, name: BackendName, env: NodeJS.ProcessEnv): Promise<string> {
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  const server = SERVER_NAMES.find((serverName) => serverName === name);
  if (server !== undefined) {
    const result = await probe(server, { env, timeoutMs: 3000 });
    if (!result.ok) return `${describeProbe(result)}. To start one: ${howToStart(server)}.`;
  }
  return `${BACKENDS[name].label}: ${message}`;
}

/** `.es-data/` at the workspace root when run inside one (as `pnpm example` is), else in the cwd. */
function defaultDataDir(io: CliIo): string {
  if (io.env.ES_DATA_DIR) return io.env.ES_DATA_DIR;
  const start = io.env.INIT_CWD ?? io.cwd;
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return join(dir, '.es-data');
    if (dirname(dir) === dir) return join(resolve(start), '.es-data');
  }
}
