import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StoreConnectionError, hasNotificationLog } from '@es/core';
import { checkSeedScenario, describeStore, runSeedScenario } from '@es/example';
import { Command, CommanderError, Option } from 'commander';
import { BACKENDS, type BackendName, backends } from './backends.js';
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
        .choices(BACKENDS)
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
  if (!BACKENDS.includes(options.backend)) {
    io.err(`Unknown backend "${options.backend}" (from ES_BACKEND): choose one of ${BACKENDS.join(', ')}.`);
    return 1;
  }

  const backend = backends[options.backend];
  try {
    const { app, where, persists } = await backend.open({
      dataDir: resolve(io.cwd, options.dataDir),
      env: io.env,
    });
    try {
      io.out(`The seed's scenario on ${backend.label}`);
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
      const others = BACKENDS.filter((b) => b !== options.backend).join('|');
      io.out(`Other backends: pnpm example --backend ${others}`);
      return 0;
    } finally {
      await app.close();
    }
  } catch (error) {
    io.err(oneLine(error, backend.label, backend.startHint?.(io.env)));
    return 1;
  }
}

/** An error as one readable line: what failed, and for an unreachable server, how to start it. */
function oneLine(error: unknown, label: string, startHint: string | undefined): string {
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  if (startHint && isUnreachable(error)) return `${label} is not reachable (${message}). ${startHint}`;
  return `${label}: ${message}`;
}

function isUnreachable(error: unknown): boolean {
  if (error instanceof StoreConnectionError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(code)
  );
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
