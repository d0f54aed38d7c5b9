import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
} from '@es/cassandra';
import { ExampleApplication } from '@es/example';

/**
 * CASSANDRA_HOSTS, CASSANDRA_PORT, CASSANDRA_KEYSPACE, ... else a local node: 127.0.0.1:9042, keyspace
 * `eventsourcing`.
 */
export function defaultSettings(env: NodeJS.ProcessEnv = process.env): CassandraSettings {
  return new CassandraSettings({}, env);
}

/**
 * The example application on Cassandra: creates the keyspace and table if missing; `app.close()`
 * closes the connection.
 */
export async function createApplication(
  settings: CassandraSettings = defaultSettings(),
): Promise<ExampleApplication> {
  const datastore = new CassandraDatastore({ settings, tables: [CqlIntegerSequencedItem] });
  try {
    await datastore.setupConnection();
    await datastore.setupTables();
  } catch (error) {
    await datastore.close();
    throw error;
  }
  return new ExampleApplication({
    activeRecordStrategy: new CassandraActiveRecordStrategy({
      activeRecordClass: CqlIntegerSequencedItem,
      datastore,
    }),
    onClose: () => datastore.close(),
  });
}

/** Where `createApplication(settings)` keeps the events. */
export function dataLocation(settings: CassandraSettings = defaultSettings()): string {
  return `Cassandra at ${settings.address}, table ${settings.keyspace}.${CqlIntegerSequencedItem.tableName}`;
}
