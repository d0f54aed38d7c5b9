/**
 * What a node is (NodeConfig), where its files live (NodePaths), and the files and JVM arguments generated
 * for it: pure functions over the templates in ../templates, so that each mode's settings are tested.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ClockOffset, clockOffsetProperties } from './clock.js';
import type { Mode, NodeOptions, RingOptions, ToolEnvironment } from './options.js';

/** Everything about one node that its files and its command line are made from; saved as node.json. */
export interface NodeConfig {
  readonly name: string;
  /** The ring it belongs to, if any. */
  readonly ring?: string;
  readonly clusterName: string;
  readonly address: string;
  readonly port: number;
  readonly storagePort: number;
  readonly jmxPort?: number;
  /** `address:storagePort` of the seed nodes. */
  readonly seeds: string;
  readonly dc: string;
  readonly rack: string;
  /** Murmur3 token; undefined lets a lone node pick one at random. */
  readonly initialToken?: string;
  readonly heap: string;
  readonly auth: boolean;
  readonly mode: Mode;
}

export interface NodePaths {
  readonly dir: string;
  readonly data: string;
  readonly logs: string;
  readonly systemLog: string;
  readonly consoleLog: string;
  readonly pidFile: string;
  readonly yaml: string;
  readonly logback: string;
  readonly rackdc: string;
  readonly configFile: string;
}

/** The cache layout: `<home>/<version>/lib` holds the classpath, `<home>/instances/<name>` one node. */
export function libDir(env: ToolEnvironment): string {
  return join(env.home, env.version, 'lib');
}

export function nodePaths(env: ToolEnvironment, name: string): NodePaths {
  const dir = join(env.home, 'instances', name);
  const logs = join(dir, 'logs');
  return {
    dir,
    data: join(dir, 'data'),
    logs,
    systemLog: join(logs, 'system.log'),
    consoleLog: join(logs, 'console.log'),
    pidFile: join(dir, 'cassandra.pid'),
    yaml: join(dir, 'cassandra.yaml'),
    logback: join(dir, 'logback.xml'),
    rackdc: join(dir, 'cassandra-rackdc.properties'),
    configFile: join(dir, 'node.json'),
  };
}

/** Where a ring's layout is saved, beside its nodes' instances. */
export function ringFile(env: ToolEnvironment, name: string): string {
  return join(env.home, 'instances', `${name}.ring.json`);
}

export function singleNode(options: NodeOptions): NodeConfig {
  return {
    name: options.name,
    clusterName: `es-test-${options.name}`,
    address: options.address,
    port: options.port,
    storagePort: options.storagePort,
    ...(options.jmxPort !== undefined && { jmxPort: options.jmxPort }),
    seeds: `${options.address}:${options.storagePort}`,
    dc: 'datacenter1',
    rack: 'rack1',
    heap: options.heap,
    auth: options.auth,
    mode: options.mode,
  };
}

/**
 * The nodes of a ring, in start order: consecutive addresses from the first, the first node the only seed,
 * data centres in address order (`datacenter1` first, so drivers' default local data centre works), and
 * tokens spread evenly within each data centre (offset by the data centre's index so no two are equal), so
 * every node owns a fair share without vnodes.
 */
export function ringNodes(options: RingOptions): NodeConfig[] {
  const [a, b, c, d] = options.firstAddress.split('.').map(Number) as [number, number, number, number];
  const dcOf = (i: number) => Math.floor((i * options.datacenters) / options.nodes);
  const seeds = `${options.firstAddress}:${options.storagePort}`;
  return Array.from({ length: options.nodes }, (_, i) => {
    const dc = dcOf(i);
    const inDc = Array.from({ length: options.nodes }, (_, j) => j).filter((j) => dcOf(j) === dc);
    return {
      name: `${options.name}-${i + 1}`,
      ring: options.name,
      clusterName: `es-ring-${options.name}`,
      address: `${a}.${b}.${c}.${d + i}`,
      port: options.port,
      storagePort: options.storagePort,
      seeds,
      dc: `datacenter${dc + 1}`,
      rack: 'rack1',
      initialToken: String(evenToken(inDc.indexOf(i), inDc.length) + BigInt(dc)),
      heap: options.heap,
      auth: false,
      mode: options.mode,
    };
  });
}

/** The i-th of n evenly spaced Murmur3 tokens (the range is -2^63 .. 2^63 - 1). */
export function evenToken(i: number, n: number): bigint {
  return -(2n ** 63n) + (BigInt(i) * 2n ** 64n) / BigInt(n);
}

const TEMPLATES = new URL('../templates/', import.meta.url);

export function template(file: string): string {
  return readFileSync(new URL(file, TEMPLATES), 'utf8');
}

/** Replaces every `${key}`; a key the template names but `values` lacks is a mistake in this tool. */
export function render(text: string, values: Readonly<Record<string, string | number | boolean>>): string {
  return text.replace(/\$\{([a-z_]+)\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`template value missing: ${key}`);
    return String(values[key]);
  });
}

export function cassandraYaml(config: NodeConfig, paths: NodePaths): string {
  return render(template('cassandra.yaml'), {
    name: config.name,
    mode: config.mode,
    cluster_name: config.clusterName,
    initial_token:
      config.initialToken === undefined
        ? '# initial_token: none, a lone node picks one'
        : `initial_token: ${config.initialToken}`,
    seeds: config.seeds,
    address: config.address,
    storage_port: config.storagePort,
    port: config.port,
    data_dir: paths.data,
    mode_settings: template(`mode-${config.mode}.yaml`).trimEnd(),
    authenticator: config.auth ? 'PasswordAuthenticator' : 'AllowAllAuthenticator',
    authorizer: config.auth ? 'CassandraAuthorizer' : 'AllowAllAuthorizer',
    hinted_handoff: config.ring !== undefined,
  });
}

export function rackdcProperties(config: NodeConfig): string {
  return render(template('cassandra-rackdc.properties'), {
    name: config.name,
    dc: config.dc,
    rack: config.rack,
  });
}

export function logbackXml(paths: NodePaths): string {
  return render(template('logback.xml'), { log_dir: paths.logs });
}

export function fetchPom(version: string): string {
  return render(template('pom.xml'), { version });
}

/** JVM flags by mode: what `fast` gives up for speed. */
export const MODE_JVM_ARGS: Readonly<Record<Mode, readonly string[]>> = {
  // TEST-SERVER SPEED-UPS. Unsafe for real data: no fsync at all (commit log, sstables, hints), and system
  // tables (Paxos state among them) written without their own syncs.
  fast: ['-Dcassandra.skip_sync=true', '-Dcassandra.unsafesystem=true'],
  durable: [],
};

/** The java command line after `java`, up to the main class. `jamm`: the jamm agent jar, if the classpath has one. */
export function jvmArgs(
  config: NodeConfig,
  paths: NodePaths,
  lib: string,
  jamm: string | undefined,
  clock?: ClockOffset,
): string[] {
  return [
    `-Xms${config.heap}`,
    `-Xmx${config.heap}`,
    '-Xss256k',
    '-XX:+UseG1GC',
    '-XX:+ParallelRefProcEnabled',
    '-XX:MaxGCPauseMillis=300',
    '-XX:+ExitOnOutOfMemoryError',
    '-XX:+PerfDisableSharedMem',
    `-XX:ErrorFile=${paths.logs}/hs_err_%p.log`,
    '-Djava.net.preferIPv4Stack=true',
    '-ea',
    // JPMS: the list from Cassandra 5.0's conf/jvm17-server.options (+ java.nio, which jamm/ohc touch).
    // Without it the node dies within ~10 s: "Cassandra is unable to access required classes".
    '-Djdk.attach.allowAttachSelf=true',
    '--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED',
    '--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED',
    '--add-exports=java.management/com.sun.jmx.remote.security=ALL-UNNAMED',
    '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
    '--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED',
    '--add-exports=java.sql/java.sql=ALL-UNNAMED',
    '--add-exports=java.base/java.lang.ref=ALL-UNNAMED',
    '--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED',
    '--add-exports=jdk.attach/sun.tools.attach=ALL-UNNAMED',
    '--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED',
    '--add-opens=java.base/java.lang.module=ALL-UNNAMED',
    '--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED',
    '--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED',
    '--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED',
    '--add-opens=java.base/jdk.internal.math=ALL-UNNAMED',
    '--add-opens=java.base/jdk.internal.module=ALL-UNNAMED',
    '--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED',
    '--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
    '--add-opens=java.base/java.io=ALL-UNNAMED',
    '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
    '--add-opens=java.base/java.lang=ALL-UNNAMED',
    '--add-opens=java.base/java.util=ALL-UNNAMED',
    '--add-opens=java.base/java.nio=ALL-UNNAMED',
    '--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED',
    // Netty settings upstream uses on Java 17.
    '-Dio.netty.tryReflectionSetAccessible=true',
    '-Dio.netty.allocator.useCacheForAllThreads=true',
    '-Dio.netty.allocator.maxOrder=11',
    '-Dchronicle.analytics.disable=true',
    // Where things are. foreground=yes keeps stdout/stderr open so JVM-level failures reach console.log.
    `-Dcassandra.config=file://${paths.yaml}`,
    `-Dcassandra-rackdc.properties=file://${paths.rackdc}`,
    `-Dcassandra.storagedir=${paths.data}`,
    `-Dcassandra.logdir=${paths.logs}`,
    `-Dlogback.configurationFile=file://${paths.logback}`,
    '-Dcassandra-foreground=yes',
    ...MODE_JVM_ARGS[config.mode],
    // Test-server speed-ups that keep acknowledged writes: no waiting for gossip to settle (the tool waits
    // until every node is seen as normal instead), a short ring delay, fast default-superuser creation, no
    // size estimates.
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.ring_delay_ms=1000',
    '-Dcassandra.superuser_setup_delay_ms=500',
    '-Dcassandra.size_recorder_interval=0',
    // Faster stop (6 s -> ~2 s): no 2 s "announce shutdown" sleep for peers (a lone node has none, and
    // `ring stop` stops every peer anyway) and no graceful drain of internode connections (a Cassandra
    // test-only switch).
    '-Dcassandra.shutdown_announce_in_ms=0',
    '-Dcassandra.test.messagingService.nonGracefulShutdown=true',
    // jamm is optional in 5.0 but upstream always loads it as an agent (more exact memtable sizing).
    ...(jamm === undefined ? [] : [`-javaagent:${jamm}`]),
    ...(config.jmxPort === undefined ? [] : [`-Dcassandra.jmx.local.port=${config.jmxPort}`]),
    // A skewed clock (clock.ts): Cassandra's own Clock.Global reads OffsetClock, which the class path adds.
    ...(clock === undefined ? [] : clockOffsetProperties(clock.offsetSeconds)),
    '-cp',
    clock === undefined ? `${lib}/*` : `${lib}/*:${clock.classes}`,
    'org.apache.cassandra.service.CassandraDaemon',
  ];
}
