/** `pnpm cassandra start|stop|status`: one node, by default `main` on 127.0.0.1:9042 in mode `fast`. */
import { type NodeConfig, nodePaths, singleNode } from './config.js';
import { log } from './log.js';
import {
  describeRss,
  launchNode,
  portInUse,
  probeNode,
  readNodeConfig,
  runningPid,
  seconds,
  stopPid,
  waitUntilAnswering,
} from './node.js';
import type { NodeOptions, ToolEnvironment } from './options.js';
import { rssMb } from './pids.js';

/** What `start` did: `started` is false when a node was already there (and must then not be stopped by us). */
export interface StartResult {
  readonly started: boolean;
  readonly config: NodeConfig;
  readonly pid?: number;
  readonly seconds?: number;
}

export async function startNode(options: NodeOptions, env: ToolEnvironment): Promise<StartResult> {
  const paths = nodePaths(env, options.name);
  const wanted = singleNode(options);
  const pid = runningPid(paths);
  if (pid !== undefined) {
    // Judge readiness by how that instance was configured, not by this command line's options.
    const running = readNodeConfig(paths) ?? wanted;
    for (const setting of ['auth', 'mode'] as const) {
      if (running[setting] !== wanted[setting]) {
        log(
          `WARNING: '${options.name}' is running with ${setting}=${running[setting]}, ` +
            `not the requested ${setting}=${wanted[setting]}`,
        );
      }
    }
    log(`'${options.name}' already running (pid ${pid}, port ${running.port}); waiting until it is ready`);
    await waitUntilAnswering(running, env, pid, { killOnTimeout: false });
    return { started: false, config: running, pid };
  }
  if (await portInUse(wanted.address, wanted.port)) {
    const open = await probeNode({ ...wanted, auth: false });
    const login = open.ok ? open : await probeNode({ ...wanted, auth: true });
    if (!login.ok) {
      throw new Error(
        `${wanted.address}:${wanted.port} is in use by something that does not answer CQL (${login.reason})`,
      );
    }
    const needsLogin = !open.ok;
    if (needsLogin !== wanted.auth) {
      throw new Error(
        `a Cassandra already answers on ${wanted.address}:${wanted.port} but its auth mode differs ` +
          `(it ${needsLogin ? 'requires' : 'does not require'} a login); stop it or use another --port`,
      );
    }
    log(
      `a Cassandra already answers on ${wanted.address}:${wanted.port} (${login.version}); not starting another`,
    );
    return { started: false, config: wanted };
  }
  if (await portInUse(wanted.address, wanted.storagePort)) {
    throw new Error(`storage port ${wanted.storagePort} is in use (another instance?); pass --storage-port`);
  }
  if (wanted.jmxPort !== undefined && (await portInUse('127.0.0.1', wanted.jmxPort))) {
    throw new Error(`JMX port ${wanted.jmxPort} is in use`);
  }
  const since = Date.now();
  const started = await launchNode(wanted, env, { keepData: options.keepData });
  await waitUntilAnswering(wanted, env, started, { killOnTimeout: true });
  log(
    `'${wanted.name}' ready on ${wanted.address}:${wanted.port} (pid ${started}, ${seconds(since)}, ` +
      `${describeRss(started)}, mode ${wanted.mode})`,
  );
  return { started: true, config: wanted, pid: started, seconds: (Date.now() - since) / 1000 };
}

/** Stops the node this tool started under `name`; true when there was one to stop. */
export async function stopNode(name: string, env: ToolEnvironment): Promise<boolean> {
  const paths = nodePaths(env, name);
  const pid = runningPid(paths);
  if (pid === undefined) {
    log(`'${name}' is not running (no live pid of this node in ${paths.pidFile})`);
    return false;
  }
  const since = Date.now();
  log(`stopping '${name}' (pid ${pid}) with SIGTERM`);
  await stopPid(pid, paths, 60_000);
  log(`'${name}' stopped in ${seconds(since)}`);
  return true;
}

export interface NodeStatus {
  readonly name: string;
  readonly running: boolean;
  readonly pid?: number;
  readonly rssMb?: number;
  readonly config?: NodeConfig;
  /** The probe's answer: `ready (5.0.9)` or why not. */
  readonly cql?: string;
  readonly log: string;
}

export async function nodeStatus(name: string, env: ToolEnvironment): Promise<NodeStatus> {
  const paths = nodePaths(env, name);
  const pid = runningPid(paths);
  const config = readNodeConfig(paths);
  if (pid === undefined) return { name, running: false, log: paths.systemLog };
  const probed = config && (await probeNode(config));
  return {
    name,
    running: true,
    pid,
    ...(rssMb(pid) !== undefined && { rssMb: rssMb(pid) }),
    ...(config && { config }),
    ...(probed && { cql: probed.ok ? `ready (${probed.version})` : `not ready (${probed.reason})` }),
    log: paths.systemLog,
  };
}

export function describeNodeStatus(status: NodeStatus): string {
  if (!status.running) return `'${status.name}': not running`;
  const c = status.config;
  const where = c ? `${c.address}:${c.port}, storage ${c.storagePort}, auth ${c.auth}, mode ${c.mode}, ` : '';
  return (
    `'${status.name}': running, pid ${status.pid}, RSS ${status.rssMb ?? '?'} MB, ${where}CQL: ${status.cql ?? 'unknown'}\n` +
    `  log: ${status.log}`
  );
}
