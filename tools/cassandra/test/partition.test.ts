import { ringNodes } from '../src/config.js';
import { rootLauncher } from '../src/node.js';
import { parseCommand } from '../src/options.js';
import { PARTITION_CHAIN, isolationRules, nodeGroupId } from '../src/partition.js';

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

  it("isolates a node by dropping what is sent to its storage port and what its own sockets send on one, not its clients' port", () => {
    const nodes = ring('--nodes', '3');
    const victim = nodes[2]!;
    const rules = isolationRules(victim, nodes);
    expect(rules).toEqual([
      [
        '-A',
        PARTITION_CHAIN,
        '-p',
        'tcp',
        '-d',
        victim.address,
        '--dport',
        String(victim.storagePort),
        '-j',
        'DROP',
      ],
      [
        '-A',
        PARTITION_CHAIN,
        '-p',
        'tcp',
        '-m',
        'owner',
        '--gid-owner',
        String(nodeGroupId(victim.address)),
        '-m',
        'multiport',
        '--ports',
        String(victim.storagePort),
        '-j',
        'DROP',
      ],
    ]);
    expect(rules.flat()).not.toContain(String(victim.port));
  });
});
