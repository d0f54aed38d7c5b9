import {
  CassandraActiveRecordStrategy,
  CassandraDatastore,
  CassandraSettings,
  CqlIntegerSequencedItem,
} from '@es/cassandra';
import { ExampleApplication } from '@es/example';

/**
 * The example application on Cassandra. Settings come from the environment (CASSANDRA_HOSTS,
 * CASSANDRA_PORT, CASSANDRA_KEYSPACE, ...) with defaults for a local node: 127.0.0.1:9042, keyspace
 * `eventsourcing`. Creates the keyspace and table if missing; `app.close()` closes the connection.
 */
export async function createApplication(
  settings: CassandraSettings = new CassandraSettings(),
): Promise<ExampleApplication> {
  const datastore = new CassandraDatastore({ settings, tables: [CqlIntegerSequencedItem] });
  await datastore.setupConnection();
  try {
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
export function dataLocation(settings: CassandraSettings = new CassandraSettings()): string {
  return `Cassandra at ${settings.address}, table ${settings.keyspace}.${CqlIntegerSequencedItem.tableName}`;
}
