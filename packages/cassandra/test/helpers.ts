import { randomBytes } from 'node:crypto';
import { serverUrl } from '@es/servers';
import { requireBackend } from '@es/servers/jest';
import {
  CassandraDatastore,
  CassandraSettings,
  type CassandraSettingsOptions,
  type CqlTable,
} from '../src/index.js';

/** Where the tests' node is: ES_CASSANDRA_URL, else 127.0.0.1:9042 (see tools/servers). */
export const cassandraUrl = serverUrl('cassandra');

/** Settings for the tests' node; `options` win over the URL. */
export function testSettings(options: CassandraSettingsOptions = {}): CassandraSettings {
  return new CassandraSettings({ url: cassandraUrl, ...options });
}

/** The tests' node, with the default keyspace. */
export const serverSettings = testSettings();

/** The one probe's answer, read while jest collects tests: fails under CI=true, skips loudly otherwise. */
export const cassandraAvailable = requireBackend('cassandra');

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
    settings: testSettings({ keyspace, ...options }),
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
    // A schema change waits for agreement: on a loaded machine it can outlast a short request timeout.
    await datastore.client.execute(`DROP KEYSPACE IF EXISTS ${datastore.settings.keyspace}`, [], {
      readTimeout: 120_000,
    });
  } finally {
    await datastore.close();
  }
}

/**
 * A datastore with short request timeouts (the feed's tests: hint horizons pass within seconds), its
 * keyspace created first with the default timeouts (schema changes are slow on a loaded machine).
 */
export async function openShortTimeoutDatastore(
  keyspace: string,
  requestTimeoutMs: number,
): Promise<CassandraDatastore> {
  await (await openDatastore(keyspace, [])).close();
  return openDatastore(keyspace, [], { requestTimeoutMs });
}
