/**
 * Network partitions between the nodes of a ring on loopback, in both directions, while every node keeps
 * running and serving its own clients: iptables rules that drop (no reset, as a blackhole does) the
 * internode traffic between two sides of the ring, in a chain of this tool's own so that healing is one flush.
 *
 * Why a group per node: Cassandra 5.0 does not bind its outgoing internode connections to the node's own
 * address (every connection to a storage port comes from 127.0.0.1, whichever node opened it), so no rule on
 * addresses can tell one node's outgoing messages from another's. Started as root, each node runs with a
 * primary group of its own (`nodeGroupId`), and iptables' owner match tells whose packets they are: a rule
 * per pair of nodes on opposite sides drops what the one's sockets send to the other's storage port. The
 * native-protocol port (CQL) is untouched: a cut-off node still answers its clients, as a node on the
 * wrong side of a real partition does.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

/**
 * The iptables rules (arguments after `iptables -w`) that cut `sideA` and `sideB` apart, both ways: for each
 * pair, what the one's sockets send to the other's storage port. (Cassandra 5.0's internode connections
 * are one-way: a node sends its messages only on connections it opened, so this stops every message
 * between the sides, and new connections too.) Each rule is commented with its direction, `a-to-b` or
 * `b-to-a`, which `partitionDrops` counts by.
 */
export function partitionRules(sideA: readonly NodeConfig[], sideB: readonly NodeConfig[]): string[][] {
  const rule = (from: NodeConfig, to: NodeConfig, direction: string) => [
    '-A',
    PARTITION_CHAIN,
    '-p',
    'tcp',
    '-m',
    'owner',
    '--gid-owner',
    String(nodeGroupId(from.address)),
    '-d',
    to.address,
    '--dport',
    String(to.storagePort),
    '-m',
    'comment',
    '--comment',
    direction,
    '-j',
    'DROP',
  ];
  return sideA.flatMap((a) => sideB.flatMap((b) => [rule(a, b, 'a-to-b'), rule(b, a, 'b-to-a')]));
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

/**
 * Why the running nodes cannot be told apart by group (undefined when they can): each must run with its
 * own group (`nodeGroupId`), as this tool starts them as root; a ring started before, or not as root,
 * would get rules that match nothing.
 */
export function groupsMismatch(nodes: readonly { config: NodeConfig; pid: number }[]): string | undefined {
  for (const { config, pid } of nodes) {
    let gid: number | undefined;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      gid = Number(/^Gid:\s+(\d+)/m.exec(status)?.[1]);
    } catch {
      return `cannot read /proc/${pid}/status of '${config.name}'`;
    }
    if (gid !== nodeGroupId(config.address)) {
      return `'${config.name}' (${config.address}) runs with group ${gid}, not ${nodeGroupId(config.address)}: restart the ring as root with this tool (pnpm cassandra ring stop, then ring start)`;
    }
  }
  return undefined;
}

/**
 * Cuts the ring in two, `sideA` from `sideB`, both ways, until `healPartitions`: every rule at once (one
 * `iptables-restore` transaction), so no message crosses while some pairs are cut and others not yet.
 */
export function partition(sideA: readonly NodeConfig[], sideB: readonly NodeConfig[]): void {
  const why = partitionUnavailable();
  if (why !== undefined) throw new Error(`cannot partition: ${why}`);
  ensureChain();
  const rules = partitionRules(sideA, sideB).map((rule) => rule.join(' '));
  const restored = spawnSync('iptables-restore', ['-w', '--noflush'], {
    input: ['*filter', ...rules, 'COMMIT', ''].join('\n'),
    encoding: 'utf8',
  });
  if (restored.status !== 0) throw new Error(`iptables-restore: ${`${restored.stderr ?? ''}`.trim()}`);
}

/**
 * Removes every partition this tool made (the chain stays, empty). Nothing to do when there is none, or
 * no iptables, or no right to use it.
 */
export function healPartitions(): void {
  if (process.getuid?.() !== 0 || !iptables(['-L', PARTITION_CHAIN, '-n']).ok) return;
  const flushed = iptables(['-F', PARTITION_CHAIN]);
  if (!flushed.ok) throw new Error(`iptables -F ${PARTITION_CHAIN}: ${flushed.output}`);
}

/** How many packets the rules in force have dropped, by direction (`a-to-b`, `b-to-a`). */
export function partitionDrops(): Record<string, number> {
  const listed = iptables(['-L', PARTITION_CHAIN, '-v', '-x', '-n']);
  const drops: Record<string, number> = {};
  if (!listed.ok) return drops;
  // After "Chain ..." and the column titles, one line per rule: its packet count first, its comment last.
  for (const line of listed.output.split('\n').slice(2)) {
    const direction = /\/\* (\S+) \*\//.exec(line)?.[1];
    if (direction !== undefined)
      drops[direction] = (drops[direction] ?? 0) + Number(line.trim().split(/\s+/)[0]);
  }
  return drops;
}
