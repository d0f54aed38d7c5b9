import {
  cassandraYaml,
  evenToken,
  fetchPom,
  jvmArgs,
  logbackXml,
  nodePaths,
  rackdcProperties,
  render,
  ringNodes,
  singleNode,
} from '../src/config.js';
import { commandLineClockOffset } from '../src/clock.js';
import { parseCommand, toolEnvironment } from '../src/options.js';

const env = toolEnvironment({ ES_CASSANDRA_HOME: '/cache' });

function node(...argv: string[]) {
  const command = parseCommand(['start', ...argv]);
  if (command.command !== 'start') throw new Error(command.command);
  return singleNode(command.node);
}

function ring(...argv: string[]) {
  const command = parseCommand(['ring', 'start', ...argv]);
  if (command.command !== 'ring start') throw new Error(command.command);
  return ringNodes(command.ring);
}

/** The top-level `key: value` pairs of a generated cassandra.yaml. */
function keys(yaml: string): Record<string, string> {
  return Object.fromEntries([...yaml.matchAll(/^([a-z_]+):[ ]?(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

describe('cassandra.yaml', () => {
  it('mode fast: periodic commit log every 10 s (skip_sync then skips even that)', () => {
    const main = node();
    const yaml = keys(cassandraYaml(main, nodePaths(env, 'main')));
    expect(yaml).toMatchObject({
      cluster_name: 'es-test-main',
      listen_address: '127.0.0.1',
      rpc_address: '127.0.0.1',
      native_transport_port: '9042',
      storage_port: '7000',
      commitlog_sync: 'periodic',
      commitlog_sync_period: '10000ms',
      commitlog_directory: '/cache/instances/main/data/commitlog',
      endpoint_snitch: 'GossipingPropertyFileSnitch',
      dynamic_snitch: 'false',
      authenticator: 'AllowAllAuthenticator',
      authorizer: 'AllowAllAuthorizer',
      paxos_variant: 'v2',
      storage_compatibility_mode: 'NONE',
      hinted_handoff_enabled: 'false',
      auto_snapshot: 'false',
    });
    expect(yaml).not.toHaveProperty('initial_token');
  });

  it('mode durable: a write is acknowledged after its commit log is fsynced (batch), with no period', () => {
    const yaml = keys(cassandraYaml(node('--mode', 'durable'), nodePaths(env, 'main')));
    expect(yaml.commitlog_sync).toBe('batch');
    expect(yaml).not.toHaveProperty('commitlog_sync_period');
  });

  it('--auth: PasswordAuthenticator and CassandraAuthorizer, no auth caches', () => {
    const yaml = keys(cassandraYaml(node('--auth', '--name', 'auth'), nodePaths(env, 'auth')));
    expect(yaml).toMatchObject({
      authenticator: 'PasswordAuthenticator',
      authorizer: 'CassandraAuthorizer',
      roles_validity: '0ms',
      credentials_validity: '0ms',
    });
  });

  it('leaves no placeholder unfilled and names the seed', () => {
    const text = cassandraYaml(node(), nodePaths(env, 'main'));
    expect(text).not.toMatch(/\$\{/);
    expect(text).toContain("- seeds: '127.0.0.1:7000'");
  });
});

describe('the JVM command line', () => {
  const paths = nodePaths(env, 'main');
  const args = (mode: string) =>
    jvmArgs(node('--mode', mode), paths, '/cache/5.0.9/lib', '/lib/jamm-0.4.0.jar');

  it('mode fast turns off fsync and system-table syncs; durable keeps both', () => {
    expect(args('fast')).toEqual(
      expect.arrayContaining(['-Dcassandra.skip_sync=true', '-Dcassandra.unsafesystem=true']),
    );
    expect(args('durable').filter((a) => /skip_sync|unsafesystem/.test(a))).toEqual([]);
  });

  it('points at the generated files, loads jamm, and ends with the classpath and main class', () => {
    const fast = args('fast');
    expect(fast).toEqual(
      expect.arrayContaining([
        '-Xms1G',
        '-Xmx1G',
        '-Dcassandra.config=file:///cache/instances/main/cassandra.yaml',
        '-Dcassandra-rackdc.properties=file:///cache/instances/main/cassandra-rackdc.properties',
        '-Dlogback.configurationFile=file:///cache/instances/main/logback.xml',
        '-javaagent:/lib/jamm-0.4.0.jar',
        '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
        '-Dcassandra.shutdown_announce_in_ms=0',
      ]),
    );
    expect(fast.slice(-3)).toEqual([
      '-cp',
      '/cache/5.0.9/lib/*',
      'org.apache.cassandra.service.CassandraDaemon',
    ]);
    expect(fast.some((a) => a.startsWith('-Dcassandra.jmx'))).toBe(false);
    expect(jvmArgs(node('--jmx-port', '7199'), paths, '/l', undefined)).toContain(
      '-Dcassandra.jmx.local.port=7199',
    );
  });

  it('with a clock offset, names OffsetClock and its offset in ms, and adds its classes to the classpath', () => {
    const skewed = jvmArgs(node(), paths, '/l', undefined, {
      offsetSeconds: -30,
      classes: '/c/offset-clock-1',
    });
    expect(skewed.slice(-3)).toEqual([
      '-cp',
      '/l/*:/c/offset-clock-1',
      'org.apache.cassandra.service.CassandraDaemon',
    ]);
    expect(skewed).toEqual(
      expect.arrayContaining(['-Dcassandra.clock=es.cassandra.OffsetClock', '-Des.clock.offset.ms=-30000']),
    );
    // ring status reads the offset back from the command line; a node without one is on the true clock.
    expect(commandLineClockOffset(skewed)).toBe(-30);
    expect(commandLineClockOffset(jvmArgs(node(), paths, '/l', undefined))).toBe(0);
    expect(jvmArgs(node(), paths, '/l', undefined).filter((a) => /clock|offset-clock/.test(a))).toEqual([]);
  });
});

describe('a ring', () => {
  it('puts three nodes on consecutive addresses, one seed, one cluster, durable, with hints on', () => {
    const nodes = ring();
    expect(nodes.map((n) => [n.name, n.address, n.dc, n.seeds, n.mode, n.heap])).toEqual([
      ['ring-1', '127.0.0.2', 'datacenter1', '127.0.0.2:7000', 'durable', '512M'],
      ['ring-2', '127.0.0.3', 'datacenter1', '127.0.0.2:7000', 'durable', '512M'],
      ['ring-3', '127.0.0.4', 'datacenter1', '127.0.0.2:7000', 'durable', '512M'],
    ]);
    const yaml = keys(cassandraYaml(nodes[1]!, nodePaths(env, 'ring-2')));
    expect(yaml).toMatchObject({
      cluster_name: 'es-ring-ring',
      listen_address: '127.0.0.3',
      native_transport_port: '9042',
      storage_port: '7000',
      commitlog_sync: 'batch',
      hinted_handoff_enabled: 'true',
      auto_bootstrap: 'false',
      initial_token: String(evenToken(1, 3)),
    });
  });

  it('spreads tokens evenly over the whole Murmur3 range', () => {
    expect(evenToken(0, 1)).toBe(-(2n ** 63n));
    expect(evenToken(1, 2)).toBe(0n);
    expect(ring().map((n) => n.initialToken)).toEqual([
      '-9223372036854775808',
      '-3074457345618258603',
      '3074457345618258602',
    ]);
  });

  it('splits nodes into data centres in address order, with tokens even within each and all distinct', () => {
    const nodes = ring('--nodes', '4', '--datacenters', '2');
    expect(nodes.map((n) => n.dc)).toEqual(['datacenter1', 'datacenter1', 'datacenter2', 'datacenter2']);
    expect(nodes.map((n) => n.initialToken)).toEqual([
      String(evenToken(0, 2)),
      String(evenToken(1, 2)),
      String(evenToken(0, 2) + 1n),
      String(evenToken(1, 2) + 1n),
    ]);
    expect(rackdcProperties(nodes[2]!)).toMatch(/^dc=datacenter2\nrack=rack1$/m);
  });
});

describe('the other templates', () => {
  it('fill every placeholder', () => {
    expect(logbackXml(nodePaths(env, 'main'))).toContain(
      '<file>/cache/instances/main/logs/system.log</file>',
    );
    expect(fetchPom('5.0.9')).toContain('<version>5.0.9</version>');
    expect(() => render('${missing}', {})).toThrow('template value missing: missing');
  });
});
