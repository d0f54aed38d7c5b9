/**
 * The tool's command line and environment, parsed and checked without touching anything: what `pnpm cassandra
 * ...` was asked to do, with every default filled in. The rest of the tool trusts what comes out of here.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/**
 * How a node trades durability for speed. `fast`: the commit log is synced every 10 s and, with skip_sync,
 * never; system tables unsafe: a `kill -9` loses acknowledged writes. `durable`: a write is acknowledged after
 * its commit log segment was fsynced. See templates/mode-*.yaml and the README.
 */
export const MODES = ['fast', 'durable'] as const;
export type Mode = (typeof MODES)[number];

/** One node: `pnpm cassandra start`. */
export interface NodeOptions {
  readonly name: string;
  readonly address: string;
  /** CQL native port. */
  readonly port: number;
  /** Internode port. */
  readonly storagePort: number;
  /** Local JMX (for nodetool) on this port; off when undefined. */
  readonly jmxPort: number | undefined;
  readonly heap: string;
  /** PasswordAuthenticator + CassandraAuthorizer, superuser cassandra/cassandra. */
  readonly auth: boolean;
  /** Keep the data of a previous run instead of starting fresh. */
  readonly keepData: boolean;
  readonly mode: Mode;
}

/** A ring of nodes on consecutive loopback addresses: `pnpm cassandra ring start`. */
export interface RingOptions {
  readonly name: string;
  readonly nodes: number;
  /** Nodes are split into this many data centres (datacenter1, datacenter2, ...), in address order. */
  readonly datacenters: number;
  /** The first node's address; the others follow (127.0.0.2, 127.0.0.3, ...). */
  readonly firstAddress: string;
  readonly port: number;
  readonly storagePort: number;
  readonly heap: string;
  readonly keepData: boolean;
  readonly mode: Mode;
}

export type Command =
  | { readonly command: 'help' }
  | { readonly command: 'fetch' }
  | { readonly command: 'start'; readonly node: NodeOptions }
  | { readonly command: 'stop' | 'status'; readonly name: string }
  | { readonly command: 'ring start'; readonly ring: RingOptions }
  | { readonly command: 'ring stop' | 'ring status' | 'ring check'; readonly name: string }
  /** `node`: the node's number in the ring (1 = the seed) or its address; `ring wait` without one waits for all. */
  | { readonly command: 'ring kill'; readonly name: string; readonly node: string }
  /**
   * `clockOffsetSeconds`: restart the node (stopping it first if it runs) with its wall clock that far off
   * (Cassandra's cassandra.clock hook, clock.ts); 0 restores the true clock. Absent: start a stopped node on the true clock, as before.
   */
  | {
      readonly command: 'ring restart';
      readonly name: string;
      readonly node: string;
      readonly clockOffsetSeconds?: number;
    }
  | { readonly command: 'ring wait'; readonly name: string; readonly node: string | undefined };

/** A command line the tool cannot run: the message says what to change. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What the environment sets: where the cache lives, which version, how long a start may take. */
export interface ToolEnvironment {
  /** Absolute, because it ends up in file:// URLs and yaml paths. */
  readonly home: string;
  readonly version: string;
  readonly startTimeoutMs: number;
  /** Extra arguments for `mvn` (split on spaces). */
  readonly mvnArgs: readonly string[];
}

export const DEFAULT_VERSION = '5.0.9';

export function toolEnvironment(env: NodeJS.ProcessEnv = process.env): ToolEnvironment {
  const home = env.ES_CASSANDRA_HOME?.trim() || join(homedir(), '.cache/es-cassandra');
  const timeout = env.ES_CASSANDRA_START_TIMEOUT?.trim() || '180';
  if (!/^\d+$/.test(timeout) || Number(timeout) < 1) {
    throw new UsageError(
      `ES_CASSANDRA_START_TIMEOUT must be a number of seconds, not ${JSON.stringify(timeout)}`,
    );
  }
  return {
    home: isAbsolute(home) ? home : resolve(home),
    version: env.ES_CASSANDRA_VERSION?.trim() || DEFAULT_VERSION,
    startTimeoutMs: Number(timeout) * 1000,
    mvnArgs: (env.ES_CASSANDRA_MVN_ARGS ?? '').split(' ').filter(Boolean),
  };
}

export const USAGE = `Usage: pnpm cassandra <command> [options]

Commands:
  fetch                     Download cassandra-all and its runtime dependencies into the cache (idempotent).
  start [options]           Start one node in the background and wait until it answers CQL.
      --name NAME           Instance name (default: main). State lives in $ES_CASSANDRA_HOME/instances/NAME.
      --address ADDRESS     Loopback address to listen on (default: 127.0.0.1).
      --port PORT           CQL native port (default: 9042).
      --storage-port PORT   Internode port (default: 7000). Must differ per instance on one address.
      --jmx-port PORT       Enable local JMX (for nodetool) on PORT (default: off).
      --heap SIZE           JVM heap, e.g. 1G (default: 1G for main, 512M otherwise).
      --auth                PasswordAuthenticator + CassandraAuthorizer; superuser cassandra/cassandra.
      --keep-data           Keep the data dir from a previous run (default: wipe for a fresh node).
      --mode fast|durable   fast (default): no fsync, loses acknowledged writes on kill -9;
                            durable: commit log fsynced before a write is acknowledged.
  stop [--name NAME]        Stop the node this tool started (SIGTERM, SIGKILL after 60 s).
  status [--name NAME]      Show whether the node runs and answers CQL (exit 3 when not running).

  ring start [options]      Start a ring on consecutive loopback addresses, one node after another.
      --name NAME           Ring name (default: ring); its nodes are instances NAME-1, NAME-2, ...
      --nodes N             Number of nodes (default: 3).
      --datacenters N       Split the nodes into N data centres, in address order (default: 1).
      --first-address ADDR  The first node's (seed's) address (default: 127.0.0.2).
      --port, --storage-port, --heap (default 512M), --keep-data, --mode (default: durable)
  ring status [--name NAME] Which nodes are up and in the ring (nodetool status, through CQL).
  ring stop [--name NAME]   Stop every node of the ring.
  ring kill NODE            SIGKILL one node (NODE: its number, 1 = the seed, or its address); its data stays.
  ring restart NODE         Start a killed or stopped node on its data; wait until it is back in the ring.
      --clock-offset OFFSET Stop the node if it runs, then start it with its wall clock OFFSET off the
                            machine's (Cassandra's cassandra.clock hook; monotonic time untouched): +20s,
                            -30s, +2m, -1h, or 0 for the true clock again (a negative one with =:
                            --clock-offset=-30s). Needs javac (JDK 17); ring status shows offsets.
  ring wait [NODE]          Wait until the node (default: every node) is up and seen as normal by the others.
  ring check                Kill the last node during QUORUM writes, restart it, read everything at ALL.

Environment: ES_CASSANDRA_HOME (cache + instances root, default ~/.cache/es-cassandra),
             ES_CASSANDRA_VERSION (default ${DEFAULT_VERSION}), ES_CASSANDRA_START_TIMEOUT (seconds, default 180),
             ES_CASSANDRA_MVN_ARGS (extra mvn arguments).`;

const NODE_FLAGS = {
  name: { type: 'string' },
  address: { type: 'string' },
  port: { type: 'string' },
  'storage-port': { type: 'string' },
  'jmx-port': { type: 'string' },
  heap: { type: 'string' },
  auth: { type: 'boolean' },
  'keep-data': { type: 'boolean' },
  mode: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const RING_FLAGS = {
  name: { type: 'string' },
  nodes: { type: 'string' },
  datacenters: { type: 'string' },
  'first-address': { type: 'string' },
  port: { type: 'string' },
  'storage-port': { type: 'string' },
  heap: { type: 'string' },
  'keep-data': { type: 'boolean' },
  mode: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const NAME_FLAG = { name: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

const RESTART_FLAGS = { ...NAME_FLAG, 'clock-offset': { type: 'string' } } as const;

/** Parses `pnpm cassandra ...`'s arguments; a mistake throws UsageError naming it. */
export function parseCommand(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    return { command: 'help' };
  }
  switch (command) {
    case 'fetch':
      parse(rest, {}, 0);
      return { command };
    case 'start': {
      const { values } = parse(rest, NODE_FLAGS, 0);
      if (values.help) return { command: 'help' };
      return { command, node: nodeOptions(values) };
    }
    case 'stop':
    case 'status': {
      const { values } = parse(rest, NAME_FLAG, 0);
      return values.help ? { command: 'help' } : { command, name: instanceName(values.name ?? 'main') };
    }
    case 'ring':
      return parseRing(rest);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)} (see pnpm cassandra help)`);
  }
}

function parseRing(argv: readonly string[]): Command {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'start': {
      const { values } = parse(rest, RING_FLAGS, 0);
      return values.help ? { command: 'help' } : { command: 'ring start', ring: ringOptions(values) };
    }
    case 'stop':
    case 'status':
    case 'check': {
      const { values } = parse(rest, NAME_FLAG, 0);
      if (values.help) return { command: 'help' };
      return { command: `ring ${sub}`, name: instanceName(values.name ?? 'ring') };
    }
    case 'restart': {
      const { values, positionals } = parse(rest, RESTART_FLAGS, 1);
      if (values.help) return { command: 'help' };
      const name = instanceName(values.name ?? 'ring');
      const node = positionals[0];
      if (node === undefined)
        throw new UsageError('ring restart needs a node: its number (1 = the seed) or address');
      const offset = values['clock-offset'];
      return {
        command: 'ring restart',
        name,
        node,
        ...(offset !== undefined && { clockOffsetSeconds: clockOffset(offset) }),
      };
    }
    case 'kill':
    case 'wait': {
      const { values, positionals } = parse(rest, NAME_FLAG, 1);
      if (values.help) return { command: 'help' };
      const name = instanceName(values.name ?? 'ring');
      const node = positionals[0];
      if (sub === 'wait') return { command: 'ring wait', name, node };
      if (node === undefined)
        throw new UsageError(`ring ${sub} needs a node: its number (1 = the seed) or address`);
      return { command: `ring ${sub}`, name, node };
    }
    default:
      throw new UsageError(
        `unknown ring command ${JSON.stringify(sub ?? '')}: start, status, stop, kill, restart, wait or check`,
      );
  }
}

type Flags = Record<string, { type: 'string' | 'boolean'; short?: string }>;

function parse<T extends Flags>(argv: readonly string[], options: T, maxPositionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: maxPositionals > 0 });
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (see pnpm cassandra help)`);
  }
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  }
  return parsed;
}

type Values = Record<string, string | boolean | undefined>;

function nodeOptions(values: Values): NodeOptions {
  const name = instanceName(str(values.name) ?? 'main');
  const jmx = str(values['jmx-port']);
  return {
    name,
    address: loopbackAddress('--address', str(values.address) ?? '127.0.0.1'),
    port: portNumber('--port', str(values.port) ?? '9042'),
    storagePort: portNumber('--storage-port', str(values['storage-port']) ?? '7000'),
    jmxPort: jmx === undefined ? undefined : portNumber('--jmx-port', jmx),
    heap: heapSize(str(values.heap) ?? (name === 'main' ? '1G' : '512M')),
    auth: values.auth === true,
    keepData: values['keep-data'] === true,
    mode: mode(str(values.mode) ?? 'fast'),
  };
}

function ringOptions(values: Values): RingOptions {
  const nodes = count('--nodes', str(values.nodes) ?? '3', 1, 9);
  const datacenters = count('--datacenters', str(values.datacenters) ?? '1', 1, nodes);
  const firstAddress = loopbackAddress('--first-address', str(values['first-address']) ?? '127.0.0.2');
  const last = Number(firstAddress.split('.')[3]) + nodes - 1;
  if (last > 254) throw new UsageError(`--first-address ${firstAddress} leaves no room for ${nodes} nodes`);
  return {
    name: instanceName(str(values.name) ?? 'ring'),
    nodes,
    datacenters,
    firstAddress,
    port: portNumber('--port', str(values.port) ?? '9042'),
    storagePort: portNumber('--storage-port', str(values['storage-port']) ?? '7000'),
    heap: heapSize(str(values.heap) ?? '512M'),
    keepData: values['keep-data'] === true,
    mode: mode(str(values.mode) ?? 'durable'),
  };
}

const str = (value: string | boolean | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined;

function instanceName(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`bad instance name: ${JSON.stringify(name)}`);
  return name;
}

function portNumber(flag: string, value: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535))
    throw new UsageError(`${flag} must be a port from 1 to 65535, not ${value}`);
  return port;
}

function count(flag: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`${flag} must be from ${min} to ${max}, not ${value}`);
  return n;
}

function heapSize(value: string): string {
  if (!/^[1-9]\d*[MG]$/.test(value)) throw new UsageError(`--heap must look like 512M or 1G, not ${value}`);
  return value;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/**
 * A clock offset in whole seconds: a sign and a number with a unit (s, m, h), e.g. +20s, -30s, +2m; or 0.
 * At most a day either way (a ring whose node is days off is not a test).
 */
export function clockOffset(value: string): number {
  const match = /^([+-])(\d{1,5})([smh])$/.exec(value);
  const seconds =
    value === '0'
      ? 0
      : match
        ? (match[1] === '-' ? -1 : 1) * Number(match[2]) * UNIT_SECONDS[match[3]!]!
        : NaN;
  if (!Number.isSafeInteger(seconds) || Math.abs(seconds) > 86_400) {
    throw new UsageError(
      `--clock-offset must be a signed duration of at most a day, such as +20s, -30s, +2m or -1h (or 0), not ${value}`,
    );
  }
  return seconds === 0 ? 0 : seconds; // never -0
}

function mode(value: string): Mode {
  if (!(MODES as readonly string[]).includes(value)) {
    throw new UsageError(`--mode must be ${MODES.join(' or ')}, not ${value}`);
  }
  return value as Mode;
}

/** Nodes run on loopback only: a test server must not listen on the network. */
function loopbackAddress(flag: string, value: string): string {
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(value);
  if (!octets || octets.slice(1).some((o) => Number(o) > 255)) {
    throw new UsageError(`${flag} must be a loopback address 127.x.y.z, not ${value}`);
  }
  return value;
}
