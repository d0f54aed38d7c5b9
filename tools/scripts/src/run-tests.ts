/**
 * `pnpm test`: every package's tests against real servers. Probes every server once and hands the results to
 * every jest run (ES_SERVERS_PROBED), so that each test file knows without asking again; starts the Cassandra
 * node `main` when it is not ready and Java 17 + Maven are here (and stops only a node it started), and the ring
 * the ring tests use (packages/cassandra/test/ring: 5 nodes on 127.0.0.2-6, two data centres, durable); PostgreSQL
 * and MariaDB are expected to be running (.ci/run starts them). Closes with one line of totals.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  findJava,
  hasMaven,
  isFetched,
  parseCommand,
  ringNotRunning,
  startNode,
  startRing,
  stopNode,
  stopRing,
  toolEnvironment,
} from '@es/cassandra-server';
import {
  BACKENDS,
  PROBED_VARIABLE,
  type ProbeResult,
  SERVER_NAMES,
  describeProbe,
  isCi,
  probe,
  probeAll,
  serverUrl,
} from '@es/servers';
import { summarise } from './totals.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const say = (line: string) => process.stdout.write(`test: ${line}\n`);

/** Why this machine cannot start the Cassandra node `main`, or undefined when it can. */
function cannotStartCassandra(): string | undefined {
  if (process.env.ES_SKIP_CASSANDRA_START) return 'ES_SKIP_CASSANDRA_START is set';
  if (serverUrl('cassandra') !== BACKENDS.cassandra.server!.defaultUrl) {
    return `${BACKENDS.cassandra.server!.variable} points elsewhere than the node pnpm cassandra starts`;
  }
  return cannotRunCassandra();
}

/** Why this machine cannot run Cassandra nodes at all (no Java 17, or no Maven to fetch it), or undefined. */
function cannotRunCassandra(): string | undefined {
  try {
    findJava();
  } catch (error) {
    return (error as Error).message;
  }
  if (!isFetched(toolEnvironment()) && !hasMaven())
    return 'Maven is missing (needed once to fetch Cassandra)';
  return undefined;
}

/** Starts `main` when Cassandra is not ready and it can; true when this run started it (and must stop it). */
async function startCassandraIfMissing(cassandra: ProbeResult): Promise<boolean> {
  if (cassandra.ok) return false;
  const why = cannotStartCassandra();
  if (why !== undefined) {
    say(`not starting Cassandra: ${why}`);
    return false;
  }
  say('starting Cassandra (first time: fetches cassandra-all from Maven Central)...');
  const command = parseCommand(['start']);
  if (command.command !== 'start') throw new Error('unreachable');
  try {
    return (await startNode(command.node, toolEnvironment())).started;
  } catch (error) {
    say(`Cassandra failed to start: ${(error as Error).message}`);
    return false;
  }
}

/** The ring the ring tests use (their ES_CASSANDRA_RING), as CI starts it: see packages/cassandra/test/ring. */
const RING = process.env.ES_CASSANDRA_RING ?? 'ring';
const RING_START = ['ring', 'start', '--name', RING, '--nodes', '5', '--datacenters', '2'];

/**
 * Starts the ring unless it runs already (then it is someone else's); true when this run started it (and must
 * stop it). A ring that does not come up is reported here and fails the ring tests under CI=true.
 */
async function startRingIfMissing(): Promise<boolean> {
  const env = toolEnvironment();
  if (ringNotRunning(RING, env) === undefined) {
    say(`the Cassandra ring '${RING}' runs already (not ours to stop)`);
    return false;
  }
  const why = process.env.ES_SKIP_CASSANDRA_RING ? 'ES_SKIP_CASSANDRA_RING is set' : cannotRunCassandra();
  if (why !== undefined) {
    say(`not starting the Cassandra ring: ${why}`);
    return false;
  }
  say(`starting the Cassandra ring: pnpm cassandra ${RING_START.join(' ')} ...`);
  const command = parseCommand(RING_START);
  if (command.command !== 'ring start') throw new Error('unreachable');
  const started = Date.now();
  try {
    await startRing(command.ring, env);
    say(`the Cassandra ring is up after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return true;
  } catch (error) {
    say(`the Cassandra ring failed to start: ${(error as Error).message}`);
    return false;
  }
}

function runTurbo(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  // turbo from the workspace itself: pnpm need not be on PATH (the README runs us through npx).
  const turbo = join(root, 'node_modules/.bin/turbo');
  const child = spawn(turbo, ['run', 'test', '--concurrency=1', '--continue', ...args], {
    stdio: 'inherit',
    cwd: root,
    env,
  });
  return new Promise((resolve) => {
    child.once('error', (error) => (say(`cannot run ${turbo}: ${error.message}`), resolve(1)));
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  let results = await probeAll(SERVER_NAMES);
  const startedCassandra = await startCassandraIfMissing(results.find((r) => r.name === 'cassandra')!);
  const startedRing = await startRingIfMissing();
  const stopStarted = async () => {
    if (startedRing) await stopRing(RING, toolEnvironment());
    if (startedCassandra) await stopNode('main', toolEnvironment());
  };
  // An interrupted run still stops the node it started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stopStarted().finally(() => process.exit(130)));
  }
  try {
    if (startedCassandra) {
      results = [...results.filter((r) => r.name !== 'cassandra'), await probe('cassandra')];
    }
    for (const result of results) say(describeProbe(result));
    const missing = results.filter((result) => !result.ok);
    if (missing.length > 0 && isCi()) {
      for (const { name } of missing) {
        const { label, server } = BACKENDS[name];
        say(
          `CI=true: ${label} is not ready. Start it with: ${server!.start}; or point ${server!.variable} at one`,
        );
      }
      return 1;
    }

    const summary = join(mkdtempSync(join(tmpdir(), 'es-test-')), 'summary.jsonl');
    const status = await runTurbo(process.argv.slice(2), {
      ...process.env,
      ES_TEST_SUMMARY: summary,
      ES_CASSANDRA_RING: RING,
      [PROBED_VARIABLE]: JSON.stringify(results),
    });
    const { lines, ok } = summarise(existsSync(summary) ? readFileSync(summary, 'utf8') : '', status !== 0);
    for (const line of lines) process.stdout.write(`${line}\n`);
    return ok && status === 0 ? 0 : 1;
  } finally {
    await stopStarted();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
