/**
 * `pnpm cassandra ring ...`: several nodes on consecutive loopback addresses (127.0.0.2, 127.0.0.3, ...), all on
 * the same ports, beside the single `main` node on 127.0.0.1. Nodes start one after another, each only once the
 * previous ones see it as normal; a node can be killed with SIGKILL and restarted on its data.
 */
import { healPartitions } from './partition.js';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Client } from 'cassandra-driver';
import { type NodeConfig, libDir, nodePaths, ringFile, ringNodes } from './config.js';
import { log, sleep } from './log.js';
import { offsetClockClasses, processClockOffset } from './clock.js';
import {
  describeRss,
  findJava,
  killPid,
  launchNode,
  portInUse,
  probeNode,
  runningPid,
  seconds,
  stopPid,
  waitUntilAnswering,
} from './node.js';
import type { RingOptions, ToolEnvironment } from './options.js';
import { rssMb } from './pids.js';

export interface Ring {
  readonly options: RingOptions;
  readonly nodes: readonly NodeConfig[];
}

/** A URL naming every node of the ring, for ES_CASSANDRA_URL or CassandraSettings({ url }). */
export function ringUrl(ring: Ring, localDataCenter = 'datacenter1'): string {
  const hosts = ring.nodes.map((node) => `${node.address}:${node.port}`).join(',');
  return `cassandra://${hosts}/?localDataCenter=${localDataCenter}`;
}

export function readRing(name: string, env: ToolEnvironment): Ring {
  const file = ringFile(env, name);
  if (!existsSync(file)) throw new Error(`no ring '${name}' (start one with: pnpm cassandra ring start)`);
  return JSON.parse(readFileSync(file, 'utf8')) as Ring;
}

/** A node of the ring by its number (1 = the seed) or its address. */
export function ringNode(ring: Ring, spec: string): NodeConfig {
  const node = /^\d+$/.test(spec) ? ring.nodes[Number(spec) - 1] : ring.nodes.find((n) => n.address === spec);
  if (node === undefined) {
    throw new Error(
      `ring '${ring.options.name}' has no node ${spec}: 1 to ${ring.nodes.length}, or ${ring.nodes.map((n) => n.address).join(', ')}`,
    );
  }
  return node;
}

/**
 * Why the ring is not running (no layout saved, or a node's process is gone), or undefined when every
 * node's process runs. Synchronous and cheap, for a test file deciding while jest collects tests; whether
 * the nodes answer is for the test (or `ring wait`) to find out.
 */
export function ringNotRunning(name: string, env: ToolEnvironment): string | undefined {
  let ring: Ring;
  try {
    ring = readRing(name, env);
  } catch (error) {
    return (error as Error).message;
  }
  const down = ring.nodes.filter((node) => runningPid(nodePaths(env, node.name)) === undefined);
  if (down.length > 0)
    return `ring '${name}': ${down.map((n) => `${n.name} (${n.address})`).join(', ')} not running`;
  return undefined;
}

export interface RingStartResult {
  readonly ring: Ring;
  readonly url: string;
  /** Per node, in start order: seconds until it answered and was seen as normal, and its RSS then. */
  readonly nodes: readonly { name: string; address: string; seconds: number; rssMb: number | undefined }[];
}

export async function startRing(options: RingOptions, env: ToolEnvironment): Promise<RingStartResult> {
  healPartitions(); // a ring starts whole, whatever an earlier partition test left
  const ring: Ring = { options, nodes: ringNodes(options) };
  const file = ringFile(env, options.name);
  if (existsSync(file)) {
    const previous = readRing(options.name, env);
    if (previous.nodes.some((node) => runningPid(nodePaths(env, node.name)) !== undefined)) {
      if (JSON.stringify(previous.nodes) !== JSON.stringify(ring.nodes)) {
        throw new Error(
          `ring '${options.name}' runs with another layout; stop it first: pnpm cassandra ring stop`,
        );
      }
      log(`ring '${options.name}' already running; waiting until every node is in it`);
      await waitForRing(options.name, env);
      return { ring, url: ringUrl(ring), nodes: [] };
    }
  }
  for (const node of ring.nodes) {
    for (const port of [node.port, node.storagePort]) {
      if (await portInUse(node.address, port)) throw new Error(`${node.address}:${port} is already in use`);
    }
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(ring, null, 2)}\n`);
  const timings: RingStartResult['nodes'][number][] = [];
  try {
    for (const [i, node] of ring.nodes.entries()) {
      const since = Date.now();
      const pid = await launchNode(node, env, { keepData: options.keepData });
      await waitUntilAnswering(node, env, pid, { killOnTimeout: true });
      await waitInRing(node, ring.nodes.slice(0, i + 1), env);
      log(
        `'${node.name}' (${node.address}, ${node.dc}) is up and normal: ${seconds(since)}, ${describeRss(pid)}`,
      );
      timings.push({
        name: node.name,
        address: node.address,
        seconds: (Date.now() - since) / 1000,
        rssMb: rssMb(pid),
      });
    }
  } catch (error) {
    log(`ring '${options.name}' did not come up; stopping the nodes this command started`);
    await stopRing(options.name, env);
    throw error;
  }
  return { ring, url: ringUrl(ring), nodes: timings };
}

/** Stops every running node of the ring (SIGTERM, SIGKILL after 60 s), all at once; their data stays. */
export async function stopRing(name: string, env: ToolEnvironment): Promise<void> {
  healPartitions(); // a partition test killed before its own heal leaves no rule behind
  const ring = readRing(name, env);
  const since = Date.now();
  const stops = ring.nodes.flatMap((node) => {
    const paths = nodePaths(env, node.name);
    const pid = runningPid(paths);
    return pid === undefined ? [] : [stopPid(pid, paths, 60_000)];
  });
  await Promise.all(stops);
  log(`ring '${name}': ${stops.length} node(s) stopped in ${seconds(since)}`);
}

/** SIGKILL one node, as a crash would; returns false when it was not running. */
export async function killRingNode(name: string, spec: string, env: ToolEnvironment): Promise<boolean> {
  const node = ringNode(readRing(name, env), spec);
  const paths = nodePaths(env, node.name);
  const pid = runningPid(paths);
  if (pid === undefined) {
    log(`'${node.name}' (${node.address}) is not running`);
    return false;
  }
  await killPid(pid, paths);
  log(`'${node.name}' (${node.address}, pid ${pid}) killed with SIGKILL; its data stays`);
  return true;
}

/**
 * The clock offset (seconds) a ring node's process runs with: 0 on the true clock; undefined when it is
 * not running (or its command line cannot be read).
 */
export function ringNodeClockOffset(name: string, spec: string, env: ToolEnvironment): number | undefined {
  const pid = ringNodePid(name, spec, env);
  return pid === undefined ? undefined : processClockOffset(pid);
}

/** The pid of a ring node's process, undefined when it is not running (for tests that signal it themselves). */
export function ringNodePid(name: string, spec: string, env: ToolEnvironment): number | undefined {
  return runningPid(nodePaths(env, ringNode(readRing(name, env), spec).name));
}

/**
 * Starts a node that was killed or stopped, on its data, and waits until the others see it as normal again.
 * With `clockOffsetSeconds`, the node is stopped first if it runs (SIGTERM: it drains) and started with its
 * wall clock that far off (Cassandra's `cassandra.clock` hook, see clock.ts); 0 brings it back to the true
 * clock. Returns the seconds it took.
 */
export async function restartRingNode(
  name: string,
  spec: string,
  env: ToolEnvironment,
  options: { clockOffsetSeconds?: number } = {},
): Promise<number> {
  const ring = readRing(name, env);
  const node = ringNode(ring, spec);
  const since = Date.now();
  const paths = nodePaths(env, node.name);
  let pid = runningPid(paths);
  const offset = options.clockOffsetSeconds;
  if (offset !== undefined) {
    // Compiled (or failed: no javac) before the node is stopped, not after.
    if (offset !== 0) offsetClockClasses(libDir(env), env.version, findJava());
    if (pid !== undefined) {
      log(`stopping '${node.name}' (pid ${pid}) to restart it with its clock ${offset} s off`);
      await stopPid(pid, paths, 60_000);
      pid = undefined;
    }
  }
  if (pid === undefined) {
    pid = await launchNode(node, env, {
      keepData: true,
      ...(offset !== undefined && { clockOffsetSeconds: offset }),
    });
    await waitUntilAnswering(node, env, pid, { killOnTimeout: false });
  } else {
    log(`'${node.name}' already running (pid ${pid})`);
  }
  await waitInRing(node, runningNodes(ring, env), env);
  log(`'${node.name}' (${node.address}) is back in the ring: ${seconds(since)}, ${describeRss(pid)}`);
  return (Date.now() - since) / 1000;
}

/** Waits until the node (default: every node) answers CQL and every running node sees it as normal. */
export async function waitForRing(name: string, env: ToolEnvironment, spec?: string): Promise<void> {
  const ring = readRing(name, env);
  const targets = spec === undefined ? ring.nodes : [ringNode(ring, spec)];
  for (const node of targets) {
    const pid = runningPid(nodePaths(env, node.name));
    if (pid === undefined) throw new Error(`'${node.name}' (${node.address}) is not running`);
    await waitUntilAnswering(node, env, pid, { killOnTimeout: false });
    await waitInRing(node, runningNodes(ring, env), env);
  }
  log(`ring '${name}': ${targets.map((node) => node.address).join(', ')} up and normal`);
}

function runningNodes(ring: Ring, env: ToolEnvironment): NodeConfig[] {
  return ring.nodes.filter((node) => runningPid(nodePaths(env, node.name)) !== undefined);
}

interface GossipEntry {
  readonly status: string;
  readonly generation: number;
  readonly rpcReady: boolean;
}

/** The ring as one node's gossip sees it (system_views.gossip_info): state, generation, CQL up, by address. */
async function gossipView(node: NodeConfig, timeoutMs = 3000): Promise<Map<string, GossipEntry>> {
  const contact = `${node.address}:${node.port}`;
  const client = new Client({
    contactPoints: [contact],
    localDataCenter: node.dc,
    socketOptions: { connectTimeout: timeoutMs, readTimeout: timeoutMs },
    // Short-lived, like the probe: no heartbeat (see probe.ts: its timer can outlive a closed connection).
    pooling: { warmup: false, heartBeatInterval: 0 },
  });
  try {
    await client.connect();
    const host = client.hosts.get(contact);
    if (host === undefined) throw new Error(`${contact} is not among the ring's nodes`);
    const result = await client.execute(
      'SELECT address, generation, status_with_port, status, rpc_ready FROM system_views.gossip_info',
      [],
      { host },
    );
    return new Map(
      result.rows.map((row) => [
        String(row.get('address')),
        {
          // Peers gossip STATUS_WITH_PORT only; the legacy STATUS is there for the node itself.
          status: String(row.get('status_with_port') ?? row.get('status') ?? '').split(',')[0]!,
          generation: Number(row.get('generation')),
          rpcReady: row.get('rpc_ready') === 'true',
        },
      ]),
    );
  } finally {
    await client.shutdown().catch(() => {});
  }
}

/**
 * "UN" for `node` among `members`: it sees every member as NORMAL, and every other member sees it as NORMAL
 * with CQL up, in its current generation (a member still holding the generation from before a crash has
 * not heard of the restart yet).
 */
async function waitInRing(
  node: NodeConfig,
  members: readonly NodeConfig[],
  env: ToolEnvironment,
): Promise<void> {
  const deadline = Date.now() + env.startTimeoutMs;
  let missing = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      missing = await notYetInRing(node, members);
      if (missing === '') return;
    } catch (error) {
      missing = (error as Error).message;
    }
    await sleep(500);
  }
  throw new Error(
    `'${node.name}' (${node.address}) not in the ring after ${env.startTimeoutMs / 1000} s: ${missing}`,
  );
}

async function notYetInRing(node: NodeConfig, members: readonly NodeConfig[]): Promise<string> {
  const own = await gossipView(node);
  const self = own.get(node.address);
  if (self === undefined || self.status !== 'NORMAL')
    return `${node.address} is ${self?.status || 'not in its own gossip'}`;
  for (const member of members) {
    if (member.address === node.address) continue;
    if (own.get(member.address)?.status !== 'NORMAL')
      return `${node.address} does not see ${member.address} as NORMAL`;
    const seen = (await gossipView(member)).get(node.address);
    if (seen?.status !== 'NORMAL' || seen.generation !== self.generation || !seen.rpcReady) {
      return `${member.address} does not see ${node.address} as NORMAL with CQL up in its current generation yet`;
    }
  }
  return '';
}

export interface RingNodeStatus {
  readonly name: string;
  readonly address: string;
  readonly dc: string;
  readonly rack: string;
  readonly token: string;
  /** Like nodetool's first column: U/D = answers CQL itself or not; N/J/L/M = its gossip state. */
  readonly state: string;
  readonly pid?: number;
  readonly rssMb?: number;
  /** The wall clock offset (seconds) its process runs with (`ring restart --clock-offset`), when not 0. */
  readonly clockOffsetSeconds?: number;
}

export interface RingStatus {
  readonly name: string;
  readonly mode: string;
  readonly url: string;
  /** The node whose gossip gave the states, if any answered. */
  readonly seenBy?: string;
  readonly nodes: readonly RingNodeStatus[];
}

const STATE_LETTERS: Record<string, string> = {
  NORMAL: 'N',
  BOOT: 'J',
  LEAVING: 'L',
  LEFT: 'L',
  MOVING: 'M',
};

export async function ringStatus(name: string, env: ToolEnvironment): Promise<RingStatus> {
  const ring = readRing(name, env);
  const up = await Promise.all(ring.nodes.map(async (node) => (await probeNode(node)).ok));
  const observer = ring.nodes.find((_, i) => up[i]);
  const view = observer ? await gossipView(observer).catch(() => undefined) : undefined;
  return {
    name,
    mode: ring.options.mode,
    url: ringUrl(ring),
    ...(observer && view && { seenBy: observer.address }),
    nodes: ring.nodes.map((node, i) => {
      const pid = runningPid(nodePaths(env, node.name));
      const rss = pid === undefined ? undefined : rssMb(pid);
      const offset = pid === undefined ? undefined : processClockOffset(pid);
      const gossip = view?.get(node.address)?.status;
      return {
        name: node.name,
        address: node.address,
        dc: node.dc,
        rack: node.rack,
        token: node.initialToken ?? '',
        state: `${up[i] ? 'U' : 'D'}${(gossip && STATE_LETTERS[gossip]) ?? '?'}`,
        ...(pid !== undefined && { pid }),
        ...(rss !== undefined && { rssMb: rss }),
        ...(offset !== undefined && offset !== 0 && { clockOffsetSeconds: offset }),
      };
    }),
  };
}

export function describeRingStatus(status: RingStatus): string {
  const rows = [
    ['--', 'Address', 'DC', 'Rack', 'Pid', 'RSS', 'Clock', 'Token'],
    ...status.nodes.map((n) => [
      n.state,
      n.address,
      n.dc,
      n.rack,
      String(n.pid ?? '-'),
      n.rssMb === undefined ? '-' : `${n.rssMb} MB`,
      n.clockOffsetSeconds === undefined
        ? '-'
        : `${n.clockOffsetSeconds > 0 ? '+' : ''}${n.clockOffsetSeconds}s`,
      n.token,
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const table = rows.map((row) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  return [
    `Ring '${status.name}' (mode ${status.mode}), states as seen by ${status.seenBy ?? 'no node (none answers)'}`,
    `Status=Up/Down (answers CQL), State=Normal/Joining/Leaving/Moving (gossip)`,
    ...table,
    `URL: ${status.url}`,
  ].join('\n');
}
