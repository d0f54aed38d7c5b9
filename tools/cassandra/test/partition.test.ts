import { type NodeConfig, ringNodes } from '../src/config.js';
import { rootLauncher } from '../src/node.js';
import { parseCommand } from '../src/options.js';
import { groupsMismatch, nodeGroupId, partitionRules } from '../src/partition.js';

function ring(...argv: string[]) {
  const command = parseCommand(['ring', 'start', ...argv]);
  if (command.command !== 'ring start') throw new Error(command.command);
  return ringNodes(command.ring);
}

describe('partitions', () => {
  it('gives every node of a ring a group of its own, from its address', () => {
    const nodes = ring('--nodes', '5', '--datacenters', '2');
    const groups = nodes.map((node) => nodeGroupId(node.address));
    expect(new Set(groups).size).toBe(nodes.length);
    expect(nodeGroupId('127.0.0.4')).toBe(20_004);
    expect(nodeGroupId('127.0.1.4')).toBe(20_260);
    expect(() => nodeGroupId('localhost')).toThrow(/not an IPv4 address/);
    expect(() => nodeGroupId('127.0.0.256')).toThrow(/not an IPv4 address/);
  });

  it('launches a node as root with that group and without CAP_IPC_LOCK', () => {
    const [node] = ring('--nodes', '3');
    expect(rootLauncher(node!, '/usr/bin/java')).toEqual([
      'setpriv',
      '--bounding-set=-ipc_lock',
      `--regid=${nodeGroupId(node!.address)}`,
      '--clear-groups',
      '/usr/bin/java',
    ]);
  });

  it("cuts two sides apart with one rule per pair and direction, by the sender's group and the receiver's storage port, never the clients' port", () => {
    const nodes = ring('--nodes', '3');
    const [a, b, c] = nodes as [NodeConfig, NodeConfig, NodeConfig];
    const rules = partitionRules([c], [a, b]);
    // Written out: node n's group is 20000 + 256 * third octet + fourth octet (127.0.0.2-4: 20002-20004).
    const line = (gid: number, to: string, direction: string) =>
      `-A ES_CASSANDRA_PARTITION -p tcp -m owner --gid-owner ${gid} -d ${to} --dport 7000 -m comment --comment ${direction} -j DROP`;
    expect([a.address, b.address, c.address, a.storagePort]).toEqual([
      '127.0.0.2',
      '127.0.0.3',
      '127.0.0.4',
      7000,
    ]);
    expect(rules.map((r) => r.join(' '))).toEqual([
      line(20004, '127.0.0.2', 'a-to-b'),
      line(20002, '127.0.0.4', 'b-to-a'),
      line(20004, '127.0.0.3', 'a-to-b'),
      line(20003, '127.0.0.4', 'b-to-a'),
    ]);
    expect(rules.flat()).not.toContain(String(c.port));
    expect(partitionRules(nodes.slice(0, 2), nodes.slice(2))).toHaveLength(4);
  });

  it('refuses nodes that do not run with their own group (a ring started before, or not as root)', () => {
    const [node] = ring('--nodes', '3');
    // This process runs with its own group, not the node's.
    expect(groupsMismatch([{ config: node!, pid: process.pid }])).toMatch(
      new RegExp(`runs with group ${process.getgid!()}, not ${nodeGroupId(node!.address)}: restart the ring`),
    );
    expect(groupsMismatch([{ config: node!, pid: -1 }])).toMatch(/cannot read \/proc\/-1\/status/);
    expect(groupsMismatch([])).toBeUndefined();
  });
});
