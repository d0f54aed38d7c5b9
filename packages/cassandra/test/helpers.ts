import { randomBytes } from 'node:crypto';
import { canConnect, requireServer } from '@es/testing';
import {
  CassandraDatastore,
  CassandraSettings,
  type CassandraSettingsOptions,
  type CqlTable,
} from '../src/index.js';

/** The node the tests use: 127.0.0.1:9042 unless CASSANDRA_HOSTS / CASSANDRA_PORT say otherwise. */
export const serverSettings = new CassandraSettings();

/** Checked once per test file while jest collects tests: fails under CI=true, skips loudly otherwise. */
export const cassandraAvailable = requireServer(
  `Cassandra at ${serverSettings.address}`,
  () => canConnect(serverSettings.hosts[0]!, serverSettings.port),
  'bash scripts/cassandra/cassandra.sh start (from the repository root)',
);

/** A fresh keyspace name per test file, so files never see each other's data. */
export function testKeyspace(name: string): string {
  return `es_test_${name}_${randomBytes(4).toString('hex')}`;
}

/** A connected datastore on its own keyspace, with its tables set up. */
export async function openDatastore(
  keyspace: string,
  tables: readonly CqlTable[],
  options: CassandraSettingsOptions = {},
): Promise<CassandraDatastore> {
  const datastore = new CassandraDatastore({
    settings: new CassandraSettings({ keyspace, ...options }),
    tables,
  });
  await datastore.setupConnection();
  await datastore.setupTables();
  return datastore;
}

/** Drops the test keyspace and closes the connection. */
export async function dropAndClose(datastore: CassandraDatastore | undefined): Promise<void> {
  if (datastore === undefined) return;
  try {
    await datastore.client.execute(`DROP KEYSPACE IF EXISTS ${datastore.settings.keyspace}`);
  } finally {
    await datastore.close();
  }
}
