/**
 * Network partitions between the nodes of a ring on loopback, in both directions, while every node keeps
 * running and serving its own clients: iptables rules that drop (no reset, as a blackhole does) the
 * internode traffic of one node, in a chain of this tool's own so that healing is one flush.
 *
 * Why a group per node: Cassandra 5.0 does not bind its outgoing internode connections to the node's own
 * address (every connection to a storage port comes from 127.0.0.1, whichever node opened it), so no rule on
 * addresses can tell one node's outgoing messages from another's. Started as root, each node runs with a
 * primary group of its own (`nodeGroupId`), and iptables' owner match drops the packets of that node's
 * sockets: what it sends to the others' storage ports and what its accepted internode connections send
 * back. Traffic *to* its storage port is dropped by address. Its native-protocol port (CQL) is untouched:
 * an isolated node still answers its clients, as a node on the wrong side of a real partition does.
 */
import { spawnSync } from 'node:child_process';
import type { NodeConfig } from './config.js';

export const PARTITION_CHAIN = 'ES_CASSANDRA_PARTITION';

/** The group a node started as root runs with: 20000 + the last two octets of its address (127.0.0.4: 20004). */
export function nodeGroupId(address: string): number {
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new Error(`not an IPv4 address: ${address}`);
  }
  return 20_000 + octets[2]! * 256 + octets[3]!;
}

/** The iptables rules (arguments after `iptables -w`) that cut `node` off from the other nodes of `ring`. */
export function isolationRules(node: NodeConfig, ring: readonly NodeConfig[]): string[][] {
  const ports = [...new Set(ring.map((n) => n.storagePort))].sort((a, b) => a - b).join(',');
  const drop = ['-j', 'DROP'];
  return [
    // Everything sent to its storage port: the others' messages and their connection attempts.
    ['-A', PARTITION_CHAIN, '-p', 'tcp', '-d', node.address, '--dport', String(node.storagePort), ...drop],
    // Everything its own sockets send on a storage port (to the others, and back on connections they opened).
    [
      '-A',
      PARTITION_CHAIN,
      '-p',
      'tcp',
      '-m',
      'owner',
      '--gid-owner',
      String(nodeGroupId(node.address)),
      '-m',
      'multiport',
      '--ports',
      ports,
      ...drop,
    ],
  ];
}

function iptables(args: readonly string[]): { ok: boolean; output: string } {
  const result = spawnSync('iptables', ['-w', ...args], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stderr ?? ''}${result.stdout ?? ''}`.trim() };
}

/** Why partitions cannot be made here (undefined when they can): root and iptables with the owner match. */
export function partitionUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'partitions need root (iptables)';
  if (spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).status !== 0) {
    return 'setpriv (util-linux) is not installed: nodes cannot run with a group of their own';
  }
  const listed = iptables(['-L', 'OUTPUT', '-n']);
  if (!listed.ok)
    return `iptables is not usable: ${listed.output || 'not installed (apt-get install iptables)'}`;
  return undefined;
}

function ensureChain(): void {
  if (!iptables(['-L', PARTITION_CHAIN, '-n']).ok) {
    const made = iptables(['-N', PARTITION_CHAIN]);
    if (!made.ok) throw new Error(`iptables -N ${PARTITION_CHAIN}: ${made.output}`);
  }
  if (!iptables(['-C', 'OUTPUT', '-j', PARTITION_CHAIN]).ok) {
    const jumped = iptables(['-I', 'OUTPUT', '-j', PARTITION_CHAIN]);
    if (!jumped.ok) throw new Error(`iptables -I OUTPUT -j ${PARTITION_CHAIN}: ${jumped.output}`);
  }
}

/** Cuts `node` off from the rest of `ring`, both ways, until `healPartitions`. */
export function isolateNode(node: NodeConfig, ring: readonly NodeConfig[]): void {
  const why = partitionUnavailable();
  if (why !== undefined) throw new Error(`cannot partition: ${why}`);
  ensureChain();
  for (const rule of isolationRules(node, ring)) {
    const added = iptables(rule);
    if (!added.ok) throw new Error(`iptables ${rule.join(' ')}: ${added.output}`);
  }
}

/** Removes every partition this tool made (the chain stays, empty). Nothing to do when there is none. */
export function healPartitions(): void {
  if (!iptables(['-L', PARTITION_CHAIN, '-n']).ok) return;
  const flushed = iptables(['-F', PARTITION_CHAIN]);
  if (!flushed.ok) throw new Error(`iptables -F ${PARTITION_CHAIN}: ${flushed.output}`);
}

/** How many packets each rule in force has dropped, in the order `isolateNode` added them. */
export function partitionDrops(): number[] {
  const listed = iptables(['-L', PARTITION_CHAIN, '-v', '-x', '-n']);
  if (!listed.ok) return [];
  // "Chain ...", the column titles, then one line per rule starting with its packet count.
  return listed.output
    .split('\n')
    .slice(2)
    .filter((line) => line.trim() !== '')
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}
