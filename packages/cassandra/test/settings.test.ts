import { SettingsError, ValidationError } from '@es/core';
import { assertIdentifier } from '@es/core/backend';
import { types } from 'cassandra-driver';
import {
  CassandraActiveRecordStrategy,
  CassandraSettings,
  CqlIntegerSequencedItem,
  CqlSnapshot,
  CqlTimestampSequencedItem,
} from '../src/index.js';

/** The SettingsError thrown by `make`, for checking its field and message. */
function settingsError(make: () => unknown): SettingsError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return error as SettingsError;
  }
  throw new Error('expected a SettingsError');
}

describe('CassandraSettings', () => {
  it('defaults work against a local node, at LOCAL_QUORUM and LOCAL_SERIAL', () => {
    const s = new CassandraSettings({}, {});
    expect({ hosts: s.hosts, port: s.port, dc: s.localDataCenter, keyspace: s.keyspace }).toEqual({
      hosts: ['127.0.0.1'],
      port: 9042,
      dc: 'datacenter1',
      keyspace: 'eventsourcing',
    });
    expect([s.readConsistency, s.writeConsistency, s.serialConsistency]).toEqual([
      'LOCAL_QUORUM',
      'LOCAL_QUORUM',
      'LOCAL_SERIAL',
    ]);
    expect(s.consistencyCodes).toEqual({
      read: types.consistencies.localQuorum,
      write: types.consistencies.localQuorum,
      serial: types.consistencies.localSerial,
    });
    // Every statement reads them: computed once (the name-to-code conversion is a regex).
    expect(s.consistencyCodes).toBe(s.consistencyCodes);
    expect(s.replicationCql).toBe("{'class': 'SimpleStrategy', 'replication_factor': 1}");
    expect(s.username).toBeUndefined();
  });

  it("reads the original's environment variables", () => {
    const s = new CassandraSettings(
      {},
      {
        CASSANDRA_HOSTS: 'node1, node2 ,10.0.0.3',
        CASSANDRA_PORT: '9142',
        CASSANDRA_KEYSPACE: 'Events',
        CASSANDRA_USERNAME: 'app',
        CASSANDRA_PASSWORD: 'secret',
        CASSANDRA_CONSISTENCY_LEVEL: 'QUORUM',
        CASSANDRA_REPLICATION_FACTOR: '3',
        CASSANDRA_REPLICATION_STRATEGY: 'NetworkTopologyStrategy',
        CASSANDRA_LOCAL_DATACENTER: 'dc1',
        CASSANDRA_SERIAL_CONSISTENCY_LEVEL: 'serial',
      },
    );
    expect(s.hosts).toEqual(['node1', 'node2', '10.0.0.3']);
    expect(s.port).toBe(9142);
    expect(s.keyspace).toBe('events');
    expect([s.username, s.password]).toEqual(['app', 'secret']);
    expect([s.readConsistency, s.writeConsistency, s.serialConsistency]).toEqual([
      'QUORUM',
      'QUORUM',
      'SERIAL',
    ]);
    expect(s.replicationCql).toBe("{'class': 'NetworkTopologyStrategy', 'dc1': 3}");
    expect(s.address).toBe('node1,node2,10.0.0.3:9142');
    expect(JSON.stringify(s)).not.toContain('secret');
  });

  it('options override the environment; a specific level overrides the general one', () => {
    const env = {
      CASSANDRA_PORT: '9142',
      CASSANDRA_CONSISTENCY_LEVEL: 'ONE',
      CASSANDRA_WRITE_CONSISTENCY_LEVEL: 'ALL',
    };
    const s = new CassandraSettings({ port: 9043, readConsistency: 'localQuorum' }, env);
    expect(s.port).toBe(9043);
    expect([s.readConsistency, s.writeConsistency]).toEqual(['LOCAL_QUORUM', 'ALL']);
    const t = new CassandraSettings({ consistency: 'each_quorum', readConsistency: 'quorum' }, env);
    expect([t.readConsistency, t.writeConsistency]).toEqual(['QUORUM', 'EACH_QUORUM']);
  });

  it.each([
    [{}, { CASSANDRA_PORT: 'abc' }, 'port', 'CASSANDRA_PORT="abc"'],
    [{ port: 70000 }, {}, 'port', 'at most 65535'],
    [{ port: 1.5 }, {}, 'port', 'integer'],
    [{}, { CASSANDRA_REPLICATION_FACTOR: '0' }, 'replicationFactor', 'at least 1'],
    [{}, { CASSANDRA_CONSISTENCY_LEVEL: 'ANY' }, 'readConsistency', 'LOCAL_QUORUM'],
    [{ readConsistency: 'EACH_QUORUM' }, {}, 'readConsistency', 'option readConsistency'],
    [{ writeConsistency: 'SERIAL' }, {}, 'writeConsistency', 'one of'],
    [{ serialConsistency: 'QUORUM' }, {}, 'serialConsistency', 'SERIAL or LOCAL_SERIAL'],
    [{ replicationStrategy: 'Simple' as never }, {}, 'replicationStrategy', 'SimpleStrategy'],
    [{ hosts: [] }, {}, 'hosts', 'at least one host'],
    [{}, { CASSANDRA_HOSTS: 'a b' }, 'hosts', 'host name'],
    [{ keyspace: 'my-keyspace' }, {}, 'keyspace', 'plain identifier'],
    [{}, { CASSANDRA_KEYSPACE: 'x; DROP KEYSPACE y' }, 'keyspace', 'plain identifier'],
    [{ keyspace: 'k'.repeat(49) }, {}, 'keyspace', 'at most 48'],
    [{ username: 'app' }, {}, 'password', 'together'],
    [{}, { CASSANDRA_PASSWORD: 'secret' }, 'username', 'together'],
    [{ requestTimeoutMs: 0 }, {}, 'requestTimeoutMs', 'at least 1'],
    [{ fetchSize: -5 }, {}, 'fetchSize', 'at least 1'],
  ] as const)('rejects %j %j: %s', (options, env, field, message) => {
    const error = settingsError(() => new CassandraSettings(options, env));
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
    expect(error.message).toContain(field);
  });

  it('reads everything from one cassandra:// URL; explicit options win, the environment loses', () => {
    const s = new CassandraSettings(
      {
        url: 'cassandra://app:s%3Acret@node1:9142,node2/Events?localDataCenter=dc1&consistency=QUORUM&fetchSize=50',
        fetchSize: 70,
      },
      { CASSANDRA_HOSTS: 'ignored', CASSANDRA_KEYSPACE: 'ignored' },
    );
    expect({
      hosts: s.hosts,
      port: s.port,
      keyspace: s.keyspace,
      dc: s.localDataCenter,
      read: s.readConsistency,
      fetchSize: s.fetchSize,
      user: s.username,
      password: s.password,
    }).toEqual({
      hosts: ['node1', 'node2'],
      port: 9142,
      keyspace: 'events',
      dc: 'dc1',
      read: 'QUORUM',
      fetchSize: 70,
      user: 'app',
      password: 's:cret',
    });
    expect(new CassandraSettings({ url: 'cassandra://127.0.0.1' }, { CASSANDRA_PORT: '9500' }).port).toBe(
      9500,
    );
  });

  it.each([
    ['http://node1', 'expected cassandra://'],
    ['cassandra://a:9042,b:9142', 'same port'],
    ['cassandra://a?colour=blue', 'unknown option "colour"'],
  ])('refuses the URL %s', (url, message) => {
    const error = settingsError(() => new CassandraSettings({ url }, {}));
    expect(error.field).toBe('url');
    expect(error.message).toContain(message);
  });

  it('names the URL as the source of a bad value', () => {
    const error = settingsError(() => new CassandraSettings({ url: 'cassandra://a?consistency=MOST' }, {}));
    expect(error.message).toContain("url's consistency");
  });
});

describe('table definitions', () => {
  it('have default names and bucket sizes, and make renamed or rebucketed copies', () => {
    expect([
      CqlIntegerSequencedItem.tableName,
      CqlTimestampSequencedItem.tableName,
      CqlSnapshot.tableName,
    ]).toEqual(['integer_sequenced_items', 'timestamp_sequenced_items', 'snapshots']);
    const t = CqlIntegerSequencedItem.withTableName('Orders').withBucketSize(8);
    expect([t.kind, t.tableName, t.bucketSize, t.indexTableName]).toEqual([
      'integer',
      'orders',
      8,
      'orders_buckets',
    ]);
    expect(CqlIntegerSequencedItem.bucketSize).toBe(10_000);
    expect([t.bucketOf(0), t.bucketOf(7), t.bucketOf(8)]).toEqual([0, 0, 1]);
    expect(t.layout).toBe('@es/cassandra kind=integer bucket_size=8');
    expect(t.createStatements('ks').join('\n')).toContain('head bigint static');
    expect(CqlTimestampSequencedItem.createStatements('ks')[0]).toContain('position double');
    expect(CqlSnapshot.createStatements('ks')[0]).toContain('CLUSTERING ORDER BY (position DESC)');
  });

  it.each(['orders-2024', '1orders', 'a b', 'x;drop', '', 'ü', 'o'.repeat(41)])(
    'rejects the table name %j',
    (name) => {
      let error: unknown;
      try {
        CqlIntegerSequencedItem.withTableName(name);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('tableName');
    },
  );

  it('rejects a bucket size that is not a positive integer', () => {
    for (const size of [0, -1, 2.5, NaN])
      expect(() => CqlIntegerSequencedItem.withBucketSize(size)).toThrow(ValidationError);
  });

  it('a 40-character name fits with its index table', () => {
    const name = 't'.repeat(40);
    expect(CqlIntegerSequencedItem.withTableName(name).indexTableName).toBe(
      assertIdentifier(`${name}_buckets`, 'x'),
    );
  });

  it('a strategy needs a table definition, and takes its position kind from it', () => {
    expect(() => new CassandraActiveRecordStrategy({ table: undefined as never })).toThrow(ValidationError);
    expect(() => new CassandraActiveRecordStrategy({ table: 'events' as never })).toThrow(
      'table must be a table definition such as CqlIntegerSequencedItem',
    );
    expect(new CassandraActiveRecordStrategy({ table: CqlTimestampSequencedItem }).positionKind).toBe(
      'timestamp',
    );
    const s = new CassandraActiveRecordStrategy({ table: CqlIntegerSequencedItem });
    expect([s.positionKind, s.contiguous]).toEqual(['integer', true]);
    expect(new CassandraActiveRecordStrategy({ table: CqlSnapshot }).contiguous).toBe(false);
  });
});

describe('replication across several data centres', () => {
  const nts = (map: string) => `{'class': 'NetworkTopologyStrategy', ${map}}`;

  it.each([
    ['an option', { replication: { dc1: 3, dc2: 3 }, localDataCenter: 'dc1' }, {}],
    ['a string option', { replication: 'dc1:3, dc2:3', localDataCenter: 'dc1' }, {}],
    ['the URL', { url: 'cassandra://h1,h2/ks?localDataCenter=dc1&replication=dc1:3,dc2:3' }, {}],
    ['the environment', {}, { CASSANDRA_REPLICATION: 'dc1:3,dc2:3', CASSANDRA_LOCAL_DATACENTER: 'dc1' }],
  ])('from %s: NetworkTopologyStrategy naming each data centre', (_, options, env) => {
    const s = new CassandraSettings(options, env);
    expect(s.replicationStrategy).toBe('NetworkTopologyStrategy');
    expect(s.replication).toEqual({ dc1: 3, dc2: 3 });
    expect(s.replicationCql).toBe(nts("'dc1': 3, 'dc2': 3"));
  });

  it('without it, NetworkTopologyStrategy keeps replicationFactor in the local data centre, SimpleStrategy in the ring', () => {
    const local = new CassandraSettings(
      { replicationStrategy: 'NetworkTopologyStrategy', replicationFactor: 3, localDataCenter: 'dc1' },
      {},
    );
    expect(local.replication).toEqual({ dc1: 3 });
    expect(local.replicationCql).toBe(nts("'dc1': 3"));
    expect(new CassandraSettings({ replicationFactor: 3 }, {}).replication).toBeUndefined();
  });

  it.each([
    [{ replication: 'dc1:3,dc2' }, 'replication', 'integer'],
    [{ replication: { dc1: 0 } }, 'replication', 'at least 1'],
    [{ replication: '' }, 'replication', 'at least one data centre'],
    [{ replication: { "dc1'; DROP": 3 } }, 'replication', 'letters, digits'],
    [{ replication: { dc2: 3 } }, 'replication', 'not the local data centre "datacenter1"'],
    [
      { replication: { datacenter1: 3 }, replicationStrategy: 'SimpleStrategy' as const },
      'replication',
      'needs NetworkTopologyStrategy',
    ],
  ])('refuses %j', (options, field, message) => {
    const error = settingsError(() => new CassandraSettings(options, {}));
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });
});
