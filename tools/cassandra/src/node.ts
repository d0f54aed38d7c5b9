/**
 * One node's process: launched detached with its generated files, judged ready by the project's probe (a CQL
 * session reading system.local, with a login when the node requires one), stopped only when the pid this tool
 * recorded still runs this node's command line.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createConnection } from 'node:net';
import { basename, join } from 'node:path';
import { type ProbeResult, probe } from '@es/servers';
import {
  type NodeConfig,
  type NodePaths,
  cassandraYaml,
  jvmArgs,
  libDir,
  logbackXml,
  nodePaths,
  rackdcProperties,
} from './config.js';
import { offsetClockClasses } from './clock.js';
import { nodeGroupId } from './partition.js';
import { fetchCassandra } from './fetch.js';
import { log, sleep } from './log.js';
import type { ToolEnvironment } from './options.js';
import { isAlive, rssMb, signal } from './pids.js';

/** The superuser a node with `--auth` creates. */
export const SUPERUSER = { username: 'cassandra', password: 'cassandra' } as const;

/**
 * Java 17 exactly: Cassandra 5.0 installs a SecurityManager, which JDK 18+ refuses by default and 24+ removed.
 * Throws naming what was found otherwise.
 */
export function findJava(): string {
  const jvm = '/usr/lib/jvm';
  const candidates = [
    join(jvm, 'java-17-openjdk-amd64/bin/java'),
    ...(existsSync(jvm) ? readdirSync(jvm) : [])
      .filter((dir) => dir.startsWith('java-17-openjdk-'))
      .map((dir) => join(jvm, dir, 'bin/java')),
  ];
  const found = candidates.find((file) => existsSync(file));
  if (found) return found;
  const version = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const first = (version.stderr ?? '').split('\n')[0] ?? '';
  if (version.status === 0 && /"17\./.test(first)) return 'java';
  throw new Error(
    `Java 17 not found (looked in ${jvm}/java-17-openjdk-*, and 'java' on PATH is ${first || 'missing'}). ` +
      'Install openjdk-17-jre-headless.',
  );
}

/** The URL the project's probe reads this node through; with `login`, as the superuser. */
export function nodeUrl(config: NodeConfig, login = config.auth): string {
  const credentials = login ? `${SUPERUSER.username}:${SUPERUSER.password}@` : '';
  return `cassandra://${credentials}${config.address}:${config.port}/?localDataCenter=${config.dc}`;
}

/**
 * Whether the node answers CQL itself. With `--auth`, a node answers before its default role exists (~0.5 s
 * after "Startup complete"), so readiness needs a real login, which the URL's credentials make.
 */
export function probeNode(config: NodeConfig, timeoutMs = 3000): Promise<ProbeResult> {
  return probe('cassandra', { url: nodeUrl(config), timeoutMs });
}

/** Whether something accepts connections: a port conflict, not readiness (that is probeNode). */
export function portInUse(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: address, port, timeout: 1000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/**
 * How the node was configured: its node.json, or for a node an earlier version of this tool started (which
 * wrote no node.json), what its cassandra.yaml says.
 */
export function readNodeConfig(paths: NodePaths): NodeConfig | undefined {
  if (existsSync(paths.configFile)) return JSON.parse(readFileSync(paths.configFile, 'utf8')) as NodeConfig;
  if (!existsSync(paths.yaml)) return undefined;
  const yaml = readFileSync(paths.yaml, 'utf8');
  const key = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(yaml)?.[1];
  const address = key('listen_address') ?? '127.0.0.1';
  return {
    name: basename(paths.dir),
    clusterName: key('cluster_name') ?? '',
    address,
    port: Number(key('native_transport_port') ?? 9042),
    storagePort: Number(key('storage_port') ?? 7000),
    seeds: `${address}:${key('storage_port') ?? 7000}`,
    dc: 'datacenter1',
    rack: 'rack1',
    heap: '',
    auth: key('authenticator') === 'PasswordAuthenticator',
    mode: key('commitlog_sync') === 'periodic' ? 'fast' : 'durable',
  };
}

/**
 * The pid from the node's pid file, only if that process is alive AND runs this node's yaml (guards against
 * a stale pid file whose pid was reused by something else).
 */
export function runningPid(paths: NodePaths): number | undefined {
  if (!existsSync(paths.pidFile)) return undefined;
  const pid = Number(readFileSync(paths.pidFile, 'utf8').trim());
  if (!isAlive(pid)) return undefined;
  try {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return commandLine.includes(`-Dcassandra.config=file://${paths.yaml}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The last lines of the node's logs, for a start that failed. */
export function logTail(paths: NodePaths, lines = 60): string {
  return [paths.systemLog, paths.consoleLog]
    .filter((file) => existsSync(file) && readFileSync(file, 'utf8').length > 0)
    .map((file) => {
      const tail = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      return `----- last ${lines} lines of ${file} -----\n${tail}`;
    })
    .join('\n');
}

/**
 * Writes the node's files and starts its JVM in the background; returns the pid. With
 * `clockOffsetSeconds` (not 0), the node's wall clock runs that far off the machine's (clock.ts).
 */
export async function launchNode(
  config: NodeConfig,
  env: ToolEnvironment,
  options: { keepData: boolean; clockOffsetSeconds?: number },
): Promise<number> {
  await fetchCassandra(env);
  const java = findJava();
  const paths = nodePaths(env, config.name);
  mkdirSync(paths.dir, { recursive: true });
  if (!options.keepData) rmSync(paths.data, { recursive: true, force: true }); // a fresh node by default
  mkdirSync(paths.data, { recursive: true });
  // Keep the previous run's logs one generation back; this run's log starts empty.
  rmSync(`${paths.logs}.prev`, { recursive: true, force: true });
  if (existsSync(paths.logs)) renameSync(paths.logs, `${paths.logs}.prev`);
  mkdirSync(paths.logs, { recursive: true });
  writeFileSync(paths.yaml, cassandraYaml(config, paths));
  writeFileSync(paths.logback, logbackXml(paths));
  writeFileSync(paths.rackdc, rackdcProperties(config));
  writeFileSync(paths.configFile, `${JSON.stringify(config, null, 2)}\n`);

  const lib = libDir(env);
  const jamm = readdirSync(lib).find((jar) => /^jamm-.*\.jar$/.test(jar));
  const offset = options.clockOffsetSeconds ?? 0;
  const clock =
    offset === 0 ? undefined : { offsetSeconds: offset, classes: offsetClockClasses(lib, env.version, java) };
  const args = jvmArgs(config, paths, lib, jamm && join(lib, jamm), clock);
  // As root the JVM holds CAP_IPC_LOCK, so Cassandra's mlockall(MCL_CURRENT) succeeds and faults the whole heap
  // into RAM (measured: +2.6 s start-up, ~+800 MB RSS). A test server needs no locked memory: drop just that
  // capability and mlockall fails with a harmless "Unable to lock JVM memory (ENOMEM)" warning, as it does
  // for non-root users under the default RLIMIT_MEMLOCK.
  // The same launcher gives the node a primary group of its own, so that a test can cut its internode
  // traffic off with iptables' owner match (partition.ts says why addresses cannot).
  const asRoot =
    process.getuid?.() === 0 && spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status === 0;
  const [command, ...launcherArgs] = asRoot ? rootLauncher(config, java) : [java];
  log(
    `starting '${config.name}': Cassandra ${env.version} on ${config.address}:${config.port} ` +
      `(storage ${config.storagePort}, dc ${config.dc}, heap ${config.heap}, auth ${config.auth}, mode ${config.mode}` +
      `${offset === 0 ? '' : `, clock ${offset > 0 ? '+' : ''}${offset} s`})`,
  );
  const output = openSync(paths.consoleLog, 'a');
  try {
    // detached = setsid: the node outlives the process (and process group) that started it; stop it with
    // `stop`. cwd = instance dir so nothing (hs_err, jna temp files) lands in the repo.
    const child = spawn(command!, [...launcherArgs, ...args], {
      cwd: paths.dir,
      detached: true,
      stdio: ['ignore', output, output],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', reject);
    });
    child.unref();
    writeFileSync(paths.pidFile, `${pid}\n`);
    return pid;
  } finally {
    closeSync(output);
  }
}

/** `setpriv` before the JVM, as root: no CAP_IPC_LOCK (see launchNode) and the node's own group. */
export function rootLauncher(config: NodeConfig, java: string): string[] {
  const gid = nodeGroupId(config.address);
  return ['setpriv', '--bounding-set=-ipc_lock', `--regid=${gid}`, '--clear-groups', java];
}

/** Waits until the node answers the probe; a node that exits or stays silent past the limit is an error. */
export async function waitUntilAnswering(
  config: NodeConfig,
  env: ToolEnvironment,
  pid: number,
  options: { killOnTimeout: boolean },
): Promise<void> {
  const paths = nodePaths(env, config.name);
  const started = Date.now();
  let last: ProbeResult | undefined;
  while (Date.now() - started < env.startTimeoutMs) {
    if (!isAlive(pid)) {
      process.stderr.write(`${logTail(paths)}\n`);
      throw new Error(
        `Cassandra '${config.name}' (pid ${pid}) exited during start-up; logs in ${paths.logs}`,
      );
    }
    last = await probeNode(config);
    if (last.ok) return;
    await sleep(500);
  }
  process.stderr.write(`${logTail(paths)}\n`);
  const reason = `last probe: ${last && !last.ok ? last.reason : 'none'}`;
  if (options.killOnTimeout) {
    log(`not ready after ${env.startTimeoutMs / 1000} s (${reason}); stopping pid ${pid}`);
    await stopPid(pid, paths, 20_000);
  }
  throw new Error(`'${config.name}' not ready after ${env.startTimeoutMs / 1000} s (${reason})`);
}

/** SIGTERM runs Cassandra's shutdown hook (drain: flush memtables, close ports); SIGKILL if it hangs. */
export async function stopPid(pid: number, paths: NodePaths, graceMs: number): Promise<void> {
  signal(pid, 'SIGTERM');
  const started = Date.now();
  while (isAlive(pid) && Date.now() - started < graceMs) await sleep(250);
  if (isAlive(pid)) {
    log(`pid ${pid} still alive after ${graceMs / 1000} s; SIGKILL`);
    signal(pid, 'SIGKILL');
    while (isAlive(pid)) await sleep(100);
  }
  rmSync(paths.pidFile, { force: true });
}

/** SIGKILL, as a crash: no drain, no flush; the data directory stays as the crash left it. */
export async function killPid(pid: number, paths: NodePaths): Promise<void> {
  signal(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
  rmSync(paths.pidFile, { force: true });
}

export const seconds = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`;

export function describeRss(pid: number): string {
  const rss = rssMb(pid);
  return rss === undefined ? 'RSS unknown' : `RSS ${rss} MB`;
}
